// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgentSessionsValue} from "../../interfaces/IAgentSessionsValue.sol";
import {ValueBudget} from "../../libraries/ValueBudget.sol";
import {ValuePricing} from "../../libraries/ValuePricing.sol";
import {AgentSessionsAdminBase} from "./AgentSessionsAdminBase.sol";

/**
 * @title AgentSessionsAdminValue
 * @notice Value budgets of {AgentSessionsAdmin} (see {IAgentSessionsValue}): their configuration, and the valuation
 * and charging that {AgentSessions}' execution phase runs here by `delegatecall` (reading price feeds and the
 * timestamp is allowed there, never in validation).
 * @dev `assessValue` and `chargeValue` are not forwarded by {AgentSessions}' dispatcher, and this contract's
 * functions revert unless run by `delegatecall`: only {AgentSessions}' own execution code reaches them.
 * Loosening: a raised limit, another period, a removed budget, and (once the account has a value budget) a new or
 * changed price source wait the security delay; a first budget and a removed price source apply at once.
 */
abstract contract AgentSessionsAdminValue is AgentSessionsAdminBase {
    using ValueBudget for ValueBudget.Budget;

    /// @notice Session id of the account's own value budget, over all its sessions.
    bytes32 internal constant _ACCOUNT_BUDGET = bytes32(0);

    /// @inheritdoc IAgentSessionsValue
    function setValueBudget(bytes32 sessionId, ValueBudget.Config calldata config) external delegated {
        address account = _account();
        if (sessionId != _ACCOUNT_BUDGET && _sessions[sessionId][account].agent == address(0)) {
            revert AgentSessionsUnknownSession(sessionId);
        }
        bytes8 unit = _valueUnit[account];
        if (config.unit == bytes8(0) || (unit != bytes8(0) && unit != config.unit)) {
            revert AgentSessionsValueUnit(config.unit, unit);
        }
        ValueBudget.Budget storage b = _valueBudgets[sessionId][account];
        if (ValueBudget.loosens(b.config, config) && !_loosening(account)) return;
        b.configure(config);
        _valueUnit[account] = config.unit;
        _accounts[account].hasValueBudget = true;
        emit ValueBudgetSet(account, sessionId, config);
    }

    /// @inheritdoc IAgentSessionsValue
    function clearValueBudget(bytes32 sessionId) external delegated {
        address account = _account();
        ValueBudget.Budget storage b = _valueBudgets[sessionId][account];
        if (!b.isSet() || !_loosening(account)) return;
        b.clear();
        emit ValueBudgetCleared(account, sessionId);
    }

    /// @inheritdoc IAgentSessionsValue
    function setPriceSource(
        address token,
        uint8 tokenDecimals,
        ValuePricing.Source calldata source
    ) external delegated {
        address account = _account();
        ValuePricing.checkSource(source);
        if (tokenDecimals > ValuePricing.MAX_DECIMALS) revert AgentSessionsValueTokenDecimals(tokenDecimals);
        if (_accounts[account].hasValueBudget && !_loosening(account)) return;
        PriceEntry memory entry = PriceEntry(tokenDecimals, source);
        _priceSources[token][account] = entry;
        emit PriceSourceSet(account, token, entry);
    }

    /// @inheritdoc IAgentSessionsValue
    function removePriceSource(address token) external delegated {
        delete _priceSources[token][msg.sender];
        emit PriceSourceRemoved(msg.sender, token);
    }

    /**
     * @notice Execution phase of {AgentSessions}: the value tier of an operation's calldata-visible spend (instant
     * when no value budget applies), with {ValueAssessed} when it is above instant.
     * @param account The account.
     * @param sessionId The session.
     * @param tokens The session's budgeted tokens.
     * @param amounts The spend per token.
     * @return tier The value tier (never `Refused`).
     */
    function assessValue(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) external delegated returns (Tier tier) {
        ValueQuote memory q = _quote(account, sessionId, tokens, amounts);
        tier = Tier(uint8(q.tier));
        if (tier != Tier.Instant) emit ValueAssessed(account, sessionId, q);
    }

    /**
     * @notice Execution phase of {AgentSessions}: values what an execution spent at this block's prices and charges
     * it to the session's and the account's value budgets at `tier`. Reverts {AgentSessionsValueUnpriced} when a
     * spent token cannot be valued, or `ValueBudgetExceeded` when a limit does not hold.
     * @param account The account.
     * @param sessionId The session.
     * @param tokens The session's budgeted tokens.
     * @param amounts The amount charged per token.
     * @param tier The tier the execution runs at (instant or delayed; approved runs are not charged).
     */
    function chargeValue(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts,
        Tier tier
    ) external delegated {
        uint256 charged;
        for (uint256 k = 0; k < 2; ++k) {
            ValueBudget.Budget storage b = _valueBudgets[k == 0 ? sessionId : _ACCOUNT_BUDGET][account];
            if (!b.isSet()) continue;
            (ValuePricing.PriceFailure failure, uint256 index, uint256 value) = _value(account, b, tokens, amounts);
            if (failure != ValuePricing.PriceFailure.None) revert AgentSessionsValueUnpriced(tokens[index], failure);
            b.charge(value, ValueBudget.Tier(uint8(tier)), block.timestamp);
            if (k == 0 || charged == 0) charged = value;
        }
        if (charged != 0) emit ValueSpendRecorded(account, sessionId, charged, ValueBudget.Tier(uint8(tier)));
    }

    /// @inheritdoc IAgentSessionsValue
    function quoteValue(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) external view delegated returns (ValueQuote memory) {
        return _quote(account, sessionId, tokens, amounts);
    }

    /// @inheritdoc IAgentSessionsValue
    function valueBudgetOf(
        address account,
        bytes32 sessionId
    ) external view delegated returns (ValueBudgetStatus memory status) {
        ValueBudget.Budget storage b = _valueBudgets[sessionId][account];
        status.config = b.config;
        (status.periodLeft, status.lifetimeLeft) = b.available(block.timestamp);
    }

    /// @inheritdoc IAgentSessionsValue
    function priceSourceOf(address account, address token) external view delegated returns (PriceEntry memory) {
        return _priceSources[token][account];
    }

    /// @inheritdoc IAgentSessionsValue
    function valueUnitOf(address account) external view delegated returns (bytes8) {
        return _valueUnit[account];
    }

    function _quote(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) internal view returns (ValueQuote memory q) {
        for (uint256 k = 0; k < 2; ++k) {
            ValueBudget.Budget storage b = _valueBudgets[k == 0 ? sessionId : _ACCOUNT_BUDGET][account];
            if (!b.isSet()) continue;
            (ValuePricing.PriceFailure failure, uint256 index, uint256 value) = _value(account, b, tokens, amounts);
            ValueBudget.Verdict memory v;
            if (failure != ValuePricing.PriceFailure.None) {
                (q.failure, q.unpricedToken) = (failure, tokens[index]);
                v = ValueBudget.assessFailure(failure);
            } else {
                v = b.assess(value, block.timestamp);
            }
            if (k == 0) q.session = v;
            else q.account = v;
            q.active = true;
        }
        q.tier = ValueBudget.stricter(q.session.tier, q.account.tier);
    }

    /// @dev The summed value of `amounts` in `b`'s unit decimals ({ValuePricing-valueOfAll}: each token's value
    /// rounded up; the first token that cannot be valued stops it). Only the spent tokens' sources are read.
    function _value(
        address account,
        ValueBudget.Budget storage b,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) internal view returns (ValuePricing.PriceFailure, uint256, uint256) {
        ValuePricing.Source[] memory sources = new ValuePricing.Source[](tokens.length);
        uint256[] memory decimals = new uint256[](tokens.length);
        for (uint256 i = 0; i < tokens.length; ++i) {
            if (amounts[i] == 0) continue;
            PriceEntry storage e = _priceSources[tokens[i]][account];
            (sources[i], decimals[i]) = (e.source, e.tokenDecimals);
        }
        return ValuePricing.valueOfAll(sources, decimals, amounts, b.config.unitDecimals);
    }
}
