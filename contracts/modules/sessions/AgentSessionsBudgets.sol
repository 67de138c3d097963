// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CallPolicy} from "../../libraries/CallPolicy.sol";
import {SpendWindow} from "../../libraries/SpendWindow.sol";
import {AgentSessionsStorage} from "./AgentSessionsStorage.sol";

/**
 * @title AgentSessionsBudgets
 * @notice Assessment and charging of an operation's spend: the calldata-visible spend per budgeted token, the tier
 * it falls in (instant, delayed, owner approval) against the session's thresholds, sliding windows and the
 * fleet budget, and the charge of what an execution spent ({SpendWindow}).
 */
abstract contract AgentSessionsBudgets is AgentSessionsStorage {
    using SpendWindow for SpendWindow.State;

    /// @dev Calldata-visible spend of an operation and the tier it falls in.
    struct Assessment {
        address[] tokens;
        uint256[] amounts;
        Tier tier;
        uint256 worst;
        uint256 limit;
        // Whether a call grants an allowance (ERC-20 or Permit2), which the execution resets to zero afterwards.
        bool grantsAllowance;
    }

    /// @dev Calldata-visible spend per budgeted token and the highest tier over tokens (reverts for a token
    /// without budget: default deny).
    function _assess(
        address account,
        bytes32 sessionId,
        bytes32 mode,
        bytes calldata payload
    ) internal view returns (Assessment memory a) {
        a.tokens = _budgetTokensOf(sessionId, account);
        a.amounts = new uint256[](a.tokens.length);
        (bool batch, ) = CallPolicy.isBatch(mode, true);
        uint256 n = CallPolicy.callCount(batch, payload);
        for (uint256 i = 0; i < n; ++i) {
            (address target, uint256 value, bytes calldata data) = CallPolicy.callAt(batch, payload, i);
            _addSpend(account, a, target, value, data);
        }
        bool chosen; // a limit of 0 is a real limit (a used-up period), so "no token chosen yet" is its own flag
        for (uint256 i = 0; i < a.tokens.length; ++i) {
            if (a.amounts[i] == 0) continue;
            (Tier t, uint256 lim) = _tierOf(account, sessionId, a.tokens[i], a.amounts[i]);
            if (!chosen || uint8(t) > uint8(a.tier)) (a.tier, a.worst, a.limit, chosen) = (t, i, lim, true);
        }
    }

    function _tierOf(
        address account,
        bytes32 sessionId,
        address token,
        uint256 amount
    ) internal view returns (Tier, uint256) {
        BudgetData storage b = _budgets[_budgetKey(sessionId, token)][account];
        (uint256 periodLeft, uint256 lifetimeLeft) = b.window.available(
            b.periodCap,
            b.lifetimeCap,
            b.period,
            block.timestamp
        );
        if (amount > periodLeft) return (Tier.Approval, periodLeft);
        if (amount > lifetimeLeft) return (Tier.Approval, lifetimeLeft);
        FleetData storage f = _fleet[token][account];
        if (_accounts[account].hasFleet && f.set) {
            (uint256 fp, uint256 fl) = f.window.available(f.periodCap, f.lifetimeCap, f.period, block.timestamp);
            if (amount > fp) return (Tier.Approval, fp);
            if (amount > fl) return (Tier.Approval, fl);
        }
        if (amount > b.ceiling) return (Tier.Approval, b.ceiling);
        if (amount > b.instantThreshold) return (Tier.Delayed, b.instantThreshold);
        return (Tier.Instant, b.instantThreshold);
    }

    function _addSpend(
        address account,
        Assessment memory a,
        address target,
        uint256 value,
        bytes calldata data
    ) internal pure {
        if (value != 0) a.amounts[_indexOf(a.tokens, address(0))] += value;
        CallPolicy.Outflow memory o = CallPolicy.outflow(account, target, data);
        if (o.amount != 0) a.amounts[_indexOf(a.tokens, o.token)] += o.amount;
        if (o.kind == CallPolicy.OutflowKind.Approval || o.kind == CallPolicy.OutflowKind.Permit2Approval) {
            a.grantsAllowance = true;
        }
    }

    function _indexOf(address[] memory tokens, address token) internal pure returns (uint256) {
        for (uint256 i = 0; i < tokens.length; ++i) if (tokens[i] == token) return i;
        revert AgentSessionsNoBudget(token);
    }

    function _charge(address account, bytes32 sessionId, address token, uint256 amount, Tier tier) internal {
        BudgetData storage b = _budgets[_budgetKey(sessionId, token)][account];
        uint256 tierLimit = tier == Tier.Instant ? b.instantThreshold : b.ceiling;
        if (amount > tierLimit)
            revert AgentSessionsBudgetExceeded(
                token,
                tier == Tier.Instant ? BudgetLimit.InstantThreshold : BudgetLimit.Ceiling,
                amount,
                tierLimit
            );
        _record(b.window, token, amount, b.periodCap, b.lifetimeCap, b.period, BudgetLimit.Period);
        FleetData storage f = _fleet[token][account];
        if (_accounts[account].hasFleet && f.set) {
            _record(f.window, token, amount, f.periodCap, f.lifetimeCap, f.period, BudgetLimit.FleetPeriod);
        }
    }

    /// @dev Records `amount` in `window`, or reverts with the cap it would break: `periodLimit` (the session's or
    /// the fleet's period) or the lifetime limit that follows it in {BudgetLimit}.
    function _record(
        SpendWindow.State storage window,
        address token,
        uint256 amount,
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 period,
        BudgetLimit periodLimit
    ) private {
        (bool ok, uint256 periodLeft, uint256 lifetimeLeft) = window.tryRecord(
            amount,
            periodCap,
            lifetimeCap,
            period,
            block.timestamp
        );
        if (ok) return;
        bool periodHit = amount > periodLeft;
        BudgetLimit lifetimeLimit = BudgetLimit(uint8(periodLimit) + 1);
        revert AgentSessionsBudgetExceeded(
            token,
            periodHit ? periodLimit : lifetimeLimit,
            amount,
            periodHit ? periodLeft : lifetimeLeft
        );
    }
}
