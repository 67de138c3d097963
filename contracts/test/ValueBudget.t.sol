// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// solhint-disable-next-line no-console
import {console} from "hardhat/console.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ValueBudget} from "../libraries/ValueBudget.sol";
import {ValuePricing} from "../libraries/ValuePricing.sol";
import {MockAggregator} from "../mocks/oracles/MockAggregator.sol";
import {ValueBudgetHandler} from "./utils/ValueBudgetHandler.sol";
import {ValueBudgetHarness} from "./utils/ValueBudgetHarness.sol";
import {TestBase} from "./utils/Vm.sol";

/// @notice Unit and fuzz tests of {ValuePricing} and {ValueBudget}.
contract ValueBudgetTest is TestBase {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant USD = 1e8; // one dollar in a USD unit with 8 decimals

    ValueBudgetHarness internal h;
    MockAggregator internal ethUsd;
    MockAggregator internal btcUsd;

    /// @notice USD budget: instant $20, ceiling $200, $500 per day, $5,000 lifetime; ETH at $3,000, BTC at $60,000.
    function setUp() public {
        vm.warp(T0);
        h = new ValueBudgetHarness();
        h.configure(_config(20 * USD, 200 * USD, 500 * USD, 5_000 * USD, 1 days));
        ethUsd = new MockAggregator(8, 3_000e8);
        btcUsd = new MockAggregator(8, 60_000e8);
    }

    // ------------------------------------------------------------------------------------------------
    // Valuation
    // ------------------------------------------------------------------------------------------------

    /// @notice Payments in USDC (6 decimals, fixed 1:1), WETH (18, feed) and WBTC (8, feed) charge one USD budget.
    function test_threeTokensChargeOneUsdBudget() public {
        _pay(_usdc(), 6, 15e6, 15 * USD, ValueBudget.Tier.Instant); // $15
        _pay(_feed(ethUsd), 18, 0.005 ether, 15 * USD, ValueBudget.Tier.Instant); // 0.005 ETH = $15
        _pay(_feed(btcUsd), 8, 25_000, 15 * USD, ValueBudget.Tier.Instant); // 0.00025 BTC = $15
        _pay(_feed(btcUsd), 8, 250_000, 150 * USD, ValueBudget.Tier.Delayed); // $150: above instant
        (uint256 periodLeft, uint256 lifetimeLeft) = h.available(T0);
        assertEq(periodLeft, 305 * USD, "period left after $195");
        assertEq(lifetimeLeft, 4_805 * USD, "lifetime left after $195");
        // $310 more in any token does not fit the day: owner approval, with the numbers.
        ValueBudget.Verdict memory v = h.assessSpend(_usdc(), 6, 310e6, T0 + 1 hours);
        _expect(v, ValueBudget.Tier.Approval, ValueBudget.Limit.Period, 310 * USD, 305 * USD);
        v = h.assessSpend(_feed(ethUsd), 18, 0.06 ether, T0 + 1 hours); // $180: fits, above instant
        _expect(v, ValueBudget.Tier.Delayed, ValueBudget.Limit.InstantThreshold, 180 * USD, 20 * USD);
        h.charge(180 * USD, ValueBudget.Tier.Delayed, T0 + 1 hours);
        v = h.assessSpend(_feed(btcUsd), 8, 250_000, T0 + 2 hours); // $150 > $125 left
        _expect(v, ValueBudget.Tier.Approval, ValueBudget.Limit.Period, 150 * USD, 125 * USD);
    }

    /// @notice One operation paying in the three tokens: the sum of the three values (each rounded up); a zero
    /// amount's source is not read; the first failing token stops the sum and is named.
    function test_valueOfAllSumsAnOperation() public {
        ValuePricing.Source[] memory sources = new ValuePricing.Source[](3);
        (sources[0], sources[1], sources[2]) = (_usdc(), _feed(ethUsd), _feed(btcUsd));
        uint256[] memory decimals = new uint256[](3);
        (decimals[0], decimals[1], decimals[2]) = (6, 18, 8);
        uint256[] memory amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (15e6, 0.005 ether + 1, 25_000);
        (ValuePricing.PriceFailure f, uint256 idx, uint256 total) = h.valueOfAll(sources, decimals, amounts, 8);
        assertEq(uint8(f), 0, "valued");
        assertEq(idx, 0, "no failed index");
        assertEq(total, 45 * USD + 1, "$15 + ($15 + 1 wei, rounded up) + $15");
        ethUsd.setMode(MockAggregator.Mode.Revert);
        (f, idx, total) = h.valueOfAll(sources, decimals, amounts, 8);
        assertEq(uint8(f), uint8(ValuePricing.PriceFailure.FeedReverted), "failure");
        assertEq(idx, 1, "the ETH feed failed");
        assertEq(total, 0, "no value on failure");
        amounts[1] = 0;
        (f, , total) = h.valueOfAll(sources, decimals, amounts, 8);
        assertEq(uint8(f), 0, "a zero amount does not read its feed");
        assertEq(total, 30 * USD, "USDC + BTC");
    }

    /// @notice Gas of a valuation (fixed rate, aggregator) and of assess + charge, logged and bounded.
    function test_gasValuation() public {
        (, , uint256 fixedGas) = h.valueOf(_usdc(), 6, 15e6, 8);
        (, , uint256 feedGas) = h.valueOf(_feed(ethUsd), 18, 0.005 ether, 8);
        (, uint256 firstCharge) = h.measureAssessAndCharge(_feed(ethUsd), 18, 0.005 ether);
        vm.cool(address(h));
        vm.cool(address(ethUsd));
        (ValueBudget.Tier tier, uint256 coldCharge) = h.measureAssessAndCharge(_feed(ethUsd), 18, 0.005 ether);
        assertEq(uint8(tier), 0, "instant");
        /* solhint-disable no-console */
        console.log("ValuePricing.valueOf gas: fixed rate:", fixedGas);
        console.log("ValuePricing.valueOf gas: mock aggregator, cold (2 calls, 5 slots):", feedGas);
        console.log("ValueBudget assessSpend + charge gas: aggregator, first charge:", firstCharge);
        console.log("ValueBudget assessSpend + charge gas: aggregator, cold budget and feed:", coldCharge);
        /* solhint-enable no-console */
        // Regression bounds (the harness call copies the source from calldata; the mock feed reads 5 cold slots).
        assertLe(fixedGas, 3_000, "fixed");
        assertLe(feedGas, 20_000, "aggregator");
        assertLe(coldCharge, 45_000, "cold assess + charge");
    }

    /// @notice A price move between two operations: each is valued at the price of its own block.
    function test_priceMoveValuedAtEachOperation() public {
        (ValuePricing.PriceFailure f, uint256 v1, ) = h.valueOf(_feed(ethUsd), 18, 0.01 ether, 8);
        assertTrue(f == ValuePricing.PriceFailure.None, "first valuation");
        assertEq(v1, 30 * USD, "0.01 ETH at $3,000");
        h.charge(v1, ValueBudget.Tier.Delayed, T0);
        vm.warp(T0 + 60);
        ethUsd.setAnswer(2_000e8);
        (, uint256 v2, ) = h.valueOf(_feed(ethUsd), 18, 0.01 ether, 8);
        assertEq(v2, 20 * USD, "0.01 ETH at $2,000");
        h.charge(v2, ValueBudget.Tier.Instant, T0 + 60);
        (uint256 periodLeft, ) = h.available(T0 + 60);
        assertEq(periodLeft, 450 * USD, "charged $30 then $20");
        // The same amount becomes instant-tier after the drop, delayed before it.
        _expect(
            h.assessSpend(_feed(ethUsd), 18, 0.01 ether, T0 + 60),
            ValueBudget.Tier.Instant,
            ValueBudget.Limit.None,
            20 * USD,
            20 * USD
        );
    }

    /// @notice Stale, future, zero, negative, out-of-bounds, reverting, gas-burning, short-returning feeds, feeds with
    /// too many decimals, feeds without code and tokens without a source yield a failure, never a value.
    function test_feedFailuresYieldNoValue() public {
        MockAggregator feed = new MockAggregator(8, 1e8);
        ValuePricing.Source memory src = _feed(feed);
        src.minPrice = 0.9e8;
        src.maxPrice = 1.1e8;
        _assertValue(src, 1e8, "healthy feed");

        feed.setRound(1e8, block.timestamp - 1 hours - 1);
        _assertFails(src, ValuePricing.PriceFailure.Stale, "older than maxStaleness");
        feed.setRound(1e8, block.timestamp - 1 hours);
        _assertValue(src, 1e8, "exactly maxStaleness old");
        feed.setRound(1e8, block.timestamp + 1);
        _assertFails(src, ValuePricing.PriceFailure.Stale, "updated in the future");
        feed.setRound(1e8, 0);
        _assertFails(src, ValuePricing.PriceFailure.Stale, "never updated");
        feed.setAnswer(0);
        _assertFails(src, ValuePricing.PriceFailure.ZeroPrice, "zero");
        feed.setAnswer(-1);
        _assertFails(src, ValuePricing.PriceFailure.NegativePrice, "negative");
        feed.setAnswer(type(int256).min);
        _assertFails(src, ValuePricing.PriceFailure.NegativePrice, "int256 min");
        feed.setAnswer(0.9e8 - 1);
        _assertFails(src, ValuePricing.PriceFailure.OutOfBounds, "below minPrice");
        feed.setAnswer(1.1e8 + 1);
        _assertFails(src, ValuePricing.PriceFailure.OutOfBounds, "above maxPrice");
        feed.setAnswer(1.1e8);
        _assertValue(src, 1.1e8, "at maxPrice");

        feed.setDecimals(37);
        _assertFails(src, ValuePricing.PriceFailure.BadDecimals, "37 price decimals");
        feed.setDecimals(8);

        feed.setMode(MockAggregator.Mode.Revert);
        _assertFails(src, ValuePricing.PriceFailure.FeedReverted, "reverting feed");
        feed.setMode(MockAggregator.Mode.ShortReturn);
        _assertFails(src, ValuePricing.PriceFailure.FeedReverted, "short return data");
        feed.setMode(MockAggregator.Mode.BurnGas);
        (, , uint256 gasUsed) = h.valueOf(src, 18, 1 ether, 8);
        _assertFails(src, ValuePricing.PriceFailure.FeedReverted, "gas-burning feed");
        assertLe(gasUsed, ValuePricing.FEED_GAS + 5_000, "a gas-burning feed costs at most FEED_GAS");
        assertGe(gasUsed, ValuePricing.FEED_GAS, "the feed got its whole allowance");

        src.feed = address(0xdead);
        _assertFails(src, ValuePricing.PriceFailure.FeedReverted, "feed without code");

        ValuePricing.Source memory none;
        _assertFails(none, ValuePricing.PriceFailure.NoSource, "no source");
        ValuePricing.Source memory zeroRate = _usdc();
        zeroRate.rate = 0;
        _assertFails(zeroRate, ValuePricing.PriceFailure.NoSource, "fixed rate zero");
    }

    /**
     * @notice Random answers, update times, bounds and modes of a feed: a spend is valued only when the feed
     * answered a positive price inside its bounds no older than maxStaleness; otherwise the verdict is owner
     * approval with the reason and no value, never instant or delayed, however small the amount.
     */
    function testFuzz_feedNeverAFreePass(
        int256 answer,
        uint256 age,
        uint128 minPrice,
        uint128 maxPrice,
        uint8 modeSeed,
        uint256 amount
    ) public {
        ValuePricing.Source memory src;
        bool healthy;
        (src, healthy, answer) = _randomFeed(answer, age, minPrice, maxPrice, modeSeed);
        amount = bound(amount, 1, 1e30);
        (ValuePricing.PriceFailure f, uint256 value, ) = h.valueOf(src, 18, amount, 8);
        assertTrue((f == ValuePricing.PriceFailure.None) == healthy, "valued exactly when the feed is healthy");
        ValueBudget.Verdict memory v = h.assessSpend(src, 18, amount, T0);
        if (healthy) {
            assertGe(value, Math.mulDiv(amount, uint256(answer), 1e18), "value rounded up");
            assertEq(v.value, value, "assessed value");
            return;
        }
        assertEq(value, 0, "no value from an unhealthy feed");
        assertEq(uint8(v.tier), uint8(ValueBudget.Tier.Approval), "unhealthy feed: owner approval");
        assertEq(uint8(v.limit), uint8(ValueBudget.Limit.Price), "limit: price");
        assertEq(v.bound, uint8(f), "reason in the verdict");
    }

    /// @dev A feed with a random answer, update time (often around maxStaleness, sometimes 0 or in the future),
    /// bounds and mode (normal 5/8 of the time), whether it is healthy by the rules of {ValuePricing.priceOf}, and
    /// the answer it gives.
    function _randomFeed(
        int256 answer,
        uint256 age,
        uint128 minPrice,
        uint128 maxPrice,
        uint8 modeSeed
    ) internal returns (ValuePricing.Source memory src, bool healthy, int256 answered) {
        // Half of the time an answer inside ordered bounds, so that healthy feeds are common too.
        if (modeSeed >= 128) {
            if (minPrice > maxPrice) (minPrice, maxPrice) = (maxPrice, minPrice);
            answer = int256(bound(uint256(answer), minPrice, maxPrice));
        }
        age = age % 4 == 0 ? bound(age, 0, 2 hours) : age;
        bool future = age > T0 && age % 2 == 0;
        uint256 updatedAt = future ? T0 + (age % 1 days) + 1 : (age > T0 ? 0 : T0 - age);
        MockAggregator feed = new MockAggregator(8, 1);
        feed.setRound(answer, updatedAt);
        MockAggregator.Mode mode = MockAggregator.Mode(modeSeed % 8 < 5 ? 0 : (modeSeed % 8) - 4);
        feed.setMode(mode);
        src = _feed(feed);
        (src.minPrice, src.maxPrice) = (minPrice, maxPrice);
        answered = answer;
        healthy =
            mode == MockAggregator.Mode.Normal &&
            answer > 0 &&
            updatedAt != 0 &&
            updatedAt <= T0 &&
            T0 - updatedAt <= 1 hours &&
            uint256(answer) >= minPrice &&
            uint256(answer) <= maxPrice;
    }

    /// @notice A token without a price source cannot be spent through the value budget: owner approval with the
    /// reason; so does a failing feed, at any amount (even one far below the instant threshold).
    function test_unpricedSpendNeedsApproval() public {
        ValuePricing.Source memory none;
        _expect(
            h.assessSpend(none, 6, 1, T0),
            ValueBudget.Tier.Approval,
            ValueBudget.Limit.Price,
            0,
            uint256(ValuePricing.PriceFailure.NoSource)
        );
        ethUsd.setMode(MockAggregator.Mode.Revert);
        _expect(
            h.assessSpend(_feed(ethUsd), 18, 1, T0),
            ValueBudget.Tier.Approval,
            ValueBudget.Limit.Price,
            0,
            uint256(ValuePricing.PriceFailure.FeedReverted)
        );
        ethUsd.setMode(MockAggregator.Mode.Normal);
        vm.warp(T0 + 2 hours);
        _expect(
            h.assessSpend(_feed(ethUsd), 18, 1, T0 + 2 hours),
            ValueBudget.Tier.Approval,
            ValueBudget.Limit.Price,
            0,
            uint256(ValuePricing.PriceFailure.Stale)
        );
    }

    /// @notice A stablecoin at 1:1 converts exactly for every pair of token and unit decimals 0..24, and 2^128
    /// base units convert without overflow; decimals above 24 and amounts above 2^128 are failures.
    function test_decimalsZeroTo24() public pure {
        for (uint256 td; td <= 24; ++td) {
            for (uint256 ud; ud <= 24; ++ud) {
                (ValuePricing.PriceFailure f, uint256 v) = ValuePricing.convert(10 ** td, 1, 0, td, ud);
                assertTrue(f == ValuePricing.PriceFailure.None, "1:1 valued");
                assertEq(v, 10 ** ud, "one token is one unit");
                (f, v) = ValuePricing.convert(1 << 128, 1, 0, td, ud);
                assertTrue(f == ValuePricing.PriceFailure.None, "2^128 valued");
                assertEq(v, ud >= td ? (1 << 128) * 10 ** (ud - td) : Math.ceilDiv(1 << 128, 10 ** (td - ud)), "2^128");
                // One base unit of a token with more decimals than the unit is worth a whole unit base unit.
                (, v) = ValuePricing.convert(1, 1, 0, td, ud);
                assertEq(v, ud >= td ? 10 ** (ud - td) : 1, "one base unit rounds up");
            }
        }
        (ValuePricing.PriceFailure f2, ) = ValuePricing.convert(1, 1, 0, 25, 8);
        assertTrue(f2 == ValuePricing.PriceFailure.BadDecimals, "token decimals 25");
        (f2, ) = ValuePricing.convert(1, 1, 0, 8, 25);
        assertTrue(f2 == ValuePricing.PriceFailure.BadDecimals, "unit decimals 25");
        (f2, ) = ValuePricing.convert(1, 1, 37, 8, 8);
        assertTrue(f2 == ValuePricing.PriceFailure.BadDecimals, "price decimals 37");
        (f2, ) = ValuePricing.convert((1 << 128) + 1, 1, 0, 8, 8);
        assertTrue(f2 == ValuePricing.PriceFailure.AmountTooLarge, "amount above 2^128");
        (f2, ) = ValuePricing.convert(1 << 128, type(uint128).max, 0, 0, 24);
        assertTrue(f2 == ValuePricing.PriceFailure.Overflow, "value above 2^256");
    }

    /**
     * @notice For random amounts (up to 2^128), prices (below 2^128) and decimals (token and unit 0..24, price
     * 0..36), the value is the exact value rounded up: never below it (in the agent's favour), less than one
     * unit base unit above it; or a reported overflow when it does not fit 256 bits.
     */
    function testFuzz_roundingAgainstTheAgent(
        uint256 amount,
        uint256 price,
        uint256 pd,
        uint256 td,
        uint256 ud
    ) public pure {
        amount = bound(amount, 0, 1 << 128);
        price = bound(price, 1, type(uint128).max);
        pd = bound(pd, 0, 36);
        td = bound(td, 0, 24);
        ud = bound(ud, 0, 24);
        (ValuePricing.PriceFailure f, uint256 v) = ValuePricing.convert(amount, price, pd, td, ud);
        // Reference in 512-bit arithmetic: exact = amount * price * 10^ud / 10^(td + pd).
        (uint256 hi, ) = Math.mul512(amount * price, 10 ** ud);
        uint256 den = 10 ** (td + pd);
        if (hi >= den) {
            assertTrue(f == ValuePricing.PriceFailure.Overflow, "a value above 2^256 is an overflow");
            return;
        }
        uint256 floor = Math.mulDiv(amount * price, 10 ** ud, den);
        bool exact = mulmod(amount * price, 10 ** ud, den) == 0; // mulmod: remainder of the 512-bit product
        if (!exact && floor == type(uint256).max) {
            assertTrue(f == ValuePricing.PriceFailure.Overflow, "ceil above 2^256 - 1");
            return;
        }
        assertTrue(f == ValuePricing.PriceFailure.None, "valued");
        assertEq(v, exact ? floor : floor + 1, "value == ceil(exact)");
        assertGe(v, floor, "never below the exact value");
    }

    // ------------------------------------------------------------------------------------------------
    // Tiers and charging
    // ------------------------------------------------------------------------------------------------

    /// @notice Each limit gives its tier with its number; an unset budget refuses; {ValueBudget.stricter} picks the
    /// later tier and, on a tie, the first verdict.
    function test_tiersAndLimits() public {
        _expect(h.assess(20 * USD, T0), ValueBudget.Tier.Instant, ValueBudget.Limit.None, 20 * USD, 20 * USD);
        _expect(
            h.assess(20 * USD + 1, T0),
            ValueBudget.Tier.Delayed,
            ValueBudget.Limit.InstantThreshold,
            20 * USD + 1,
            20 * USD
        );
        _expect(
            h.assess(200 * USD + 1, T0),
            ValueBudget.Tier.Approval,
            ValueBudget.Limit.Ceiling,
            200 * USD + 1,
            200 * USD
        );
        h.charge(200 * USD, ValueBudget.Tier.Delayed, T0);
        h.charge(200 * USD, ValueBudget.Tier.Delayed, T0 + 1);
        _expect(h.assess(101 * USD, T0 + 2), ValueBudget.Tier.Approval, ValueBudget.Limit.Period, 101 * USD, 100 * USD);
        // Lifetime: a budget whose lifetime cap binds before its period cap.
        ValueBudgetHarness small = new ValueBudgetHarness();
        small.configure(_config(20 * USD, 200 * USD, 500 * USD, 30 * USD, 1 days));
        small.charge(20 * USD, ValueBudget.Tier.Instant, T0);
        _expect(small.assess(11 * USD, T0), ValueBudget.Tier.Approval, ValueBudget.Limit.Lifetime, 11 * USD, 10 * USD);
        // Unset: refused.
        ValueBudgetHarness unset = new ValueBudgetHarness();
        _expect(unset.assess(1, T0), ValueBudget.Tier.Refused, ValueBudget.Limit.Unset, 1, 0);

        ValueBudget.Tier tI = ValueBudget.Tier.Instant;
        ValueBudget.Tier tD = ValueBudget.Tier.Delayed;
        ValueBudget.Tier tA = ValueBudget.Tier.Approval;
        ValueBudget.Tier tR = ValueBudget.Tier.Refused;
        assertTrue(ValueBudget.stricter(tI, tD) == tD && ValueBudget.stricter(tD, tI) == tD, "delayed over instant");
        assertTrue(ValueBudget.stricter(tA, tD) == tA && ValueBudget.stricter(tD, tA) == tA, "approval over delayed");
        assertTrue(ValueBudget.stricter(tR, tA) == tR && ValueBudget.stricter(tI, tR) == tR, "refused over all");
        assertTrue(ValueBudget.stricter(tI, tI) == tI, "tie");
        ValueBudget.Verdict memory a = ValueBudget.Verdict(tD, ValueBudget.Limit.InstantThreshold, 1, 2);
        ValueBudget.Verdict memory b = ValueBudget.Verdict(tD, ValueBudget.Limit.InstantThreshold, 3, 4);
        assertEq(ValueBudget.stricter(a, b).value, 1, "tie keeps the first");
        b.tier = tA;
        assertEq(ValueBudget.stricter(a, b).value, 3, "stricter second");
        // The session tier (IAgentSessions.Tier: Instant 0, Delayed 1, Approval 2) maps by value.
        assertEq(uint8(ValueBudget.Tier.Approval), 2, "approval is 2");
    }

    /// @notice {ValueBudget.charge} enforces the tier's limit and both caps, records nothing when it reverts, and
    /// charges nothing for an owner-approved spend.
    function test_chargeRevertsAndApprovalChargesNothing() public {
        _expectExceeded(ValueBudget.Limit.InstantThreshold, 21 * USD, 20 * USD);
        h.charge(21 * USD, ValueBudget.Tier.Instant, T0);
        _expectExceeded(ValueBudget.Limit.Ceiling, 201 * USD, 200 * USD);
        h.charge(201 * USD, ValueBudget.Tier.Delayed, T0);
        h.charge(200 * USD, ValueBudget.Tier.Delayed, T0);
        h.charge(200 * USD, ValueBudget.Tier.Delayed, T0);
        _expectExceeded(ValueBudget.Limit.Period, 101 * USD, 100 * USD);
        h.charge(101 * USD, ValueBudget.Tier.Delayed, T0);
        h.charge(1_000 * USD, ValueBudget.Tier.Approval, T0); // owner-approved: not charged
        (uint256 periodLeft, uint256 lifetimeLeft) = h.available(T0);
        assertEq(periodLeft, 100 * USD, "period left");
        assertEq(lifetimeLeft, 4_600 * USD, "lifetime left");
        ValueBudgetHarness unset = new ValueBudgetHarness();
        vm.expectRevert(
            abi.encodeWithSelector(ValueBudget.ValueBudgetExceeded.selector, ValueBudget.Limit.Unset, 1, 0)
        );
        unset.charge(1, ValueBudget.Tier.Instant, T0);
        vm.expectRevert(
            abi.encodeWithSelector(ValueBudget.ValueBudgetExceeded.selector, ValueBudget.Limit.Unset, 1, 0)
        );
        h.charge(1, ValueBudget.Tier.Refused, T0);
        ValueBudgetHarness small = new ValueBudgetHarness();
        small.configure(_config(20 * USD, 200 * USD, 500 * USD, 30 * USD, 1 days));
        small.charge(20 * USD, ValueBudget.Tier.Instant, T0);
        vm.expectRevert(
            abi.encodeWithSelector(
                ValueBudget.ValueBudgetExceeded.selector,
                ValueBudget.Limit.Lifetime,
                11 * USD,
                10 * USD
            )
        );
        small.charge(11 * USD, ValueBudget.Tier.Instant, T0 + 3 days);
    }

    /// @notice Configuration checks, a period change forgets the window (not the lifetime), a unit change needs
    /// {ValueBudget.clear}, and {ValueBudget.loosens} flags every raised limit.
    function test_configureAndLoosens() public {
        ValueBudget.Config memory c = _config(20 * USD, 200 * USD, 500 * USD, 5_000 * USD, 0);
        vm.expectRevert(abi.encodeWithSelector(ValueBudget.ValueBudgetInvalidConfig.selector, 1));
        h.configure(c);
        c = _config(201 * USD, 200 * USD, 500 * USD, 5_000 * USD, 1 days);
        vm.expectRevert(abi.encodeWithSelector(ValueBudget.ValueBudgetInvalidConfig.selector, 2));
        h.configure(c);
        c = _config(20 * USD, 200 * USD, 500 * USD, 5_000 * USD, 1 days);
        c.unitDecimals = 25;
        vm.expectRevert(abi.encodeWithSelector(ValueBudget.ValueBudgetInvalidConfig.selector, 3));
        h.configure(c);
        c.unitDecimals = 6;
        vm.expectRevert(abi.encodeWithSelector(ValueBudget.ValueBudgetInvalidConfig.selector, 4));
        h.configure(c);

        h.charge(200 * USD, ValueBudget.Tier.Delayed, T0);
        h.configure(_config(20 * USD, 200 * USD, 500 * USD, 5_000 * USD, 2 days));
        (uint256 periodLeft, uint256 lifetimeLeft) = h.available(T0);
        assertEq(periodLeft, 500 * USD, "window forgotten on a period change");
        assertEq(lifetimeLeft, 4_800 * USD, "lifetime kept");
        h.clear();
        (ValueBudget.Config memory cleared, uint256 lifetime) = h.state();
        assertEq(cleared.period, 0, "cleared config");
        assertEq(lifetime, 0, "cleared lifetime");
        c.unitDecimals = 6;
        h.configure(c);

        ValueBudget.Config memory base = _config(20, 200, 500, 5_000, 1 days);
        ValueBudget.Config memory next = _config(20, 200, 500, 5_000, 1 days);
        assertTrue(!ValueBudget.loosens(base, next), "same");
        next.instantThreshold = 10;
        next.lifetimeCap = 4_000;
        assertTrue(!ValueBudget.loosens(base, next), "tightening");
        next = _config(21, 200, 500, 5_000, 1 days);
        assertTrue(ValueBudget.loosens(base, next), "instant raised");
        next = _config(20, 201, 500, 5_000, 1 days);
        assertTrue(ValueBudget.loosens(base, next), "ceiling raised");
        next = _config(20, 200, 501, 5_000, 1 days);
        assertTrue(ValueBudget.loosens(base, next), "period cap raised");
        next = _config(20, 200, 500, 5_001, 1 days);
        assertTrue(ValueBudget.loosens(base, next), "lifetime raised");
        next = _config(20, 200, 500, 5_000, 1 days - 1);
        assertTrue(ValueBudget.loosens(base, next), "period changed (window forgotten)");
        ValueBudget.Config memory none;
        assertTrue(!ValueBudget.loosens(none, base), "a first budget adds limits");
    }

    /// @notice {ValuePricing.checkSource} rejects every source that can never yield a price.
    function test_checkSource() public {
        h.checkSource(_usdc());
        h.checkSource(_feed(ethUsd));
        ValuePricing.Source memory s;
        _expectInvalidSource(s, 1);
        s = _usdc();
        s.rate = 0;
        _expectInvalidSource(s, 2);
        s = _usdc();
        s.rateDecimals = 37;
        _expectInvalidSource(s, 3);
        s = _feed(ethUsd);
        s.feed = address(0xbeef);
        _expectInvalidSource(s, 4);
        s = _feed(ethUsd);
        s.maxStaleness = 0;
        _expectInvalidSource(s, 5);
        s = _feed(ethUsd);
        s.minPrice = 0;
        _expectInvalidSource(s, 6);
        s = _feed(ethUsd);
        (s.minPrice, s.maxPrice) = (2, 1);
        _expectInvalidSource(s, 7);
    }

    // ------------------------------------------------------------------------------------------------
    // Fuzz: the period cap over three tokens with moving prices
    // ------------------------------------------------------------------------------------------------

    uint256 internal constant STEPS = 24;

    /// @dev One fuzz run: clock and brute-force log of charged values.
    struct Run {
        uint256 now_;
        uint256 n;
        uint256[STEPS] times;
        uint256[STEPS] values;
    }

    /**
     * @notice 24 random payments in the three tokens at random times, each feed's price moving between them:
     * valued, assessed and charged as the session module will (approval-tier spends not charged). The sum charged
     * in any window of `period` seconds never exceeds the period cap, each value is at least the exact value at
     * that payment's price, and the assessment never admits a spend the charge then refuses.
     */
    function testFuzz_windowNeverExceedsCap(uint256[STEPS] memory steps) public {
        Run memory r;
        r.now_ = T0;
        for (uint256 i; i < STEPS; ++i) _fuzzStep(r, steps[i]);
    }

    function _fuzzStep(Run memory r, uint256 seed) internal {
        r.now_ += (seed % 4 == 0) ? 0 : (seed >> 2) % (1 days + 1);
        vm.warp(r.now_);
        uint256 t = (seed >> 40) % 3;
        ValuePricing.Source memory src = t == 0 ? _usdc() : _feed(t == 1 ? ethUsd : btcUsd);
        uint256 decimals = t == 0 ? 6 : (t == 1 ? 18 : 8);
        uint256 price = t == 0 ? 1 : (t == 1 ? 1_500e8 : 30_000e8) + ((seed >> 50) % (t == 1 ? 3_000e8 : 60_000e8));
        if (t != 0) (t == 1 ? ethUsd : btcUsd).setAnswer(int256(price));
        uint256 target = (seed >> 100) % 260e8;
        // The token amount worth about `target` (USDC: 6 decimals at $1, the unit has 8).
        uint256 amount = t == 0 ? target / 100 : Math.mulDiv(target, 10 ** decimals, price);
        ValueBudget.Verdict memory v = h.assessSpend(src, decimals, amount, r.now_);
        uint256 floorValue = t == 0 ? amount * 100 : Math.mulDiv(amount, price, 10 ** decimals);
        assertGe(v.value, floorValue, "value below the exact value");
        if (v.tier == ValueBudget.Tier.Approval) return;
        h.charge(v.value, v.tier, r.now_); // reverts the run if the assessment admitted a spend the charge refuses
        r.times[r.n] = r.now_;
        r.values[r.n] = v.value;
        ++r.n;
        uint256 from = r.now_ + 1 > 1 days ? r.now_ + 1 - 1 days : 0;
        uint256 sum;
        for (uint256 k; k < r.n; ++k) if (r.times[k] >= from) sum += r.values[k];
        assertLe(sum, 500 * USD, "charged in a window of period over the cap");
    }

    // ------------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------------

    function _config(
        uint256 instant,
        uint256 ceiling,
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 period
    ) internal pure returns (ValueBudget.Config memory) {
        return
            ValueBudget.Config(
                "USD",
                8,
                uint32(period),
                uint128(instant),
                uint128(ceiling),
                uint128(periodCap),
                uint128(lifetimeCap)
            );
    }

    function _usdc() internal pure returns (ValuePricing.Source memory) {
        return ValuePricing.Source(ValuePricing.Kind.Fixed, 0, 0, address(0), 1, 0, 0);
    }

    function _feed(MockAggregator feed) internal pure returns (ValuePricing.Source memory) {
        return ValuePricing.Source(ValuePricing.Kind.Aggregator, 0, 1 hours, address(feed), 0, 1, type(uint128).max);
    }

    function _pay(
        ValuePricing.Source memory src,
        uint256 decimals,
        uint256 amount,
        uint256 expectedValue,
        ValueBudget.Tier expectedTier
    ) internal {
        ValueBudget.Verdict memory v = h.assessSpend(src, decimals, amount, block.timestamp);
        assertEq(v.value, expectedValue, "value");
        assertTrue(v.tier == expectedTier, "tier");
        h.charge(v.value, v.tier, block.timestamp);
    }

    function _expect(
        ValueBudget.Verdict memory v,
        ValueBudget.Tier tier,
        ValueBudget.Limit limit,
        uint256 value,
        uint256 bound_
    ) internal pure {
        assertEq(uint8(v.tier), uint8(tier), "verdict tier");
        assertEq(uint8(v.limit), uint8(limit), "verdict limit");
        assertEq(v.value, value, "verdict value");
        assertEq(v.bound, bound_, "verdict bound");
    }

    function _assertValue(ValuePricing.Source memory src, uint256 price, string memory label) internal view {
        (ValuePricing.PriceFailure f, uint256 v, ) = h.valueOf(src, 18, 1 ether, 8);
        assertEq(uint8(f), 0, label);
        assertEq(v, price, label);
    }

    function _assertFails(
        ValuePricing.Source memory src,
        ValuePricing.PriceFailure expected,
        string memory label
    ) internal view {
        (ValuePricing.PriceFailure f, uint256 v, ) = h.valueOf(src, 18, 1 ether, 8);
        assertEq(uint8(f), uint8(expected), label);
        assertEq(v, 0, label);
    }

    function _expectExceeded(ValueBudget.Limit limit, uint256 value, uint256 bound_) internal {
        vm.expectRevert(abi.encodeWithSelector(ValueBudget.ValueBudgetExceeded.selector, limit, value, bound_));
    }

    function _expectInvalidSource(ValuePricing.Source memory s, uint8 field) internal {
        vm.expectRevert(abi.encodeWithSelector(ValuePricing.ValuePricingInvalidSource.selector, field));
        h.checkSource(s);
    }
}

/**
 * @notice Invariant test: random payments in USDC, WETH and WBTC with moving prices against one USD budget
 * ({ValueBudgetHandler}); runs as configured in `test.solidity` (1,000 in the default profile).
 */
contract ValueBudgetInvariantTest is TestBase {
    /// @dev Matches Foundry's `FuzzSelector`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    ValueBudgetHandler internal handler;

    /// @notice Deploys the handler.
    function setUp() public {
        handler = new ValueBudgetHandler();
    }

    /// @notice Only the handler is called by the invariant engine.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Only {ValueBudgetHandler.pay} is called.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](1);
        selectors[0] = ValueBudgetHandler.pay.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    /**
     * @notice After every call: the sum charged in any `period` seconds is within the period cap, the total
     * within the lifetime cap and equal to what the library recorded, every value was the exact value rounded
     * up, and no charge the assessment admitted was refused.
     */
    /// forge-config: default.invariant.depth = 100
    function invariant_valueWithinCaps() public view {
        assertLe(handler.maxWindowCharged(), handler.PERIOD_CAP(), "charged in a period");
        assertLe(handler.totalCharged(), handler.LIFETIME_CAP(), "charged over the lifetime");
        assertEq(handler.recordedLifetime(), handler.totalCharged(), "recorded lifetime");
        assertEq(handler.roundingViolations(), 0, "rounding");
        assertEq(handler.wrongVerdicts(), 0, "verdicts");
    }

    /// @notice The handler exercises both outcomes and fills a window exactly to the cap.
    function test_handlerExercisesAllPaths() public {
        for (uint256 i; i < 400; ++i) {
            uint256 seed = uint256(keccak256(abi.encode(i)));
            handler.pay(i, seed, seed >> 64, seed >> 128);
        }
        assertGe(handler.charged(), 50, "charged");
        assertGe(handler.notCharged(), 20, "not charged");
        // Amounts are whole token base units, so "exactly what is left" lands within a cent of the cap.
        assertGe(handler.maxWindowCharged() + 1e6, handler.PERIOD_CAP(), "a window filled to the cap");
        invariant_valueWithinCaps();
    }
}
