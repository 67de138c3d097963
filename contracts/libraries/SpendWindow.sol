// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title SpendWindow
 * @notice Budget arithmetic for one spender of one asset: a sliding per-period cap and a lifetime cap.
 * @dev Model. Let `L = ceil(period / 3)` (the sub-bucket length) and, for a timestamp `t`, `idx(t) = t / L`.
 * A spend of `a` at time `t` is added to sub-bucket `idx(t)`. The amount "spent in the window" at time `now`
 * is the sum of the sub-buckets `idx(now) - 3 .. idx(now)` (four buckets). They cover every timestamp
 * `>= L * (idx(now) - 3)`, i.e. at least the last `3L >= period` seconds and at most the last `4L` seconds.
 *
 * Guarantee. If every spend is admitted only when `spentInWindow(now) + amount <= periodCap` (what
 * {tryRecord} does), then ANY `period` consecutive seconds see at most `periodCap` of spend. Proof: take the
 * last spend `t_k` inside a window `(x - period, x]`; every earlier spend of that window has time
 * `> t_k - period >= t_k - 3L >= L * (idx(t_k) - 3)`, so it was counted when `t_k` was admitted.
 * Calendar windows, by contrast, let up to twice the cap out around a boundary.
 *
 * Price of the guarantee (conservative, never lenient). A spend made at `t` keeps counting until
 * `L * (idx(t) + 4)` (exclusive), i.e. for between `3L + 1` and `4L` seconds: the budget it used frees up
 * between `period + 1` and `4 * ceil(period / 3)` seconds after the spend. When `period % 3 == 0` that is
 * `period + L = 4/3 * period`; otherwise `3L` is `period + 1` or `period + 2`, so at most 2 seconds later.
 * Equivalently, {tryRecord} never refuses a spend whose amount, added to everything spent in the last
 * `4L` seconds, fits in the cap.
 *
 * Storage. {State} is three slots: `lastIndex | lifetime` packed in one, the four `uint128` buckets in two.
 * Every function reads the three slots once and {record} writes back only the slots that changed.
 * The ring invariant: `buckets[j]` holds the spend of the unique index `i` in `lastIndex - 3 .. lastIndex`
 * with `i % 4 == j` (buckets of older indices are zeroed when the ring rolls forward).
 *
 * Caller obligations. `now_` must not go backwards (block.timestamp does not); `period` must be the same on
 * every call for a given `State`. Changing the period of a live `State` re-interprets its bucket indices:
 * call {clearWindow} first (it also resets `lastIndex`, otherwise a longer period can make the current index
 * smaller than `lastIndex` and every call would revert with {SpendWindowTimeWentBack}).
 * Caps are checked by the caller ({record} does not check them), so that the caller can report which cap.
 */
library SpendWindow {
    /// @notice Spending record of one spender for one asset. Plain struct (3 slots), safe in account-keyed mappings.
    struct State {
        uint48 lastIndex; // sub-bucket index of the most recent spend (t / L)
        uint208 lifetime; // total ever recorded
        uint128[4] buckets; // ring: bucket for index i lives at buckets[i % 4]
    }

    /// @notice `period` was zero; a window needs at least one second.
    error SpendWindowZeroPeriod();

    /// @notice The sub-bucket index of `now_` is before the index of the last recorded spend.
    /// @param lastIndex Index of the most recent spend.
    /// @param nowIndex Index of the time passed by the caller.
    error SpendWindowTimeWentBack(uint256 lastIndex, uint256 nowIndex);

    /// @notice Recording `amount` would overflow its `uint128` bucket or the `uint208` lifetime total.
    /// @param amount The amount that could not be recorded.
    error SpendWindowOverflow(uint256 amount);

    /// @notice The sub-bucket index of `now_` does not fit the `uint48` `lastIndex` field.
    /// @param nowIndex Index of the time passed by the caller.
    error SpendWindowIndexOverflow(uint256 nowIndex);

    uint256 private constant _MASK_48 = (1 << 48) - 1;
    uint256 private constant _MASK_128 = (1 << 128) - 1;

    // ---------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------

    /**
     * @notice Amount counted against the period cap at time `now_`: the sum of the four sub-buckets
     * `now_ / L - 3 .. now_ / L`, stale ring entries counting as zero.
     * @param s The spending record.
     * @param period Window length in seconds (> 0).
     * @param now_ Current timestamp.
     * @return spent The window sum (at most `4 * type(uint128).max`, so it cannot overflow).
     */
    function spentInWindow(State storage s, uint256 period, uint256 now_) internal view returns (uint256 spent) {
        uint256 nowIndex = _index(period, now_);
        (uint256 head, uint256 lo, uint256 hi) = _load(s, nowIndex);
        spent = _windowSum(head, lo, hi, nowIndex);
    }

    /**
     * @notice What is still available under each cap at time `now_` (both saturate at zero, e.g. when a cap
     * was lowered below what is already spent).
     * @param s The spending record.
     * @param periodCap Maximum spend in any `period` consecutive seconds.
     * @param lifetimeCap Maximum spend over the lifetime of `s`.
     * @param period Window length in seconds (> 0).
     * @param now_ Current timestamp.
     * @return periodRemaining `periodCap - spentInWindow`, or 0.
     * @return lifetimeRemaining `lifetimeCap - lifetime`, or 0.
     */
    function available(
        State storage s,
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 period,
        uint256 now_
    ) internal view returns (uint256 periodRemaining, uint256 lifetimeRemaining) {
        uint256 nowIndex = _index(period, now_);
        (uint256 head, uint256 lo, uint256 hi) = _load(s, nowIndex);
        periodRemaining = _saturatingSub(periodCap, _windowSum(head, lo, hi, nowIndex));
        lifetimeRemaining = _saturatingSub(lifetimeCap, head >> 48);
    }

    // ---------------------------------------------------------------------------------------------------
    // Mutations
    // ---------------------------------------------------------------------------------------------------

    /**
     * @notice Records a spend of `amount` at `now_` WITHOUT checking any cap: rolls the ring forward (zeroing
     * the at most four buckets skipped since the last spend), adds `amount` to the current bucket and to
     * `lifetime`, and moves `lastIndex` to the current index.
     * @dev Reverts {SpendWindowOverflow} if the bucket would exceed `uint128` or `lifetime` `uint208`,
     * {SpendWindowTimeWentBack} if `now_` is in an earlier sub-bucket than the last spend,
     * {SpendWindowZeroPeriod} if `period == 0`, {SpendWindowIndexOverflow} if `now_ / L` exceeds `uint48`.
     * @param s The spending record.
     * @param amount Amount spent.
     * @param period Window length in seconds (> 0).
     * @param now_ Current timestamp.
     */
    function record(State storage s, uint256 amount, uint256 period, uint256 now_) internal {
        uint256 nowIndex = _index(period, now_);
        (uint256 head, uint256 lo, uint256 hi) = _load(s, nowIndex);
        _write(s, amount, nowIndex, head, lo, hi);
    }

    /**
     * @notice Records `amount` at `now_` only if it fits both caps; otherwise changes nothing.
     * @dev The remaining amounts are computed BEFORE the spend and returned as such in both outcomes, so
     * that a refusing caller can report which cap failed and by how much (after a success, the remaining
     * amounts are the returned values minus `amount`). `ok == amount <= periodRemaining && amount <=
     * lifetimeRemaining`. Reverts as {record}; the overflow check can only trigger with caps above `uint128`.
     * @param s The spending record.
     * @param amount Amount to spend.
     * @param periodCap Maximum spend in any `period` consecutive seconds.
     * @param lifetimeCap Maximum spend over the lifetime of `s`.
     * @param period Window length in seconds (> 0).
     * @param now_ Current timestamp.
     * @return ok Whether the spend was recorded.
     * @return periodRemaining Period budget left before this spend (saturating at 0).
     * @return lifetimeRemaining Lifetime budget left before this spend (saturating at 0).
     */
    function tryRecord(
        State storage s,
        uint256 amount,
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 period,
        uint256 now_
    ) internal returns (bool ok, uint256 periodRemaining, uint256 lifetimeRemaining) {
        return _tryRecord(s, amount, periodCap, lifetimeCap, _index(period, now_));
    }

    /**
     * @notice Forgets the window (owner "reset period" action): zeroes the four buckets and `lastIndex`.
     * `lifetime` is kept. Resetting `lastIndex` also makes it safe to change the period afterwards.
     * @param s The spending record.
     */
    function clearWindow(State storage s) internal {
        s.lastIndex = 0;
        delete s.buckets;
    }

    // ---------------------------------------------------------------------------------------------------
    // Private helpers
    // ---------------------------------------------------------------------------------------------------

    /// @dev Body of {tryRecord} once the index of `now_` is known (split out to keep the stack shallow).
    function _tryRecord(
        State storage s,
        uint256 amount,
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 nowIndex
    ) private returns (bool ok, uint256 periodRemaining, uint256 lifetimeRemaining) {
        (uint256 head, uint256 lo, uint256 hi) = _load(s, nowIndex);
        periodRemaining = _saturatingSub(periodCap, _windowSum(head, lo, hi, nowIndex));
        lifetimeRemaining = _saturatingSub(lifetimeCap, head >> 48);
        ok = amount <= periodRemaining && amount <= lifetimeRemaining;
        if (ok) _write(s, amount, nowIndex, head, lo, hi);
    }

    /// @dev Sub-bucket index of `now_`: `now_ / ceil(period / 3)`. Reverts if `period == 0`.
    function _index(uint256 period, uint256 now_) private pure returns (uint256) {
        if (period == 0) revert SpendWindowZeroPeriod();
        unchecked {
            // ceil(period / 3) without the overflow of (period + 2) / 3.
            return now_ / (period / 3 + (period % 3 == 0 ? 0 : 1));
        }
    }

    /// @dev Reads the three slots of `s` (Solidity's layout for {State}): `head = lifetime << 48 | lastIndex`,
    /// `lo = buckets[1] << 128 | buckets[0]`, `hi = buckets[3] << 128 | buckets[2]`.
    /// Reverts {SpendWindowTimeWentBack} if `nowIndex < lastIndex`.
    function _load(State storage s, uint256 nowIndex) private view returns (uint256 head, uint256 lo, uint256 hi) {
        assembly ("memory-safe") {
            head := sload(s.slot)
            lo := sload(add(s.slot, 1))
            hi := sload(add(s.slot, 2))
        }
        uint256 last = head & _MASK_48;
        if (nowIndex < last) revert SpendWindowTimeWentBack(last, nowIndex);
    }

    /// @dev Sum of the ring entries whose index lies in `nowIndex - 3 .. lastIndex`. Requires (checked by
    /// {_load}) `lastIndex <= nowIndex`.
    function _windowSum(uint256 head, uint256 lo, uint256 hi, uint256 nowIndex) private pure returns (uint256 sum) {
        unchecked {
            uint256 last = head & _MASK_48;
            uint256 gap = nowIndex - last;
            // Entries of indices last - k, k = 0 .. 3 - gap, are still in the window; older ones are not.
            // `last - k` may wrap below zero for a young ring; only `% 4` matters, and 4 divides 2**256.
            for (uint256 k; k + gap < 4; ++k) {
                sum += _bucket(lo, hi, (last - k) & 3);
            }
        }
    }

    /// @dev Rolls the ring from `lastIndex` to `nowIndex` (zeroing the skipped buckets), adds `amount` to the
    /// current bucket and to `lifetime`, sets `lastIndex = nowIndex`, and writes back only the changed slots.
    /// `head`, `lo`, `hi` are the slots as read by {_load} (which checked `lastIndex <= nowIndex`).
    function _write(State storage s, uint256 amount, uint256 nowIndex, uint256 head, uint256 lo, uint256 hi) private {
        if (nowIndex > _MASK_48) revert SpendWindowIndexOverflow(nowIndex);
        uint256 newLo = lo;
        uint256 newHi = hi;
        unchecked {
            uint256 last = head & _MASK_48;
            if (nowIndex - last > 3) {
                (newLo, newHi) = (0, 0);
            } else {
                for (uint256 i = last + 1; i <= nowIndex; ++i) {
                    (newLo, newHi) = _setBucket(newLo, newHi, i & 3, 0);
                }
            }
            uint256 j = nowIndex & 3;
            uint256 bucket = _bucket(newLo, newHi, j);
            uint256 lifetime = head >> 48;
            // Both bounds are < 2**208, so the subtractions cannot wrap.
            if (amount > _MASK_128 - bucket || amount > type(uint208).max - lifetime) {
                revert SpendWindowOverflow(amount);
            }
            (newLo, newHi) = _setBucket(newLo, newHi, j, bucket + amount);
            uint256 newHead = ((lifetime + amount) << 48) | nowIndex;
            assembly ("memory-safe") {
                if iszero(eq(newHead, head)) {
                    sstore(s.slot, newHead)
                }
                if iszero(eq(newLo, lo)) {
                    sstore(add(s.slot, 1), newLo)
                }
                if iszero(eq(newHi, hi)) {
                    sstore(add(s.slot, 2), newHi)
                }
            }
        }
    }

    /// @dev Value of ring slot `j` (0..3) from the two packed bucket words.
    function _bucket(uint256 lo, uint256 hi, uint256 j) private pure returns (uint256) {
        return ((j < 2 ? lo : hi) >> ((j & 1) << 7)) & _MASK_128;
    }

    /// @dev Returns the two packed bucket words with ring slot `j` (0..3) set to `value` (< 2**128).
    function _setBucket(uint256 lo, uint256 hi, uint256 j, uint256 value) private pure returns (uint256, uint256) {
        uint256 shift = (j & 1) << 7;
        uint256 cleared = ~(_MASK_128 << shift);
        if (j < 2) return ((lo & cleared) | (value << shift), hi);
        return (lo, (hi & cleared) | (value << shift));
    }

    /// @dev `a - b`, or 0 if `b >= a`.
    function _saturatingSub(uint256 a, uint256 b) private pure returns (uint256) {
        unchecked {
            return a > b ? a - b : 0;
        }
    }
}
