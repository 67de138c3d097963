// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SpendWindow} from "../../libraries/SpendWindow.sol";
import {AgentSessionsBudgets} from "./AgentSessionsBudgets.sol";
import {AgentSessionsScope} from "./AgentSessionsScope.sol";
import {AgentSessionsValue} from "./AgentSessionsValue.sol";

/**
 * @title AgentSessionsPreview
 * @notice On-chain preview of an agent operation, with the module's own rules (no client copy of them): whether the
 * session may make the calls now, the tier per token and for the operation, the limit hit and what is left.
 * @dev Not a simulation of the execution: balance-measured spend (a router pulling a watched token), the gas budget
 * of a concrete UserOperation and the calls themselves are not run here.
 */
abstract contract AgentSessionsPreview is AgentSessionsScope, AgentSessionsBudgets, AgentSessionsValue {
    using SpendWindow for SpendWindow.State;

    /**
     * @notice Preview `executionCalldata` in `mode` (as in `execute(mode, executionCalldata)`) for `sessionId` of
     * `account`: a refusal (the revert data of the rule, see {checkOperation}) or the tiers and limits. With a
     * value budget, `tier` includes the value verdicts (feeds read at this block; {quoteValue} details them).
     */
    function previewOperation(
        address account,
        bytes32 sessionId,
        bytes32 mode,
        bytes calldata executionCalldata
    ) external view returns (OperationPreview memory p) {
        try this.checkOperation(account, sessionId, mode, executionCalldata) {} catch (bytes memory reason) {
            p.refusal = reason;
            return p;
        }
        Assessment memory a = _assess(account, sessionId, mode, executionCalldata);
        p.tokens = new TokenPreview[](a.tokens.length);
        for (uint256 i = 0; i < a.tokens.length; ++i) {
            p.tokens[i] = _tokenPreview(account, sessionId, a.tokens[i], a.amounts[i]);
            if (a.amounts[i] != 0 && i == a.worst) {
                (p.tier, p.token, p.amount, p.limit) = (a.tier, a.tokens[i], a.amounts[i], a.limit);
            }
        }
        if (_accounts[account].hasValueBudget) {
            // only the quote's tier (its second word); {quoteValue} gives the verdicts
            (bool ok, bytes memory quote) = address(this).staticcall(
                abi.encodeCall(this.quoteValue, (account, sessionId, a.tokens, a.amounts))
            );
            uint256 valueTier;
            assembly ("memory-safe") {
                valueTier := mload(add(quote, 0x40))
            }
            if (!ok) valueTier = uint8(Tier.Approval);
            if (valueTier > uint8(p.tier)) p.tier = Tier(valueTier);
        }
    }

    /**
     * @notice Reverts with the rule that refuses these calls of `sessionId` now (unknown or revoked session, pause,
     * outside the window, uses spent, mode, scope, forbidden target, condition, missing budget, non-canonical
     * call data); returns when the session may make them.
     */
    function checkOperation(
        address account,
        bytes32 sessionId,
        bytes32 mode,
        bytes calldata executionCalldata
    ) external view {
        SessionData storage s = _liveSession(account, sessionId);
        _checkWindow(sessionId, s);
        if (s.uses >= s.maxUses) revert AgentSessionsUsageExceeded(s.maxUses);
        _checkScope(account, sessionId, s.allowTry, mode, executionCalldata);
    }

    function _tokenPreview(
        address account,
        bytes32 sessionId,
        address token,
        uint256 amount
    ) private view returns (TokenPreview memory t) {
        BudgetData storage b = _budgets[_budgetKey(sessionId, token)][account];
        (t.periodLeft, t.lifetimeLeft) = b.window.available(b.periodCap, b.lifetimeCap, b.period, block.timestamp);
        (t.token, t.amount) = (token, amount);
        (t.tier, t.limit) =
            amount == 0 ? (Tier.Instant, uint256(b.instantThreshold)) : _tierOf(account, sessionId, token, amount);
    }
}
