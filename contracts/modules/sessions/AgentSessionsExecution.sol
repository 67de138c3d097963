// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IReinsExecutionDelegate} from "../../interfaces/IReinsExecutionDelegate.sol";
import {IReinsQueueGuard} from "../../interfaces/IReinsQueueGuard.sol";
import {IReinsTimelock} from "../../interfaces/IReinsTimelock.sol";
import {ICircuitBreaker} from "../../interfaces/ICircuitBreaker.sol";
import {CallPolicy} from "../../libraries/CallPolicy.sol";
import {AgentSessionsBudgets} from "./AgentSessionsBudgets.sol";
import {AgentSessionsScope} from "./AgentSessionsScope.sol";
import {AgentSessionsSignature} from "./AgentSessionsSignature.sol";
import {AgentSessionsValue} from "./AgentSessionsValue.sol";

/**
 * @title AgentSessionsExecution
 * @notice The execution phase: `executeAuthorized` (called by the account's `executeUserOp`) and `executeQueued`
 * (called by the timelock). The same authority ({AgentSessionsStorage-_liveSession} plus the time window) decides
 * again; per-token spend from call data and from the balance difference of every watched asset across the
 * execution; the larger is charged, and a drop of a watched asset the session has no budget for reverts (default
 * deny on observed effects). Allowances granted by a session are reset to zero after its execution. Operations
 * above the instant tier are scheduled in the {IReinsTimelock} with this module as guard, and re-checked (window,
 * scope, pause, revocation, budgets) when they run, owner-approved ones included. Value budgets
 * ({AgentSessionsValue}) add their verdict to the tier and are charged, at the prices of the block that runs the
 * calls, after the per-token budgets.
 */
abstract contract AgentSessionsExecution is
    AgentSessionsScope,
    AgentSessionsBudgets,
    AgentSessionsSignature,
    AgentSessionsValue,
    IReinsExecutionDelegate,
    IReinsQueueGuard
{
    using TransientSlot for *;

    /// @dev One agent execution in flight.
    struct Run {
        address account;
        bytes32 sessionId;
        bytes32 intentHash;
        Tier tier;
    }

    /// @inheritdoc IReinsExecutionDelegate
    function executeAuthorized(PackedUserOperation calldata userOp, bytes32 userOpHash) external {
        if (userOp.sender != msg.sender) revert AgentSessionsUnauthorized(msg.sender);
        Run memory run = Run(
            msg.sender,
            _signedSessionId(userOp.signature),
            _signedIntentHash(userOp.signature),
            Tier.Instant
        );
        SessionData storage s = _liveSession(run.account, run.sessionId);
        _checkWindow(run.sessionId, s);
        (bytes32 mode, bytes calldata payload) = CallPolicy.decodeOperation(userOp.callData);
        Assessment memory a = _assess(run.account, run.sessionId, mode, payload);
        a.tier = _withValueTier(run.account, run.sessionId, a.tokens, a.amounts, a.tier);
        run.tier = a.tier;
        if (_breakerTrips(run.account, mode, payload, a)) return; // paused: the operation does nothing
        if (a.tier == Tier.Instant) {
            _executeAndCharge(run, mode, payload, a);
        } else {
            bytes32 requestId = _schedule(run, s, mode, payload);
            emit OperationQueued(
                run.account,
                run.sessionId,
                requestId,
                a.tier,
                a.tokens[a.worst],
                a.amounts[a.worst],
                a.limit,
                run.intentHash
            );
        }
        emit SessionOperationExecuted(run.account, run.sessionId, userOpHash, run.intentHash, a.tier);
    }

    /**
     * @inheritdoc IReinsQueueGuard
     * @dev The same authority as a fresh operation: live session, inside its window (approved or not), current
     * scope (a removed permission or narrowed one-of set binds queued requests too), budgets.
     */
    function executeQueued(
        address account,
        bytes32,
        bytes32 context,
        bytes32 mode,
        bytes calldata executionCalldata,
        bool approved
    ) external returns (bytes[] memory) {
        if (msg.sender != address(timelock)) revert AgentSessionsUnauthorized(msg.sender);
        SessionData storage s = _liveSession(account, context);
        _checkWindow(context, s);
        _checkScope(account, context, s.allowTry, mode, executionCalldata);
        Assessment memory a = _assess(account, context, mode, executionCalldata);
        Run memory run = Run(account, context, bytes32(0), approved ? Tier.Approval : Tier.Delayed);
        return _executeAndCharge(run, mode, executionCalldata, a);
    }

    /// @dev Asks the breaker (if any) about the operation; pauses the account and returns true when it trips.
    function _breakerTrips(
        address account,
        bytes32 mode,
        bytes calldata payload,
        Assessment memory a
    ) internal returns (bool) {
        if (!_accounts[account].hasBreaker) return false;
        address breaker = _breakerOf[account];
        if (!ICircuitBreaker(breaker).recordOperation(account, mode, payload, a.tokens, a.amounts)) return false;
        _accounts[account].paused = true;
        emit Paused(account, breaker);
        return true;
    }

    function _executeAndCharge(
        Run memory run,
        bytes32 mode,
        bytes calldata payload,
        Assessment memory a
    ) internal returns (bytes[] memory result) {
        address[] memory measured = _measured(run.account, run.sessionId, a.tokens);
        uint256[] memory before = _balances(run.account, measured);
        address running = _RUNNING.asAddress().tload();
        bytes32 runningSession = _RUNNING_SESSION.asBytes32().tload();
        _RUNNING.asAddress().tstore(run.account);
        _RUNNING_SESSION.asBytes32().tstore(run.sessionId);
        result = IERC7579Execution(run.account).executeFromExecutor(mode, payload);
        _RUNNING.asAddress().tstore(running);
        _RUNNING_SESSION.asBytes32().tstore(runningSession);
        // The assessment interpreted the same calls with the same {CallPolicy-outflow}: it knows whether any of
        // them granted an allowance, so an operation without one does not decode its calls a third time.
        if (a.grantsAllowance) _resetAllowances(run.account, mode, payload);
        uint256[] memory afterwards = _balances(run.account, measured);
        for (uint256 i = 0; i < measured.length; ++i) {
            uint256 drop = before[i] > afterwards[i] ? before[i] - afterwards[i] : 0;
            if (i < a.tokens.length) {
                if (drop > a.amounts[i]) a.amounts[i] = drop; // the amount charged: the larger of the two
                _chargeAndLog(run, a.tokens[i], a.amounts[i]);
            } else if (drop != 0) revert AgentSessionsUnbudgetedOutflow(measured[i], drop);
        }
        _chargeValue(run.account, run.sessionId, a.tokens, a.amounts, run.tier);
    }

    /// @dev The session's budgeted tokens first (same indexes as the assessment), then every other watched asset.
    /// @dev Once every watched asset was found budgeted, the session's head slot records it for the account's
    /// current watch-list version, and later executions skip reading the list until the list changes.
    function _measured(
        address account,
        bytes32 sessionId,
        address[] memory tokens
    ) internal returns (address[] memory out) {
        uint256 head = _budgetTokenHead[sessionId][account];
        uint256 version = _accounts[account].watchVersion;
        uint256 covered = _HEAD_COVERED_FLAG | (version << _HEAD_COVERED_SHIFT);
        uint256 coveredMask = _HEAD_COVERED_FLAG | (uint256(type(uint32).max) << _HEAD_COVERED_SHIFT);
        if (head & coveredMask == covered) return tokens;
        address[] memory watched = _watchList(account);
        out = new address[](tokens.length + watched.length);
        uint256 n = tokens.length;
        for (uint256 i = 0; i < n; ++i) out[i] = tokens[i];
        for (uint256 w = 0; w < watched.length; ++w) {
            bool budgeted;
            for (uint256 i = 0; i < tokens.length; ++i) if (tokens[i] == watched[w]) budgeted = true;
            if (!budgeted) out[n++] = watched[w];
        }
        assembly ("memory-safe") {
            mstore(out, n)
        }
        if (n == tokens.length) _budgetTokenHead[sessionId][account] = (head & ~coveredMask) | covered;
    }

    function _chargeAndLog(Run memory run, address token, uint256 charged) internal {
        if (charged == 0) return;
        if (run.tier != Tier.Approval) _charge(run.account, run.sessionId, token, charged, run.tier);
        emit SpendRecorded(run.account, run.sessionId, token, charged, run.tier, run.intentHash);
    }

    function _balances(address account, address[] memory tokens) internal view returns (uint256[] memory out) {
        out = new uint256[](tokens.length);
        for (uint256 i = 0; i < tokens.length; ++i) {
            out[i] = tokens[i] == address(0) ? account.balance : IERC20(tokens[i]).balanceOf(account);
        }
    }

    /// @dev Allowances granted by the operation are set back to zero, so none outlives it.
    function _resetAllowances(address account, bytes32 mode, bytes calldata payload) internal {
        (bool batch, ) = CallPolicy.isBatch(mode, true);
        uint256 n = CallPolicy.callCount(batch, payload);
        for (uint256 i = 0; i < n; ++i) {
            (address target, , bytes calldata data) = CallPolicy.callAt(batch, payload, i);
            _resetAllowance(account, target, data);
        }
    }

    function _resetAllowance(address account, address target, bytes calldata data) internal {
        CallPolicy.Outflow memory o = CallPolicy.outflow(account, target, data);
        bytes memory reset;
        if (o.kind == CallPolicy.OutflowKind.Approval) {
            if (IERC20(o.token).allowance(account, o.counterparty) == 0) return;
            reset = abi.encodePacked(o.token, uint256(0), abi.encodeCall(IERC20.approve, (o.counterparty, 0)));
        } else if (o.kind == CallPolicy.OutflowKind.Permit2Approval) {
            // Permit2 approve(token, spender, 0, 0): no allowance and expired
            bytes memory call = abi.encodeWithSelector(CallPolicy.PERMIT2_APPROVE, o.token, o.counterparty, 0, 0);
            reset = abi.encodePacked(target, uint256(0), call);
        } else {
            return;
        }
        IERC7579Execution(account).executeFromExecutor(CallPolicy.MODE_SINGLE, reset);
    }

    function _schedule(
        Run memory run,
        SessionData storage s,
        bytes32 mode,
        bytes calldata payload
    ) internal returns (bytes32 requestId) {
        bytes memory call = abi.encodeCall(
            IReinsTimelock.schedule,
            (mode, payload, s.queueDelay, s.approvalWindow, run.tier == Tier.Approval, address(this), run.sessionId)
        );
        bytes[] memory ret = IERC7579Execution(run.account).executeFromExecutor(
            CallPolicy.MODE_SINGLE,
            abi.encodePacked(address(timelock), uint256(0), call)
        );
        requestId = abi.decode(ret[0], (bytes32));
    }
}
