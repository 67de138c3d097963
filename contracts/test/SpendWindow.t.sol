// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// solhint-disable-next-line no-console
import {console} from "hardhat/console.sol";
import {SpendWindow} from "../libraries/SpendWindow.sol";
import {SpendWindowHarness} from "./utils/SpendWindowHarness.sol";
import {SpendWindowHandler} from "./utils/SpendWindowHandler.sol";
import {TestBase} from "./utils/Vm.sol";

/// @notice Unit and fuzz tests of {SpendWindow}.
contract SpendWindowTest is TestBase {
    uint256 internal constant DAY = 1 days;
    uint256 internal constant T0 = 1_700_000_000; // a realistic timestamp
    uint256 internal constant MAX = type(uint256).max;

    SpendWindowHarness internal h;

    /// @notice Fresh harness for every test.
    function setUp() public {
        h = new SpendWindowHarness();
    }

    // ------------------------------------------------------------------------------------------------
    // Caps
    // ------------------------------------------------------------------------------------------------

    /// @notice Spending exactly the cap succeeds; one more wei in the same window fails and changes nothing.
    function test_exactCapSucceeds_oneMoreWeiFails() public {
        (bool ok, uint256 pr, uint256 lr) = h.tryRecord(100, 100, MAX, DAY, T0);
        assertTrue(ok, "exact cap refused");
        assertEq(pr, 100, "period remaining before");
        assertEq(lr, MAX, "lifetime remaining before");

        _assertUnchangedByRefusal(1, 100, MAX, DAY, T0 + 1 hours);
        (ok, pr, ) = h.tryRecord(1, 100, MAX, DAY, T0 + 1 hours);
        assertTrue(!ok, "one wei over cap accepted");
        assertEq(pr, 0, "period remaining after cap");

        // Same for a first spend of cap + 1.
        SpendWindowHarness fresh = new SpendWindowHarness();
        (ok, pr, ) = fresh.tryRecord(101, 100, MAX, DAY, T0);
        assertTrue(!ok, "cap + 1 accepted");
        assertEq(pr, 100, "fresh period remaining");
        assertEq(fresh.spentInWindow(DAY, T0), 0, "refusal recorded something");
    }

    /// @notice The cap binds on the sum of several spends, not on each one.
    function test_capIsCumulative() public {
        for (uint256 i; i < 4; ++i) {
            (bool ok, , ) = h.tryRecord(25, 100, MAX, DAY, T0 + i * 1 hours);
            assertTrue(ok, "partial spend refused");
        }
        (bool ok2, uint256 pr, ) = h.tryRecord(1, 100, MAX, DAY, T0 + 5 hours);
        assertTrue(!ok2, "sum over cap accepted");
        assertEq(pr, 0, "remaining");
        assertEq(h.spentInWindow(DAY, T0 + 5 hours), 100, "window sum");
    }

    /// @notice The lifetime cap binds across windows and is reported independently of the period cap.
    function test_lifetimeCapIndependentOfPeriod() public {
        assertTrue(_try(100, 100, 250, DAY, T0), "day 0");
        assertTrue(_try(100, 100, 250, DAY, T0 + 2 * DAY), "day 2");
        (bool ok, uint256 pr, uint256 lr) = h.tryRecord(51, 100, 250, DAY, T0 + 4 * DAY);
        assertTrue(!ok, "over lifetime cap accepted");
        assertEq(pr, 100, "period budget is full again");
        assertEq(lr, 50, "lifetime remaining");
        assertTrue(_try(50, 100, 250, DAY, T0 + 4 * DAY), "exact lifetime remainder refused");
        (uint256 pAvail, uint256 lAvail) = h.available(100, 250, DAY, T0 + 1000 * DAY);
        assertEq(pAvail, 100, "period available much later");
        assertEq(lAvail, 0, "lifetime never frees");
        assertTrue(!_try(1, 100, 250, DAY, T0 + 1000 * DAY), "spend past lifetime cap accepted");
        (, , uint256 lifetime) = _state();
        assertEq(lifetime, 250, "lifetime");
    }

    /// @notice Remaining amounts saturate at zero when a cap is lowered below what was spent.
    function test_availableSaturates() public {
        h.record(80, DAY, T0);
        (uint256 pAvail, uint256 lAvail) = h.available(50, 60, DAY, T0);
        assertEq(pAvail, 0, "period");
        assertEq(lAvail, 0, "lifetime");
        (pAvail, lAvail) = h.available(200, 100, DAY, T0);
        assertEq(pAvail, 120, "period, raised cap");
        assertEq(lAvail, 20, "lifetime, raised cap");
    }

    // ------------------------------------------------------------------------------------------------
    // Window timing
    // ------------------------------------------------------------------------------------------------

    /// @notice Period divisible by 3 (L = period / 3): a spend at the start of a sub-bucket frees exactly at
    /// `period + L`, not one second earlier, and certainly not at `period - 1` or `period`.
    function test_freesAfterPeriodPlusL_notBefore() public {
        uint256 period = 3 * DAY; // L = 1 day
        uint256 t = 20_000 * DAY; // start of a sub-bucket
        h.record(100, period, t);
        assertEq(h.spentInWindow(period, t + period - 1), 100, "period - 1");
        assertEq(h.spentInWindow(period, t + period), 100, "period (conservative)");
        assertEq(h.spentInWindow(period, t + period + DAY - 1), 100, "period + L - 1");
        assertEq(h.spentInWindow(period, t + period + DAY), 0, "period + L");
        assertTrue(_try(100, 100, MAX, period, t + period + DAY), "full cap at period + L");
    }

    /// @notice A spend in the middle of a sub-bucket frees at the end of its fourth sub-bucket: after more
    /// than `period` seconds and at most `4 * L`.
    function test_freesAtFourthBucketBoundary() public {
        uint256 period = 10; // L = 4, 3L = 12
        uint256 t = 1003; // index 250, offset 3
        h.record(7, period, t);
        assertEq(h.spentInWindow(period, t + period), 7, "period");
        assertEq(h.spentInWindow(period, 1015), 7, "last second of index 253");
        assertEq(h.spentInWindow(period, 1016), 0, "index 254 = 250 + 4");
    }

    /// @notice Sliding, not calendar: spending the cap on both sides of a boundary is impossible.
    function test_noDoubleSpendAroundBoundary() public {
        uint256 period = DAY;
        uint256 midnight = 19_000 * DAY;
        assertTrue(_try(100, 100, MAX, period, midnight - 1), "before midnight");
        assertTrue(!_try(1, 100, MAX, period, midnight), "after midnight");
        assertTrue(!_try(1, 100, MAX, period, midnight + period - 2), "period - 1 after the spend");
    }

    /// @notice Buckets left over from before a long gap are ignored, and overwritten by the next spend.
    function test_staleBucketsIgnoredAfterLongGap() public {
        uint256 period = 3 * DAY; // L = 1 day
        uint256 t = 30_000 * DAY;
        for (uint256 i; i < 4; ++i) h.record(10 + i, period, t + i * DAY);
        assertEq(h.spentInWindow(period, t + 3 * DAY), 46, "all four buckets");
        assertEq(h.spentInWindow(period, t + 4 * DAY), 36, "oldest aged out");
        assertEq(h.spentInWindow(period, t + 6 * DAY), 13, "three aged out");
        assertEq(h.spentInWindow(period, t + 7 * DAY), 0, "all aged out");
        assertEq(h.spentInWindow(period, t + 1000 * DAY), 0, "long gap");

        h.record(5, period, t + 1000 * DAY);
        (, uint128[4] memory buckets, ) = _state();
        assertEq(uint256(buckets[0]) + buckets[1] + buckets[2] + buckets[3], 5, "ring cleared on roll");
        assertEq(h.spentInWindow(period, t + 1000 * DAY), 5, "only the new spend");
    }

    /// @notice A partial gap zeroes exactly the skipped sub-buckets.
    function test_partialRollZeroesSkippedBuckets() public {
        uint256 period = 3; // L = 1
        h.record(1, period, 100);
        h.record(2, period, 101);
        h.record(4, period, 102);
        h.record(8, period, 103);
        h.record(16, period, 105); // skips 104, drops 100 and 101
        assertEq(h.spentInWindow(period, 105), 4 + 8 + 16, "window after partial roll");
        (uint256 last, uint128[4] memory buckets, uint256 lifetime) = _state();
        assertEq(last, 105, "lastIndex");
        assertEq(lifetime, 31, "lifetime");
        assertEq(buckets[100 % 4], 0, "index 104 zeroed (was 100)");
        assertEq(buckets[101 % 4], 16, "index 105 (was 101)");
        assertEq(buckets[102 % 4], 4, "index 102 kept");
        assertEq(buckets[103 % 4], 8, "index 103 kept");
    }

    /// @notice Period of one second: L = 1, so a spend counts for 4 seconds (the model's floor is one
    /// sub-bucket of one second).
    function test_periodOneSecond() public {
        assertTrue(_try(5, 5, MAX, 1, T0), "first");
        assertTrue(!_try(1, 5, MAX, 1, T0), "same second");
        assertTrue(!_try(1, 5, MAX, 1, T0 + 3), "T0 + 3");
        assertTrue(_try(5, 5, MAX, 1, T0 + 4), "T0 + 4 = T0 + 4L");
    }

    /// @notice Period of 365 days (divisible by 3): frees after 365 + 121.67 days at most.
    function test_period365Days() public {
        uint256 period = 365 days;
        uint256 subLen = period / 3;
        uint256 t = T0;
        uint256 freeAt = (t / subLen + 4) * subLen;
        assertTrue(_try(1e24, 1e24, MAX, period, t), "first");
        assertTrue(!_try(1, 1e24, MAX, period, t + period), "after one period");
        assertTrue(!_try(1, 1e24, MAX, period, freeAt - 1), "one second before the fourth boundary");
        assertTrue(freeAt - t > period && freeAt - t <= period + subLen, "free time within (period, period + L]");
        assertTrue(_try(1e24, 1e24, MAX, period, freeAt), "at the fourth boundary");
    }

    /// @notice `block.timestamp` as the clock, as the account will use it.
    function test_withBlockTimestamp() public {
        vm.warp(T0);
        h.record(60, DAY, block.timestamp);
        vm.warp(T0 + DAY / 2);
        (uint256 pAvail, ) = h.available(100, MAX, DAY, block.timestamp);
        assertEq(pAvail, 40, "half a day later");
    }

    // ------------------------------------------------------------------------------------------------
    // Reverts
    // ------------------------------------------------------------------------------------------------

    /// @notice A timestamp in an earlier sub-bucket than the last spend reverts in every entry point.
    function test_timeWentBackReverts() public {
        uint256 period = 3 * DAY; // L = 1 day
        h.record(1, period, 500 * DAY);
        bytes memory err = abi.encodeWithSelector(SpendWindow.SpendWindowTimeWentBack.selector, 500, 499);
        vm.expectRevert(err);
        h.spentInWindow(period, 500 * DAY - 1);
        vm.expectRevert(err);
        h.available(1, 1, period, 500 * DAY - 1);
        vm.expectRevert(err);
        h.record(1, period, 500 * DAY - 1);
        vm.expectRevert(err);
        h.tryRecord(1, 10, 10, period, 500 * DAY - 1);
        // Within the same sub-bucket an earlier time is indistinguishable and accepted.
        h.record(1, period, 500 * DAY);
    }

    /// @notice Lengthening the period of a live state reverts until {clearWindow} resets `lastIndex`.
    function test_periodChangeNeedsClearWindow() public {
        h.record(1, 3, 1000); // L = 1, index 1000
        vm.expectRevert(abi.encodeWithSelector(SpendWindow.SpendWindowTimeWentBack.selector, 1000, 333));
        h.spentInWindow(9, 1000); // L = 3, index 333
        h.clearWindow();
        assertEq(h.spentInWindow(9, 1000), 0, "after clear");
        h.record(2, 9, 1000);
        (uint256 last, , uint256 lifetime) = _state();
        assertEq(last, 333, "lastIndex");
        assertEq(lifetime, 3, "lifetime kept");
    }

    /// @notice A zero period reverts in every entry point.
    function test_zeroPeriodReverts() public {
        bytes memory err = abi.encodeWithSelector(SpendWindow.SpendWindowZeroPeriod.selector);
        vm.expectRevert(err);
        h.spentInWindow(0, T0);
        vm.expectRevert(err);
        h.available(1, 1, 0, T0);
        vm.expectRevert(err);
        h.record(1, 0, T0);
        vm.expectRevert(err);
        h.tryRecord(1, 1, 1, 0, T0);
    }

    /// @notice A bucket cannot exceed uint128.
    function test_bucketOverflowReverts() public {
        uint256 max128 = type(uint128).max;
        vm.expectRevert(abi.encodeWithSelector(SpendWindow.SpendWindowOverflow.selector, max128 + 1));
        h.record(max128 + 1, DAY, T0);
        h.record(max128 - 1, DAY, T0);
        h.record(1, DAY, T0);
        vm.expectRevert(abi.encodeWithSelector(SpendWindow.SpendWindowOverflow.selector, 1));
        h.record(1, DAY, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(SpendWindow.SpendWindowOverflow.selector, 1));
        h.tryRecord(1, MAX, MAX, DAY, T0 + 1); // caps above uint128 do not protect against the overflow
        // Another sub-bucket has room.
        h.record(1, DAY, T0 + DAY);
        assertEq(h.spentInWindow(DAY, T0 + DAY), max128 + 1, "sum of two buckets exceeds uint128");
    }

    /// @notice `lifetime` cannot exceed uint208 (state forged with `vm.store`: unreachable otherwise).
    function test_lifetimeOverflowReverts() public {
        uint256 max208 = type(uint208).max;
        vm.store(address(h), bytes32(0), bytes32((max208 - 5) << 48));
        (, , uint256 lifetime) = _state();
        assertEq(lifetime, max208 - 5, "forged lifetime");
        vm.expectRevert(abi.encodeWithSelector(SpendWindow.SpendWindowOverflow.selector, 6));
        h.record(6, DAY, T0);
        h.record(5, DAY, T0);
        (, , lifetime) = _state();
        assertEq(lifetime, max208, "lifetime at max");
    }

    /// @notice The sub-bucket index must fit `lastIndex` (uint48).
    function test_indexOverflowReverts() public {
        h.record(1, 1, (1 << 48) - 1);
        vm.expectRevert(abi.encodeWithSelector(SpendWindow.SpendWindowIndexOverflow.selector, 1 << 48));
        h.record(1, 1, 1 << 48);
        // Views still work past the limit.
        assertEq(h.spentInWindow(1, 1 << 48), 1, "view past index limit");
    }

    // ------------------------------------------------------------------------------------------------
    // clearWindow and layout
    // ------------------------------------------------------------------------------------------------

    /// @notice {clearWindow} frees the period budget at once and keeps the lifetime total.
    function test_clearWindow() public {
        assertTrue(_try(100, 100, 1000, DAY, T0), "fill");
        assertTrue(!_try(1, 100, 1000, DAY, T0 + 1), "full");
        h.clearWindow();
        (uint256 last, uint128[4] memory buckets, uint256 lifetime) = _state();
        assertEq(last, 0, "lastIndex");
        assertEq(uint256(buckets[0]) + buckets[1] + buckets[2] + buckets[3], 0, "buckets");
        assertEq(lifetime, 100, "lifetime kept");
        (uint256 pAvail, uint256 lAvail) = h.available(100, 1000, DAY, T0 + 1);
        assertEq(pAvail, 100, "period available");
        assertEq(lAvail, 900, "lifetime available");
        assertTrue(_try(100, 100, 1000, DAY, T0 + 1), "spend after clear");
    }

    /// @notice The library's packed reads and writes agree with Solidity's layout of {SpendWindow.State}.
    function test_storageLayout() public {
        uint256 period = 6; // L = 2
        h.record(3, period, 2 * 1000); // index 1000 -> slot 0
        h.record(5, period, 2 * 1001 + 1); // index 1001 -> slot 1
        h.record(7, period, 2 * 1002); // index 1002 -> slot 2
        h.record(11, period, 2 * 1003); // index 1003 -> slot 3
        (uint256 last, uint128[4] memory buckets, uint256 lifetime) = _state();
        assertEq(last, 1003, "lastIndex");
        assertEq(lifetime, 26, "lifetime");
        assertEq(buckets[0], 3, "bucket 0");
        assertEq(buckets[1], 5, "bucket 1");
        assertEq(buckets[2], 7, "bucket 2");
        assertEq(buckets[3], 11, "bucket 3");
    }

    // ------------------------------------------------------------------------------------------------
    // Gas
    // ------------------------------------------------------------------------------------------------

    /// @notice Gas of the library call {SpendWindow.tryRecord} alone (no call overhead), logged and bounded.
    function test_gasTryRecord() public {
        (bool ok, uint256 first) = h.measureTryRecord(10, 100, 1000, DAY, T0);
        assertTrue(ok, "first");
        (, uint256 warm) = h.measureTryRecord(10, 100, 1000, DAY, T0 + 1);
        vm.cool(address(h));
        (, uint256 coldSameBucket) = h.measureTryRecord(10, 100, 1000, DAY, T0 + 2);
        vm.cool(address(h));
        (, uint256 coldNextBucket) = h.measureTryRecord(10, 100, 1000, DAY, T0 + DAY / 3 + 1);
        vm.cool(address(h));
        (bool refusedOk, uint256 coldRefused) = h.measureTryRecord(1000, 100, 1000, DAY, T0 + DAY / 3 + 2);
        assertTrue(!refusedOk, "refusal");
        /* solhint-disable no-console */
        console.log("SpendWindow.tryRecord gas: first ever (0 -> nonzero, cold):", first);
        console.log("SpendWindow.tryRecord gas: same bucket, warm (same tx):", warm);
        console.log("SpendWindow.tryRecord gas: same bucket, cold (new tx):", coldSameBucket);
        console.log("SpendWindow.tryRecord gas: next bucket, cold (new tx):", coldNextBucket);
        console.log("SpendWindow.tryRecord gas: refused, cold:", coldRefused);
        /* solhint-enable no-console */
        // 3 cold SLOADs (6300) + SSTOREs; regression bounds.
        assertLe(first, 50_000, "first");
        assertLe(warm, 3_000, "warm");
        assertLe(coldSameBucket, 15_000, "cold same bucket");
        assertLe(coldNextBucket, 32_500, "cold next bucket (zero -> nonzero slot)");
        assertLe(coldRefused, 8_500, "cold refused");
    }

    // ------------------------------------------------------------------------------------------------
    // Fuzz
    // ------------------------------------------------------------------------------------------------

    uint256 internal constant STEPS = 32;

    /// @dev State of one fuzz run: configuration, clock and the brute-force log.
    struct Run {
        uint256 period;
        uint256 subLen;
        uint256 cap;
        uint256 lifetimeCap;
        uint256 now_;
        uint256 n;
        uint256 total;
        uint256[STEPS] times;
        uint256[STEPS] amounts;
    }

    /**
     * @notice Random period, caps and 32 (dt, amount) steps through {SpendWindow.tryRecord}, against a
     * brute-force log of (time, amount):
     * - the window sum equals the model's exact reference (spends in sub-buckets now/L - 3 .. now/L);
     * - every window of `period` seconds ending at a spend holds at most the cap (hence every window: the
     *   heaviest window of a time-ordered log ends at one of its spends);
     * - a spend is never refused if it fits counting everything spent in the last 4L seconds
     *   (4L = period + L when period % 3 == 0; conservative by at most L, plus rounding);
     * - a refusal changes nothing, and `lifetime` is the sum of admitted spends, within the lifetime cap.
     */
    function testFuzz_tryRecordMatchesReference(
        uint256 periodSeed,
        uint256 capSeed,
        uint256 lifetimeSeed,
        uint256[STEPS] memory steps
    ) public {
        Run memory r;
        r.period = _period(periodSeed);
        r.subLen = (r.period + 2) / 3;
        r.cap = bound(capSeed, 1, 1e30);
        r.lifetimeCap = lifetimeSeed % 2 == 0 ? MAX : bound(lifetimeSeed >> 1, r.cap, 12 * r.cap);
        r.now_ = T0;
        for (uint256 i; i < STEPS; ++i) _tryStep(r, steps[i]);
    }

    /// @dev One step of {testFuzz_tryRecordMatchesReference}.
    function _tryStep(Run memory r, uint256 seed) internal {
        r.now_ += _dt(seed, r.period, r.subLen);
        uint256 modelSpent = _sumSince(r.times, r.amounts, r.n, _sat(r.now_ / r.subLen, 3) * r.subLen);
        assertEq(h.spentInWindow(r.period, r.now_), modelSpent, "window sum vs reference");

        uint256 amount = _amount(seed >> 64, r.cap, _sat(r.cap, modelSpent));
        (uint256 lastBefore, uint128[4] memory bucketsBefore, ) = _state();
        (bool ok, uint256 pr, uint256 lr) = h.tryRecord(amount, r.cap, r.lifetimeCap, r.period, r.now_);
        assertEq(pr, _sat(r.cap, modelSpent), "period remaining");
        assertEq(lr, _sat(r.lifetimeCap, r.total), "lifetime remaining");
        assertTrue(ok == (amount <= pr && amount <= lr), "decision");

        if (!ok) {
            uint256 recent = _sumSince(r.times, r.amounts, r.n, _sat(r.now_ + 1, 4 * r.subLen));
            assertTrue(recent + amount > r.cap || amount > lr, "refused although it fits the last 4L seconds");
            (uint256 lastAfter, uint128[4] memory bucketsAfter, uint256 lifetimeAfter) = _state();
            assertEq(lastAfter, lastBefore, "refusal moved lastIndex");
            assertEq(lifetimeAfter, r.total, "refusal changed lifetime");
            for (uint256 j; j < 4; ++j) assertEq(bucketsAfter[j], bucketsBefore[j], "refusal changed a bucket");
            return;
        }
        r.times[r.n] = r.now_;
        r.amounts[r.n] = amount;
        ++r.n;
        r.total += amount;
        assertLe(_sumSince(r.times, r.amounts, r.n, _sat(r.now_ + 1, r.period)), r.cap, "window of period over cap");
        (, , uint256 lifetime) = _state();
        assertEq(lifetime, r.total, "lifetime vs sum of spends");
        assertLe(r.total, r.lifetimeCap, "lifetime cap");
    }

    /// @notice Unchecked {SpendWindow.record} of random amounts at random times: the window sum always equals
    /// the exact reference and `lifetime` the sum of all amounts (exercises the ring with arbitrary sums).
    function testFuzz_recordMatchesReference(uint256 periodSeed, uint256[STEPS] memory steps) public {
        uint256 period = _period(periodSeed);
        uint256 subLen = (period + 2) / 3;
        uint256[STEPS] memory times;
        uint256[STEPS] memory amounts;
        uint256 total;
        uint256 now_ = T0;
        for (uint256 i; i < STEPS; ++i) {
            now_ += _dt(steps[i], period, subLen);
            uint256 amount = (steps[i] >> 64) % (1 << 120);
            h.record(amount, period, now_);
            times[i] = now_;
            amounts[i] = amount;
            total += amount;
            assertEq(
                h.spentInWindow(period, now_),
                _sumSince(times, amounts, i + 1, _sat(now_ / subLen, 3) * subLen),
                "sum"
            );
            uint256 later = now_ + ((steps[i] >> 192) % (5 * subLen));
            uint256 expected = _sumSince(times, amounts, i + 1, _sat(later / subLen, 3) * subLen);
            assertEq(h.spentInWindow(period, later), expected, "sum later");
            (, , uint256 lifetime) = _state();
            assertEq(lifetime, total, "lifetime");
        }
    }

    /// @notice Any timestamp whose sub-bucket precedes the last spend's reverts with both indices.
    function testFuzz_timeWentBack(uint256 periodSeed, uint256 t, uint256 back) public {
        uint256 period = _period(periodSeed);
        uint256 subLen = (period + 2) / 3;
        t = bound(t, 0, ((1 << 48) - 1) * subLen);
        h.record(1, period, t);
        vm.assume(t / subLen > 0);
        uint256 earlier = bound(back, 0, (t / subLen) * subLen - 1);
        vm.expectRevert(
            abi.encodeWithSelector(SpendWindow.SpendWindowTimeWentBack.selector, t / subLen, earlier / subLen)
        );
        h.spentInWindow(period, earlier);
    }

    // ------------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------------

    function _try(
        uint256 amount,
        uint256 cap,
        uint256 lifetimeCap,
        uint256 period,
        uint256 now_
    ) internal returns (bool ok) {
        (ok, , ) = h.tryRecord(amount, cap, lifetimeCap, period, now_);
    }

    function _state() internal view returns (uint256 last, uint128[4] memory buckets, uint256 lifetime) {
        (last, lifetime, buckets) = h.state();
    }

    function _assertUnchangedByRefusal(
        uint256 amount,
        uint256 cap,
        uint256 lifetimeCap,
        uint256 period,
        uint256 now_
    ) internal {
        (uint256 lastBefore, uint128[4] memory bucketsBefore, uint256 lifetimeBefore) = _state();
        uint256 snapshot = h.spentInWindow(period, now_);
        (bool ok, , ) = h.tryRecord(amount, cap, lifetimeCap, period, now_);
        assertTrue(!ok, "expected a refusal");
        (uint256 lastAfter, uint128[4] memory bucketsAfter, uint256 lifetimeAfter) = _state();
        assertEq(lastAfter, lastBefore, "lastIndex changed");
        assertEq(lifetimeAfter, lifetimeBefore, "lifetime changed");
        for (uint256 j; j < 4; ++j) assertEq(bucketsAfter[j], bucketsBefore[j], "bucket changed");
        assertEq(h.spentInWindow(period, now_), snapshot, "window changed");
    }

    /// @dev Small periods (rounding edge cases of ceil(period / 3)) half of the time, up to 400 days otherwise.
    function _period(uint256 seed) internal pure returns (uint256) {
        return seed % 2 == 0 ? bound(seed >> 1, 1, 12) : bound(seed >> 1, 1, 400 days);
    }

    /// @dev Time step: 0, within a sub-bucket, around `period` / `period + L`, or up to 2 or 20 periods.
    function _dt(uint256 seed, uint256 period, uint256 subLen) internal pure returns (uint256) {
        uint256 r = (seed >> 8) % (1 << 56);
        uint256 mode = seed % 8;
        if (mode == 0) return 0;
        if (mode <= 4) return r % (subLen + 1);
        if (mode == 5) return period - 1 + (r % 3) + (r % 2) * subLen;
        if (mode == 6) return r % (2 * period + 1);
        return r % (20 * period + 1);
    }

    /// @dev Amount: exactly what is left, one more, or a random fraction of the cap.
    function _amount(uint256 seed, uint256 cap, uint256 left) internal pure returns (uint256) {
        uint256 mode = seed % 4;
        if (mode == 0) return left;
        if (mode == 1) return left + 1;
        return ((seed >> 2) % (cap / 2 + 1)) >> ((seed >> 100) % 4);
    }

    /// @dev Sum of the first `n` logged amounts whose time is >= `from`.
    function _sumSince(
        uint256[STEPS] memory times,
        uint256[STEPS] memory amounts,
        uint256 n,
        uint256 from
    ) internal pure returns (uint256 sum) {
        for (uint256 i; i < n; ++i) if (times[i] >= from) sum += amounts[i];
    }

    function _sat(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a - b : 0;
    }
}

/**
 * @notice Invariant test: random sequences of spends on eight differently configured lanes (periods from
 * 1 second to 365 days). Runs default to `test.solidity.fuzz.runs` (1000).
 */
contract SpendWindowInvariantTest is TestBase {
    /// @dev Matches Foundry's `FuzzSelector`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    SpendWindowHandler internal handler;

    /// @notice Deploys the handler.
    function setUp() public {
        handler = new SpendWindowHandler();
    }

    /// @notice Only the handler is called by the invariant engine.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Only {SpendWindowHandler.spend} is called.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](1);
        selectors[0] = SpendWindowHandler.spend.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    /**
     * @notice After every call of every random sequence (one campaign, so the three properties share the
     * 1000 x 100 calls):
     * - total outflow in any `period` consecutive seconds never exceeds the period cap;
     * - total outflow over all time never exceeds the lifetime cap, and is what the library recorded;
     * - remaining amounts match the exact reference and no refusal exceeds the model's 4L slack.
     */
    /// forge-config: default.invariant.depth = 100
    function invariant_outflowWithinCaps() public view {
        for (uint256 i; i < handler.laneCount(); ++i) {
            (
                ,
                uint256 periodCap,
                uint256 lifetimeCap,
                uint256 totalOutflow,
                uint256 maxWindowOutflow,
                uint256 recordedLifetime
            ) = handler.lane(i);
            assertLe(maxWindowOutflow, periodCap, "outflow in a period");
            assertLe(totalOutflow, lifetimeCap, "lifetime outflow");
            assertEq(recordedLifetime, totalOutflow, "recorded lifetime");
            (uint256 wrongRefusals, uint256 wrongRemaining) = handler.failures(i);
            assertEq(wrongRefusals, 0, "refusals within the 4L bound");
            assertEq(wrongRemaining, 0, "remaining amounts vs reference");
        }
    }

    /// @notice Sanity check of the handler itself: a pseudo-random sequence like the campaign's admits and
    /// refuses spends, fills a window of every lane exactly to its cap and comes within one period cap of
    /// every finite lifetime cap.
    function test_handlerExercisesAllPaths() public {
        for (uint256 i; i < 1200; ++i) {
            uint256 seed = uint256(keccak256(abi.encode(i)));
            handler.spend(i, seed, seed >> 128);
        }
        assertGe(handler.admitted(), 100, "admitted");
        assertGe(handler.refused(), 100, "refused");
        for (uint256 i; i < handler.laneCount(); ++i) {
            (, uint256 periodCap, uint256 lifetimeCap, uint256 total, uint256 maxWindow, ) = handler.lane(i);
            assertEq(maxWindow, periodCap, "a window was filled exactly to the cap");
            if (lifetimeCap < type(uint128).max) assertGe(total + periodCap, lifetimeCap, "lifetime cap binds");
        }
        invariant_outflowWithinCaps();
    }
}
