// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SpendWindow} from "./SpendWindow.sol";
import {ValuePricing} from "./ValuePricing.sol";

/**
 * @title ValueBudget
 * @notice A budget in money (a unit such as USD with 8 decimals) across tokens: per-operation ceiling, instant
 * threshold, a sliding period cap with {SpendWindow}'s guarantee (no window of `period` seconds sees more than the
 * cap) and a lifetime cap. Spends are valued by {ValuePricing} and charged in the execution phase.
 *
 * @dev Used by AgentSessions in the EXECUTION PHASE ONLY (`AgentSessionsAdminValue`, run by delegatecall from
 * `AgentSessionsValue`): nothing here may run in `validateUserOp` (ERC-7562: {ValuePricing} calls feeds and reads
 * the timestamp). The operation's tier is the stricter of the per-token verdict and the session's and the account's
 * value verdicts; `Tier` values 0..2 equal `IAgentSessions.Tier`; an approved run charges nothing; a queued
 * (delayed) request is valued again when it runs.
 */
library ValueBudget {
    using SpendWindow for SpendWindow.State;

    /// @notice Tiers, strictest last. 0..2 are `IAgentSessions.Tier`'s values; `Refused` cannot be approved.
    enum Tier {
        Instant,
        Delayed,
        Approval,
        Refused
    }

    /// @notice The limit that set a verdict's tier.
    enum Limit {
        None, // instant: within every limit (bound = instant threshold)
        InstantThreshold, // delayed: above the instant threshold (bound = threshold)
        Ceiling, // approval: above the per-operation ceiling (bound = ceiling)
        Period, // approval: above what is left of the period cap (bound = left)
        Lifetime, // approval: above what is left of the lifetime cap (bound = left)
        Price, // approval: the spend could not be valued (bound = uint8 of the ValuePricing.PriceFailure)
        Unset // refused: no value budget configured (bound = 0)
    }

    /**
     * @notice Configuration (3 slots). Amounts are in unit base units (`10^unitDecimals` per whole unit).
     * @dev `period > 0`, `instantThreshold <= ceiling`; caps may be below the ceiling (they bind first).
     */
    struct Config {
        bytes8 unit; // e.g. "USD", informational
        uint8 unitDecimals; // 0..24
        uint32 period; // seconds
        uint128 instantThreshold;
        uint128 ceiling;
        uint128 periodCap;
        uint128 lifetimeCap;
    }

    /// @notice A value budget: configuration and its spend record (6 slots).
    struct Budget {
        Config config;
        SpendWindow.State window;
    }

    /// @notice The outcome of {assess}: tier, the limit that set it, the value and the limit's number.
    struct Verdict {
        Tier tier;
        Limit limit;
        uint256 value;
        uint256 bound;
    }

    /// @notice A configuration field is invalid: 1 period zero, 2 instant threshold above ceiling, 3 unit decimals
    /// above 24, 4 unit or unit decimals changed on a live budget ({clear} it first).
    /// @param field The field.
    error ValueBudgetInvalidConfig(uint8 field);

    /// @notice A charge does not fit: `limit` with its number `bound` (threshold, ceiling, or what was left).
    /// @param limit The limit hit.
    /// @param value The value charged.
    /// @param bound The limit's number.
    error ValueBudgetExceeded(Limit limit, uint256 value, uint256 bound);

    // ---------------------------------------------------------------------------------------------------
    // Configuration
    // ---------------------------------------------------------------------------------------------------

    /**
     * @notice Sets the configuration; a changed period forgets the window (its sub-bucket length changes), the
     * lifetime total is kept. Reverts {ValueBudgetInvalidConfig}.
     * @param b The budget.
     * @param c The new configuration.
     */
    function configure(Budget storage b, Config memory c) internal {
        if (c.period == 0) revert ValueBudgetInvalidConfig(1);
        if (c.instantThreshold > c.ceiling) revert ValueBudgetInvalidConfig(2);
        if (c.unitDecimals > ValuePricing.MAX_DECIMALS) revert ValueBudgetInvalidConfig(3);
        Config storage old = b.config;
        if (old.period != 0) {
            if (old.unit != c.unit || old.unitDecimals != c.unitDecimals) revert ValueBudgetInvalidConfig(4);
            if (old.period != c.period) b.window.clearWindow();
        }
        b.config = c;
    }

    /// @notice Forgets everything (configuration, window and lifetime total): a loosening.
    /// @param b The budget.
    function clear(Budget storage b) internal {
        delete b.config;
        b.window.clearWindow();
        b.window.lifetime = 0;
    }

    /**
     * @notice Whether going from `old` to `next` loosens the budget (waits the security delay): a raised limit,
     * a changed period (it forgets the window) or a changed unit. Setting a first budget only adds limits and is
     * not loosening; removing one ({clear}) is.
     * @param old Current configuration (`period == 0`: none).
     * @param next New configuration.
     * @return Whether the change loosens.
     */
    function loosens(Config memory old, Config memory next) internal pure returns (bool) {
        if (old.period == 0) return false;
        return
            next.instantThreshold > old.instantThreshold ||
            next.ceiling > old.ceiling ||
            next.periodCap > old.periodCap ||
            next.lifetimeCap > old.lifetimeCap ||
            next.period != old.period ||
            next.unit != old.unit ||
            next.unitDecimals != old.unitDecimals;
    }

    // ---------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------

    /// @notice Whether a budget is configured.
    /// @param b The budget.
    /// @return True when configured.
    function isSet(Budget storage b) internal view returns (bool) {
        return b.config.period != 0;
    }

    /**
     * @notice What is left under each cap at `now_` (0 for an unset budget).
     * @param b The budget.
     * @param now_ Current timestamp.
     * @return periodLeft Left of the period cap.
     * @return lifetimeLeft Left of the lifetime cap.
     */
    function available(
        Budget storage b,
        uint256 now_
    ) internal view returns (uint256 periodLeft, uint256 lifetimeLeft) {
        Config memory c = b.config;
        if (c.period == 0) return (0, 0);
        return b.window.available(c.periodCap, c.lifetimeCap, c.period, now_);
    }

    /**
     * @notice The tier of spending `value` (unit base units) at `now_`, with the limit that decides it. Same order
     * as the token budgets: period and lifetime caps, then ceiling (approval), then instant threshold (delayed).
     * @param b The budget.
     * @param value Value of the operation.
     * @param now_ Current timestamp.
     * @return v The verdict.
     */
    function assess(Budget storage b, uint256 value, uint256 now_) internal view returns (Verdict memory v) {
        Config memory c = b.config;
        v.value = value;
        if (c.period == 0) {
            (v.tier, v.limit) = (Tier.Refused, Limit.Unset);
            return v;
        }
        (uint256 periodLeft, uint256 lifetimeLeft) = b.window.available(c.periodCap, c.lifetimeCap, c.period, now_);
        if (value > periodLeft) (v.tier, v.limit, v.bound) = (Tier.Approval, Limit.Period, periodLeft);
        else if (value > lifetimeLeft) (v.tier, v.limit, v.bound) = (Tier.Approval, Limit.Lifetime, lifetimeLeft);
        else if (value > c.ceiling) (v.tier, v.limit, v.bound) = (Tier.Approval, Limit.Ceiling, c.ceiling);
        else if (value > c.instantThreshold) {
            (v.tier, v.limit, v.bound) = (Tier.Delayed, Limit.InstantThreshold, c.instantThreshold);
        } else (v.tier, v.limit, v.bound) = (Tier.Instant, Limit.None, c.instantThreshold);
    }

    /**
     * @notice The verdict for a spend that could not be valued: owner approval, with the reason as the bound.
     * @param failure The pricing failure (not `None`).
     * @return v The verdict.
     */
    function assessFailure(ValuePricing.PriceFailure failure) internal pure returns (Verdict memory v) {
        (v.tier, v.limit, v.bound) = (Tier.Approval, Limit.Price, uint256(failure));
    }

    /**
     * @notice Values `amount` of a token with {ValuePricing.valueOf} and assesses it ({assessFailure} if it cannot
     * be valued). Execution phase only.
     * @param b The budget.
     * @param src The token's price source.
     * @param tokenDecimals The token's decimals.
     * @param amount Amount in token base units.
     * @param now_ Current timestamp.
     * @return v The verdict (its `value` is the value, rounded up).
     */
    function assessSpend(
        Budget storage b,
        ValuePricing.Source memory src,
        uint256 tokenDecimals,
        uint256 amount,
        uint256 now_
    ) internal view returns (Verdict memory v) {
        (ValuePricing.PriceFailure failure, uint256 value) = ValuePricing.valueOf(
            src,
            tokenDecimals,
            amount,
            b.config.unitDecimals
        );
        if (failure != ValuePricing.PriceFailure.None) return assessFailure(failure);
        return assess(b, value, now_);
    }

    /// @notice The stricter of two tiers (combines a per-token verdict with a value verdict).
    /// @param a A tier.
    /// @param b Another tier.
    /// @return The later one in {Tier}'s order.
    function stricter(Tier a, Tier b) internal pure returns (Tier) {
        return uint8(a) >= uint8(b) ? a : b;
    }

    /// @notice The stricter of two verdicts (`a` on a tie, so the first limit hit is reported).
    /// @param a A verdict.
    /// @param b Another verdict.
    /// @return The verdict with the stricter tier.
    function stricter(Verdict memory a, Verdict memory b) internal pure returns (Verdict memory) {
        return uint8(b.tier) > uint8(a.tier) ? b : a;
    }

    // ---------------------------------------------------------------------------------------------------
    // Charging
    // ---------------------------------------------------------------------------------------------------

    /**
     * @notice Charges `value` spent at `tier` at `now_`: an instant spend must fit the instant threshold, a delayed
     * one the ceiling, both the period and lifetime caps; an approval-tier spend is owner-authorised and charges
     * nothing. Reverts {ValueBudgetExceeded} (nothing recorded), or for an unset budget or the refused tier
     * `ValueBudgetExceeded(Limit.Unset, value, 0)`.
     * @param b The budget.
     * @param value Value spent (unit base units).
     * @param tier The tier the operation runs at.
     * @param now_ Current timestamp.
     */
    function charge(Budget storage b, uint256 value, Tier tier, uint256 now_) internal {
        if (tier == Tier.Approval) return;
        Config memory c = b.config;
        if (c.period == 0 || tier == Tier.Refused) revert ValueBudgetExceeded(Limit.Unset, value, 0);
        if (tier == Tier.Instant && value > c.instantThreshold) {
            revert ValueBudgetExceeded(Limit.InstantThreshold, value, c.instantThreshold);
        }
        if (value > c.ceiling) revert ValueBudgetExceeded(Limit.Ceiling, value, c.ceiling);
        (bool ok, uint256 periodLeft, uint256 lifetimeLeft) = b.window.tryRecord(
            value,
            c.periodCap,
            c.lifetimeCap,
            c.period,
            now_
        );
        if (!ok) {
            if (value > periodLeft) revert ValueBudgetExceeded(Limit.Period, value, periodLeft);
            revert ValueBudgetExceeded(Limit.Lifetime, value, lifetimeLeft);
        }
    }
}
