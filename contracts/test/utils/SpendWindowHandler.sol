// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SpendWindow} from "../../libraries/SpendWindow.sol";

/**
 * @title SpendWindowHandler
 * @notice Invariant-test handler: several independent "lanes", each a {SpendWindow.State} with its own
 * period, caps and clock, driven by random {spend} calls. Every admitted spend is logged as (time, amount)
 * and checked against a brute-force reference; violations are counted in ghost variables (the invariant
 * engine ignores handler reverts, so the handler records failures instead of reverting).
 */
contract SpendWindowHandler {
    using SpendWindow for SpendWindow.State;

    /// @notice One independently configured spender.
    struct Lane {
        SpendWindow.State state;
        uint256 period;
        uint256 periodCap;
        uint256 lifetimeCap;
        uint256 clock;
        uint256[] times;
        uint256[] amounts;
        uint256 totalOutflow; // ghost: sum of admitted spends
        uint256 maxWindowOutflow; // ghost: largest brute-force sum over any `period` consecutive seconds
        uint256 wrongRefusals; // ghost: refusals the model's 4L bound does not allow
        uint256 wrongRemaining; // ghost: remaining amounts that disagree with the exact reference
    }

    Lane[] internal _lanes;

    /// @notice Number of admitted and refused spends (to check the campaign exercised both).
    uint256 public admitted;
    uint256 public refused;

    /// @dev Lifetime caps are a few period caps, so that they bind within the ~12 calls a lane gets in a
    /// 100-call run.
    constructor() {
        _addLane(1, 1000, type(uint256).max);
        _addLane(2, 1000, 2_500);
        _addLane(4, 1000, type(uint256).max);
        _addLane(7, 3, 7);
        _addLane(3600, 1e18, 25e17);
        _addLane(1 days, 500e6, type(uint256).max);
        _addLane(7 days + 1, 10_000, 23_456);
        _addLane(365 days, type(uint128).max, type(uint208).max);
    }

    /**
     * @notice Advances a lane's clock by a random step and tries to spend a random amount through
     * {SpendWindow.tryRecord}, checking the result against the brute-force log.
     * @param laneSeed Selects the lane.
     * @param dtSeed Selects the time step (0, within a sub-bucket, around a period, or far).
     * @param amountSeed Selects the amount (exactly what is left, one more, or a random fraction of the cap).
     */
    function spend(uint256 laneSeed, uint256 dtSeed, uint256 amountSeed) external {
        Lane storage ln = _lanes[laneSeed % _lanes.length];
        uint256 period = ln.period;
        uint256 subLen = (period + 2) / 3;
        ln.clock += _dt(dtSeed, period, subLen);
        uint256 now_ = ln.clock;

        (uint256 periodLeft, ) = ln.state.available(ln.periodCap, ln.lifetimeCap, period, now_);
        uint256 amount = _amount(amountSeed, ln.periodCap, periodLeft);

        (bool ok, uint256 periodRemaining, uint256 lifetimeRemaining) = ln.state.tryRecord(
            amount,
            ln.periodCap,
            ln.lifetimeCap,
            period,
            now_
        );

        // Exact reference for the model: spends whose sub-bucket index is within 3 of now's.
        uint256 modelSpent = _sumSince(ln, _sat(now_ / subLen, 3) * subLen);
        if (periodRemaining != _sat(ln.periodCap, modelSpent)) ++ln.wrongRemaining;
        if (lifetimeRemaining != _sat(ln.lifetimeCap, ln.totalOutflow)) ++ln.wrongRemaining;

        if (!ok) {
            ++refused;
            // Conservative by at most L: the model counts no spend older than 4L seconds.
            uint256 recent = _sumSince(ln, _sat(now_ + 1, 4 * subLen));
            if (recent + amount <= ln.periodCap && amount <= lifetimeRemaining) ++ln.wrongRefusals;
            return;
        }
        ++admitted;
        ln.times.push(now_);
        ln.amounts.push(amount);
        ln.totalOutflow += amount;
        // Spends are logged in time order, so the heaviest window of `period` seconds ends at a spend time;
        // the windows ending at earlier spend times were measured when those were admitted.
        uint256 windowOutflow = _sumSince(ln, _sat(now_ + 1, period));
        if (windowOutflow > ln.maxWindowOutflow) ln.maxWindowOutflow = windowOutflow;
    }

    /// @notice Number of lanes.
    function laneCount() external view returns (uint256) {
        return _lanes.length;
    }

    /**
     * @notice Configuration and ghost variables of lane `i`.
     * @param i Lane index.
     * @return period Window length.
     * @return periodCap Per-period cap.
     * @return lifetimeCap Lifetime cap.
     * @return totalOutflow Sum of admitted spends.
     * @return maxWindowOutflow Largest spend seen in any `period` consecutive seconds.
     * @return recordedLifetime The library's `lifetime` field.
     */
    function lane(
        uint256 i
    )
        external
        view
        returns (
            uint256 period,
            uint256 periodCap,
            uint256 lifetimeCap,
            uint256 totalOutflow,
            uint256 maxWindowOutflow,
            uint256 recordedLifetime
        )
    {
        Lane storage ln = _lanes[i];
        return (ln.period, ln.periodCap, ln.lifetimeCap, ln.totalOutflow, ln.maxWindowOutflow, ln.state.lifetime);
    }

    /**
     * @notice Reference-check failure counters of lane `i`.
     * @param i Lane index.
     * @return wrongRefusals Refusals of spends that fit the cap even counting the last 4L seconds.
     * @return wrongRemaining Remaining amounts that differed from the exact reference.
     */
    function failures(uint256 i) external view returns (uint256 wrongRefusals, uint256 wrongRemaining) {
        return (_lanes[i].wrongRefusals, _lanes[i].wrongRemaining);
    }

    function _addLane(uint256 period, uint256 periodCap, uint256 lifetimeCap) private {
        Lane storage ln = _lanes.push();
        ln.period = period;
        ln.periodCap = periodCap;
        ln.lifetimeCap = lifetimeCap;
        ln.clock = 1_700_000_000;
    }

    /// @dev Sum of the logged spends with time >= `from`, scanning back from the newest.
    function _sumSince(Lane storage ln, uint256 from) private view returns (uint256 sum) {
        for (uint256 i = ln.times.length; i > 0 && ln.times[i - 1] >= from; --i) {
            sum += ln.amounts[i - 1];
        }
    }

    function _dt(uint256 seed, uint256 period, uint256 subLen) private pure returns (uint256) {
        uint256 r = seed >> 8;
        uint256 mode = seed % 8;
        if (mode == 0) return 0;
        if (mode <= 4) return r % (subLen + 1);
        if (mode == 5) return period - 1 + (r % 3) + (r % 2) * subLen; // around period and period + L
        if (mode == 6) return r % (2 * period + 1);
        return r % (20 * period + 1);
    }

    function _amount(uint256 seed, uint256 cap, uint256 left) private pure returns (uint256) {
        uint256 mode = seed % 4;
        if (mode == 0) return left;
        if (mode == 1) return left + 1;
        return ((seed >> 2) % (cap / 2 + 1)) >> ((seed >> 250) % 4);
    }

    function _sat(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }
}
