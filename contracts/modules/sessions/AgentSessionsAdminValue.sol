// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgentSessionsValue} from "../../interfaces/IAgentSessionsValue.sol";
import {ValueBudget} from "../../libraries/ValueBudget.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ValuePricing, ValuePriceCache, TokenPrice} from "../../libraries/ValuePricing.sol";
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
     * when no value budget applies), with {ValueAssessed} when it is above instant. Each spent token is priced once
     * and its price (or its failure) is kept in transient storage for this operation's charge ({chargeValue}).
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
        uint256 op = ValuePriceCache.nextOperation(account);
        TokenPrice[] memory prices = _prices(account, sessionId, tokens, amounts, 0);
        for (uint256 i = 0; i < prices.length; ++i) {
            TokenPrice memory p = prices[i];
            if (p.known) ValuePriceCache.store(account, sessionId, op, tokens[i], p);
        }
        ValueQuote memory q = _quoteWith(account, sessionId, tokens, amounts, prices);
        tier = Tier(uint8(q.tier));
        if (tier != Tier.Instant) emit ValueAssessed(account, sessionId, q);
    }

    /**
     * @notice Execution phase of {AgentSessions}: values what an execution spent and charges it to the session's
     * and the account's value budgets at `tier`. Reverts {AgentSessionsValueUnpriced} when a spent token cannot be
     * valued, or `ValueBudgetExceeded` when a limit does not hold.
     * @dev Prices: an instant run (an agent operation's own execution) uses the prices its assessment read, kept in
     * transient storage under this account's current operation number, and then retires that number (a later
     * charge in the same transaction can never see them). A token the assessment did not price (zero calldata
     * amount, e.g. pulled by a router) is priced now. A delayed run (`executeQueued`) always prices at its block.
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
        uint256 op = tier == Tier.Instant ? ValuePriceCache.retireOperation(account) : 0;
        TokenPrice[] memory prices = _prices(account, sessionId, tokens, amounts, op);
        uint256 charged;
        for (uint256 k = 0; k < 2; ++k) {
            ValueBudget.Budget storage b = _valueBudgets[k == 0 ? sessionId : _ACCOUNT_BUDGET][account];
            if (!b.isSet()) continue;
            (ValuePricing.PriceFailure failure, uint256 index, uint256 value) = _valueWith(
                prices,
                amounts,
                b.config.unitDecimals
            );
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
    ) internal view returns (ValueQuote memory) {
        return _quoteWith(account, sessionId, tokens, amounts, _prices(account, sessionId, tokens, amounts, 0));
    }

    function _quoteWith(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts,
        TokenPrice[] memory prices
    ) internal view returns (ValueQuote memory q) {
        for (uint256 k = 0; k < 2; ++k) {
            ValueBudget.Budget storage b = _valueBudgets[k == 0 ? sessionId : _ACCOUNT_BUDGET][account];
            if (!b.isSet()) continue;
            (ValuePricing.PriceFailure failure, uint256 index, uint256 value) = _valueWith(
                prices,
                amounts,
                b.config.unitDecimals
            );
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

    /// @dev The price of each token with a non-zero amount, in order, up to and including the first that fails
    /// (the rest stay unknown: the valuation stops there). With `op` non-zero, a price kept for that operation
    /// ({ValuePriceCache}) is used instead of reading the source; `op` zero reads every source.
    function _prices(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts,
        uint256 op
    ) internal view returns (TokenPrice[] memory prices) {
        prices = new TokenPrice[](tokens.length);
        for (uint256 i = 0; i < tokens.length; ++i) {
            if (amounts[i] == 0) continue;
            TokenPrice memory p = prices[i];
            if (op == 0 || !ValuePriceCache.load(account, sessionId, op, tokens[i], p)) {
                PriceEntry storage e = _priceSources[tokens[i]][account];
                (p.failure, p.price, p.priceDecimals) = ValuePricing.priceOf(e.source);
                (p.tokenDecimals, p.known) = (e.tokenDecimals, true);
            }
            if (p.failure != ValuePricing.PriceFailure.None) break;
        }
    }

    /// @dev The summed value of `amounts` at `prices` in `unitDecimals` (each token's value rounded up, as
    /// {ValuePricing-valueOfAll}; the first token that cannot be valued stops it).
    function _valueWith(
        TokenPrice[] memory prices,
        uint256[] calldata amounts,
        uint256 unitDecimals
    ) internal pure returns (ValuePricing.PriceFailure failure, uint256 failedIndex, uint256 total) {
        for (uint256 i = 0; i < amounts.length; ++i) {
            if (amounts[i] == 0) continue;
            TokenPrice memory p = prices[i];
            if (p.failure != ValuePricing.PriceFailure.None) return (p.failure, i, 0);
            uint256 value;
            (failure, value) = ValuePricing.convert(
                amounts[i],
                p.price,
                p.priceDecimals,
                p.tokenDecimals,
                unitDecimals
            );
            if (failure == ValuePricing.PriceFailure.None) {
                bool ok;
                (ok, total) = Math.tryAdd(total, value);
                if (!ok) failure = ValuePricing.PriceFailure.Overflow;
            }
            if (failure != ValuePricing.PriceFailure.None) return (failure, i, 0);
        }
    }
}
