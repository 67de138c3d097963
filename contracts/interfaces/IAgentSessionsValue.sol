// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ValueBudget} from "../libraries/ValueBudget.sol";
import {ValuePricing} from "../libraries/ValuePricing.sol";

/**
 * @title IAgentSessionsValue
 * @notice Budgets in money for {AgentSessions}: a value budget per session and one per account (over all its
 * sessions), in one unit per account (e.g. "USD"), over tokens that each have a price source (a fixed rate or a
 * Chainlink-style feed). Spends are valued in the execution phase at the price of that block, and charged in
 * addition to the per-token budgets; the operation's tier is the strictest of the per-token and value verdicts.
 * A spend that cannot be valued (no source, stale, zero, negative, out-of-bounds or reverting feed) needs the
 * owner's approval. Prices are never read in validation (ERC-7562).
 */
interface IAgentSessionsValue {
    /// @notice A token's price source and its decimals (`address(0)`: native ETH).
    struct PriceEntry {
        uint8 tokenDecimals;
        ValuePricing.Source source;
    }

    /// @notice A value budget and what is left of its caps now (all zero when none is set).
    struct ValueBudgetStatus {
        ValueBudget.Config config;
        uint256 periodLeft;
        uint256 lifetimeLeft;
    }

    /**
     * @notice The value verdicts of a spend ({quoteValue}, the `value` of an operation preview).
     * @dev `session` and `account` are the verdicts of the session's and the account's value budget (tier
     * `Instant`, limit `None`, value 0 for a budget that is not set); `tier` is the stricter of the two. When the
     * spend cannot be valued, `failure` says why and `unpricedToken` names the token, and every set budget's
     * verdict is owner approval with limit `Price`.
     */
    struct ValueQuote {
        bool active;
        ValueBudget.Tier tier;
        ValuePricing.PriceFailure failure;
        address unpricedToken;
        ValueBudget.Verdict session;
        ValueBudget.Verdict account;
    }

    /// @notice A value budget was set (`sessionId` zero: the account's budget over all its sessions).
    event ValueBudgetSet(address indexed account, bytes32 indexed sessionId, ValueBudget.Config config);

    /// @notice A value budget was removed.
    event ValueBudgetCleared(address indexed account, bytes32 indexed sessionId);

    /// @notice A token's price source was set.
    event PriceSourceSet(address indexed account, address indexed token, PriceEntry entry);

    /// @notice A token's price source was removed: its spends need the owner's approval under a value budget.
    event PriceSourceRemoved(address indexed account, address indexed token);

    /// @notice An agent operation's value verdict was above instant: the reason it was queued (with {OperationQueued}).
    event ValueAssessed(address indexed account, bytes32 indexed sessionId, ValueQuote quote);

    /// @notice The value an agent execution spent, charged to the session's and the account's value budgets.
    event ValueSpendRecorded(address indexed account, bytes32 indexed sessionId, uint256 value, ValueBudget.Tier tier);

    /// @notice An execution spent `token` but it cannot be valued now (`failure`): nothing is charged, it reverts.
    error AgentSessionsValueUnpriced(address token, ValuePricing.PriceFailure failure);

    /// @notice A price source cannot yield a price ({ValuePricing-checkSource}: `field` names what is wrong).
    error ValuePricingInvalidSource(uint8 field);

    /// @notice A value-budget configuration is invalid ({ValueBudget-configure}: `field` names what is wrong).
    error ValueBudgetInvalidConfig(uint8 field);

    /// @notice A value charge does not fit `limit` (its number is `bound`); the execution reverts.
    error ValueBudgetExceeded(ValueBudget.Limit limit, uint256 value, uint256 bound);

    /// @notice A value budget's unit is empty or differs from the account's (fixed by its first value budget).
    error AgentSessionsValueUnit(bytes8 unit, bytes8 accountUnit);

    /// @notice A price source's token decimals are above {ValuePricing-MAX_DECIMALS} (24).
    error AgentSessionsValueTokenDecimals(uint8 tokenDecimals);

    /**
     * @notice Set the value budget of `sessionId` (zero: the account's, over all sessions). A first budget only adds
     * limits and applies at once; a raised limit, another period or unit (see {ValueBudget-loosens}) waits the
     * security delay. The unit must be the account's (the first value budget fixes it).
     */
    function setValueBudget(bytes32 sessionId, ValueBudget.Config calldata config) external;

    /// @notice Remove the value budget of `sessionId` (zero: the account's): loosening, waits the security delay.
    function clearValueBudget(bytes32 sessionId) external;

    /**
     * @notice Set `token`'s price source in the account's unit (`address(0)`: native ETH). Once the account has a
     * value budget, any new or changed source is loosening and waits the security delay.
     */
    function setPriceSource(address token, uint8 tokenDecimals, ValuePricing.Source calldata source) external;

    /// @notice Remove `token`'s price source (tightening: at once; its spends then need the owner's approval).
    function removePriceSource(address token) external;

    /**
     * @notice The value verdicts of spending `amounts` of `tokens` now in `sessionId` of `account` (reads the feeds:
     * never call it in validation). `active` is false when no value budget applies.
     */
    function quoteValue(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) external view returns (ValueQuote memory);

    /// @notice The value budget of `sessionId` of `account` (zero: the account's) and what is left of it now.
    function valueBudgetOf(address account, bytes32 sessionId) external view returns (ValueBudgetStatus memory);

    /// @notice The price source of `token` for `account` (kind `Unset` when none).
    function priceSourceOf(address account, address token) external view returns (PriceEntry memory);

    /// @notice The account's value unit (zero until its first value budget).
    function valueUnitOf(address account) external view returns (bytes8);
}
