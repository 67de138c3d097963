// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ValueBudget} from "../../libraries/ValueBudget.sol";
import {ValuePricing} from "../../libraries/ValuePricing.sol";
import {MockAggregator} from "../../mocks/oracles/MockAggregator.sol";

/**
 * @title ValueBudgetHandler
 * @notice Invariant-test handler: one USD budget (8 decimals) paid in three tokens (USDC 6 decimals at a fixed
 * 1:1 rate, WETH 18 decimals and WBTC 8 decimals on mock aggregators whose price moves between calls), driven by
 * random {pay} calls that value, assess and charge a spend as the session module will. Every charged value is
 * logged with its time; violations are counted in ghost variables (the invariant engine ignores reverts).
 */
contract ValueBudgetHandler {
    using ValueBudget for ValueBudget.Budget;

    /// @notice Window length of the budget.
    uint32 public constant PERIOD = 1 hours;
    /// @notice Period cap (USD 500, 8 decimals).
    uint128 public constant PERIOD_CAP = 500e8;
    /// @notice Lifetime cap (USD 4,000).
    uint128 public constant LIFETIME_CAP = 4_000e8;

    ValueBudget.Budget internal _budget;
    MockAggregator internal immutable _weth;
    MockAggregator internal immutable _wbtc;
    uint256 internal _clock = 1_700_000_000;
    uint256[] internal _times;
    uint256[] internal _values;

    /// @notice Ghost: sum of charged values.
    uint256 public totalCharged;
    /// @notice Ghost: largest sum charged in any `PERIOD` consecutive seconds.
    uint256 public maxWindowCharged;
    /// @notice Ghost: values below the exact value, or more than one base unit above it.
    uint256 public roundingViolations;
    /// @notice Ghost: charges that reverted although the assessment admitted them, or verdicts with wrong numbers.
    uint256 public wrongVerdicts;
    /// @notice Counters: charged (instant or delayed) and not charged (approval) payments.
    uint256 public charged;
    uint256 public notCharged;

    constructor() {
        _budget.configure(ValueBudget.Config("USD", 8, PERIOD, 20e8, 200e8, PERIOD_CAP, LIFETIME_CAP));
        _weth = new MockAggregator(8, 3_000e8);
        _wbtc = new MockAggregator(8, 60_000e8);
    }

    /**
     * @notice Advances the clock, moves one feed's price, and pays a random amount of a random token.
     * @param tokenSeed Selects the token (0 USDC, 1 WETH, 2 WBTC).
     * @param dtSeed Selects the time step.
     * @param amountSeed Selects the amount (values from 0 to about USD 300, sometimes exactly what is left).
     * @param priceSeed Selects the new price of the token's feed.
     */
    function pay(uint256 tokenSeed, uint256 dtSeed, uint256 amountSeed, uint256 priceSeed) external {
        _clock += _dt(dtSeed);
        uint256 t = tokenSeed % 3;
        (ValuePricing.Source memory src, uint256 decimals, uint256 price) = _token(t, priceSeed);
        uint256 amount = _amount(amountSeed, decimals, price);

        ValueBudget.Verdict memory v = _budget.assessSpend(src, decimals, amount, _clock);
        if (v.limit == ValueBudget.Limit.Price) {
            ++wrongVerdicts; // every source here is healthy
            return;
        }
        _checkRounding(v.value, amount, price, decimals);
        (uint256 periodLeft, uint256 lifetimeLeft) = _budget.available(_clock);
        if (v.tier == ValueBudget.Tier.Approval) {
            ++notCharged;
            if (v.value <= periodLeft && v.value <= lifetimeLeft && v.value <= 200e8) ++wrongVerdicts;
            return;
        }
        try this.chargeSelf(v.value, v.tier, _clock) {
            ++charged;
            _times.push(_clock);
            _values.push(v.value);
            totalCharged += v.value;
            uint256 windowSum = _sumSince(_clock + 1 > PERIOD ? _clock + 1 - PERIOD : 0);
            if (windowSum > maxWindowCharged) maxWindowCharged = windowSum;
        } catch {
            ++wrongVerdicts;
        }
    }

    /// @notice Charges the handler's budget (external so that {pay} can catch a revert). Only callable by itself.
    /// @param value Value to charge.
    /// @param tier Tier of the spend.
    /// @param now_ Time.
    function chargeSelf(uint256 value, ValueBudget.Tier tier, uint256 now_) external {
        require(msg.sender == address(this), "self only");
        _budget.charge(value, tier, now_);
    }

    /// @notice The budget's recorded lifetime total.
    /// @return The total.
    function recordedLifetime() external view returns (uint256) {
        return _budget.window.lifetime;
    }

    /// @dev The token's source, decimals and (after moving it) the price the valuation will read.
    function _token(
        uint256 t,
        uint256 priceSeed
    ) private returns (ValuePricing.Source memory src, uint256 decimals, uint256 price) {
        // USDC: a fixed rate of 1.00000000 (8 decimals, like the feeds), so one formula checks every token.
        if (t == 0) return (ValuePricing.Source(ValuePricing.Kind.Fixed, 8, 0, address(0), 1e8, 0, 0), 6, 1e8);
        MockAggregator feed = t == 1 ? _weth : _wbtc;
        uint256 base = t == 1 ? 3_000e8 : 60_000e8;
        price = base / 2 + (priceSeed % (base + 1)); // 0.5x .. 1.5x
        feed.setAnswer(int256(price));
        src = ValuePricing.Source(ValuePricing.Kind.Aggregator, 0, 1 hours, address(feed), 0, 1, type(uint128).max);
        decimals = t == 1 ? 18 : 8;
    }

    /// @dev Counts a violation unless value == ceil(amount * price / 10^decimals) (price and unit: 8 decimals).
    function _checkRounding(uint256 value, uint256 amount, uint256 price, uint256 decimals) private {
        uint256 down = Math.mulDiv(amount, price, 10 ** decimals);
        bool exact = mulmod(amount, price, 10 ** decimals) == 0;
        if (value != down + (exact ? 0 : 1)) ++roundingViolations;
    }

    function _amount(uint256 seed, uint256 decimals, uint256 price) private view returns (uint256) {
        // Target value in USD base units, then the token amount worth about that much (rounded either way).
        uint256 mode = seed % 4;
        uint256 target;
        if (mode == 0) {
            (uint256 periodLeft, uint256 lifetimeLeft) = _budget.available(_clock);
            target = Math.min(periodLeft, lifetimeLeft);
        } else {
            target = (seed >> 2) % 300e8;
        }
        return Math.mulDiv(target, 10 ** decimals, price);
    }

    function _dt(uint256 seed) private pure returns (uint256) {
        uint256 mode = seed % 4;
        if (mode == 0) return 0;
        if (mode == 1) return (seed >> 2) % 600;
        if (mode == 2) return PERIOD - 1 + ((seed >> 2) % 3);
        return (seed >> 2) % (3 * PERIOD);
    }

    function _sumSince(uint256 from) private view returns (uint256 sum) {
        for (uint256 i = _times.length; i > 0 && _times[i - 1] >= from; --i) sum += _values[i - 1];
    }
}
