// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {
    IERC7579Validator,
    IERC7579Execution,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IReinsExecutionDelegate} from "../interfaces/IReinsExecutionDelegate.sol";
import {IReinsQueueGuard} from "../interfaces/IReinsQueueGuard.sol";
import {IReinsTimelock} from "../interfaces/IReinsTimelock.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {ISessionsAccountConfig} from "../interfaces/ISessionsAccountConfig.sol";
import {CallPolicy} from "../libraries/CallPolicy.sol";
import {SpendWindow} from "../libraries/SpendWindow.sol";
import {AgentSessionsStorage} from "./sessions/AgentSessionsStorage.sol";
import {AgentTransferAuthorizations} from "./sessions/AgentTransferAuthorizations.sol";
import {AgentSessionsAdmin} from "./AgentSessionsAdmin.sol";

/**
 * @title AgentSessions
 * @notice ERC-7579 validator + executor that lets AI agents sign UserOperations with session keys, inside a scope
 * (targets, selectors, native-value caps, argument conditions), a validity window, a usage limit, a gas budget and
 * per-token budgets with three tiers (instant, delayed, owner approval). Watchdogs can pause every session at once.
 *
 * @dev Phases:
 * - Validation (`validateUserOp`, ERC-7562 clean): session liveness, pause, usage and gas budgets, paymaster rule,
 *   canonical call data and the scope of every call; `validAfter`/`validUntil` go back in the validation data (no
 *   TIMESTAMP). Bad signatures return SIG_VALIDATION_FAILED; policy violations revert with a named error, so
 *   bundlers and the client can report the rule. All storage read here is keyed with the account innermost.
 *   Every interpreted outflow ({CallPolicy-outflow}: transfers, allowances, permits, operator grants) must be in
 *   canonical ABI form and have a budget in the session, so an operation the execution would refuse is refused
 *   here, at no cost to the account.
 * - Execution (`executeAuthorized`, called by the account's `executeUserOp`; `executeQueued`, called by the
 *   timelock): the same authority ({_liveSession} plus the time window) decides again; per-token spend from call
 *   data and from the balance difference of every watched asset across the execution; the larger is charged, and a
 *   drop of a watched asset the session has no budget for reverts (default deny on observed effects). Allowances
 *   granted by a session are reset to zero after its execution. Time-based budgets use {SpendWindow}. Operations
 *   above the instant tier are scheduled in the {IReinsTimelock} with this module as guard, and re-checked (window,
 *   scope, pause, revocation, budgets) when they run, owner-approved ones included: an approved request of an
 *   expired, revoked or narrowed session does not run (the owner can make the same calls as an owner operation).
 * - Configuration: {AgentSessionsAdmin}, run by `delegatecall` (same storage, same ABI as before).
 * Invariants: a session never authorises a call outside its current scope and window; nothing an agent signs can
 * reach the account, the EntryPoint, this module, the timelock, the breaker, a grant delegate or an installed
 * module; uninstalling or revoking all bumps the account epoch so no session or pending change revives.
 */
contract AgentSessions is
    AgentTransferAuthorizations,
    EIP712,
    ISessionsAccountConfig,
    IReinsExecutionDelegate,
    IReinsQueueGuard
{
    using SpendWindow for SpendWindow.State;
    using TransientSlot for *;

    /// @dev One agent execution in flight.
    struct Run {
        address account;
        bytes32 sessionId;
        bytes32 intentHash;
        Tier tier;
    }

    /// @dev Calldata-visible spend of an operation and the tier it falls in.
    struct Assessment {
        address[] tokens;
        uint256[] amounts;
        Tier tier;
        uint256 worst;
        uint256 limit;
    }

    /// @notice The configuration half of the module ({AgentSessionsAdmin}), run by `delegatecall`.
    address public immutable admin;

    /// @notice EIP-712 type of what a session key signs (domain "Reins AgentSessions", version "1", this module).
    bytes32 public constant SESSION_OPERATION_TYPEHASH = keccak256(
        "SessionOperation(bytes32 userOpHash,bytes32 sessionId,bytes32 intentHash)"
    );

    constructor(IReinsTimelock timelock_) AgentSessionsStorage(timelock_) EIP712("Reins AgentSessions", "1") {
        admin = address(new AgentSessionsAdmin(timelock_));
    }

    // ============================================================================================ module

    /// @notice Install (see {AgentSessionsAdmin-onInstall}): `data` is empty, `abi.encode(uint32 securityDelay)`,
    /// or `abi.encode(uint32 securityDelay, SessionConfig[] initialSessions)`.
    function onInstall(bytes calldata) external {
        _delegateToAdmin();
    }

    /// @notice Uninstall: every session and pending change dies (epoch bump); queued agent requests are cancelled.
    function onUninstall(bytes calldata) external {
        _delegateToAdmin();
    }

    /// @notice Validator (1) and executor (2).
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    /// @notice Whether `account` has the module installed.
    function isInitialized(address account) external view returns (bool) {
        return _accounts[account].installed;
    }

    // ============================================================================================ validation

    /// @inheritdoc IERC7579Validator
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external returns (uint256) {
        address account = msg.sender;
        // signature: sessionId (32) ‖ intentHash (32) ‖ ECDSA (65) over the EIP-712 SessionOperation
        if (userOp.signature.length != 129) return ERC4337Utils.SIG_VALIDATION_FAILED;
        bytes32 sessionId = bytes32(userOp.signature[0:32]);
        SessionData storage s = _liveSession(account, sessionId);

        if (s.uses >= s.maxUses) revert AgentSessionsUsageExceeded(s.maxUses);
        ++s.uses;
        _chargeGas(s, userOp);

        (bytes32 mode, bytes calldata payload) = CallPolicy.decodeOperation(userOp.callData);
        _checkScope(account, sessionId, s.allowTry, mode, payload);

        bytes32 digest = _sessionOperationDigest(userOpHash, sessionId, bytes32(userOp.signature[32:64]));
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, userOp.signature[64:129]);
        bool ok = err == ECDSA.RecoverError.NoError && signer != address(0) && signer == s.agent;
        return ERC4337Utils.packValidationData(ok, s.validAfter, s.validUntil);
    }

    // ============================================================================================ execution

    /// @inheritdoc IReinsExecutionDelegate
    function executeAuthorized(PackedUserOperation calldata userOp, bytes32 userOpHash) external {
        if (userOp.sender != msg.sender) revert AgentSessionsUnauthorized(msg.sender);
        Run memory run = Run(
            msg.sender,
            bytes32(userOp.signature[0:32]),
            bytes32(userOp.signature[32:64]),
            Tier.Instant
        );
        SessionData storage s = _liveSession(run.account, run.sessionId);
        _checkWindow(run.sessionId, s);
        (bytes32 mode, bytes calldata payload) = CallPolicy.decodeOperation(userOp.callData);
        Assessment memory a = _assess(run.account, run.sessionId, mode, payload);
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

    // ============================================================================================ configuration

    /// @notice Grant a session (loosening: waits the security delay when one is set; the id is assigned when it
    /// applies). Called by the account.
    /// @return sessionId The new session's id, or zero when the grant was queued behind the security delay.
    function grantSession(SessionConfig calldata) external returns (bytes32 sessionId) {
        _delegateToAdmin();
    }

    /// @notice A grant delegate (for example {RiskEngineEnvelope}) grants a session for `account` at once.
    function grantSessionFor(address, SessionConfig calldata) external returns (bytes32 sessionId) {
        _delegateToAdmin();
    }

    /// @notice A grant delegate moves the end of a session it granted (its envelope bounds how far).
    function renewSessionFor(address, bytes32, uint48) external {
        _delegateToAdmin();
    }

    /// @notice A grant delegate tightens any session of the account: every budget field lowered or kept, same period.
    function tightenBudgetFor(address, bytes32, TokenBudget calldata) external {
        _delegateToAdmin();
    }

    /// @notice A grant delegate revokes any session of the account.
    function revokeFor(address, bytes32) external {
        _delegateToAdmin();
    }

    /// @notice Accept (loosening: delayed) or drop a grant delegate; a revoke-all drops every delegate.
    function setGrantDelegate(address, bool) external {
        _delegateToAdmin();
    }

    /// @notice Revoke a session at once (the account).
    function revokeSession(bytes32) external {
        _delegateToAdmin();
    }

    /// @notice The agent revokes its own session (a compromised agent can shut itself down).
    function revokeSelf(address, bytes32) external {
        _delegateToAdmin();
    }

    /// @notice Revoke every session of the account at once; pending changes and grant delegates die with them and
    /// the queued agent requests are cancelled.
    function revokeAllSessions() external {
        _delegateToAdmin();
    }

    /// @notice Change a session's end: later is loosening (delayed), earlier applies at once.
    function renewSession(bytes32, uint48) external {
        _delegateToAdmin();
    }

    /// @notice Add or replace a permission (loosening: delayed); a replaced permission's one-of sets are gone.
    function addPermission(bytes32, Permission calldata) external {
        _delegateToAdmin();
    }

    /// @notice Remove a permission (tightening: at once, for new and queued operations).
    function removePermission(bytes32, address, bytes4) external {
        _delegateToAdmin();
    }

    /// @notice Set a session's budget for one token. Any raised field makes it loosening (delayed).
    function setBudget(bytes32, TokenBudget calldata) external {
        _delegateToAdmin();
    }

    /// @notice Set the fleet budget of `token` (all sessions together). Raising is loosening (delayed).
    function setFleetBudget(address, uint128, uint128, uint32) external {
        _delegateToAdmin();
    }

    /// @notice Set the security delay for loosening changes; lowering it is itself loosening.
    function setSecurityDelay(uint32) external {
        _delegateToAdmin();
    }

    /// @notice Watch assets (tightening: at once); see {AgentSessionsAdmin-watchAssets}.
    function watchAssets(address[] calldata) external {
        _delegateToAdmin();
    }

    /// @notice Stop watching an asset (loosening: delayed).
    function unwatchAsset(address) external {
        _delegateToAdmin();
    }

    /// @notice Apply a loosening change proposed by `account` once its delay has passed, in its epoch (anyone).
    function applyChange(address, bytes calldata) external {
        _delegateToAdmin();
    }

    /// @notice Cancel a pending loosening change (the account).
    function cancelChange(bytes32) external {
        _delegateToAdmin();
    }

    /// @notice Add or remove a watchdog (the account).
    function setWatchdog(address, bool) external {
        _delegateToAdmin();
    }

    /// @notice Freeze every agent session of `account` (a watchdog or the account); optionally cancel the queued
    /// agent requests (never the owner's own queued operations).
    function pause(address, bool) external {
        _delegateToAdmin();
    }

    /// @notice Unfreeze (the account only, i.e. the owner).
    function unpause() external {
        _delegateToAdmin();
    }

    /// @notice A watchdog revokes one session.
    function revokeByWatchdog(address, bytes32) external {
        _delegateToAdmin();
    }

    /// @notice Attach a circuit breaker ({ICircuitBreaker}), or detach it with zero (replacing is loosening).
    function setBreaker(address) external {
        _delegateToAdmin();
    }

    // ============================================================================================ views

    /// @notice The EIP-712 digest a session key signs for an operation (`SessionOperation` in this module's domain).
    function sessionOperationDigest(
        bytes32 userOpHash,
        bytes32 sessionId,
        bytes32 intentHash
    ) external view returns (bytes32) {
        return _sessionOperationDigest(userOpHash, sessionId, intentHash);
    }

    /// @notice A session's stored state.
    function getSession(bytes32 sessionId, address account) external view returns (SessionData memory) {
        return _sessions[sessionId][account];
    }

    /// @notice Whether the account's agent sessions are paused.
    function isPaused(address account) external view returns (bool) {
        return _accounts[account].paused;
    }

    /// @notice Whether `watchdog` may pause `account`.
    function isWatchdog(address watchdog, address account) external view returns (bool) {
        return _watchdogs[watchdog][account];
    }

    /// @notice Whether `delegate` may grant, renew, tighten and revoke sessions of `account` (in this epoch).
    function isGrantDelegate(address delegate, address account) external view returns (bool) {
        return _delegates[delegate][account] == _accounts[account].epoch + 1;
    }

    /// @notice The account's circuit breaker (zero if none).
    function breakerOf(address account) external view returns (address) {
        return _breakerOf[account];
    }

    /// @inheritdoc ISessionsAccountConfig
    function accountConfig(address account) external view returns (AccountData memory) {
        return _accounts[account];
    }

    /// @inheritdoc ISessionsAccountConfig
    function isAgentExecuting(address account) external view returns (bool) {
        return _agentExecuting(account);
    }

    /// @notice The assets `account` watches (see {watchAssets}).
    function watchedAssets(address account) external view returns (address[] memory) {
        return _watchList(account);
    }

    /// @notice A session's budget for `token` and what is left of it now.
    function budgetOf(
        bytes32 sessionId,
        address account,
        address token
    ) external view returns (TokenBudget memory budget, uint256 periodRemaining, uint256 lifetimeRemaining) {
        BudgetData storage b = _budgets[_budgetKey(sessionId, token)][account];
        budget = TokenBudget(token, b.instantThreshold, b.ceiling, b.periodCap, b.lifetimeCap, b.period);
        if (b.period != 0) {
            (periodRemaining, lifetimeRemaining) = b.window.available(
                b.periodCap,
                b.lifetimeCap,
                b.period,
                block.timestamp
            );
        }
    }

    /// @notice What is left of the fleet budget of `token`.
    function fleetRemaining(
        address account,
        address token
    ) external view returns (bool set, uint256 period, uint256 lifetime) {
        FleetData storage f = _fleet[token][account];
        if (!f.set) return (false, type(uint256).max, type(uint256).max);
        (period, lifetime) = f.window.available(f.periodCap, f.lifetimeCap, f.period, block.timestamp);
        return (true, period, lifetime);
    }

    /// @notice When a proposed change becomes applicable (zero if none, or voided by a later epoch).
    function pendingChange(address account, bytes32 changeHash) external view returns (uint48) {
        PendingChange memory p = _pendingChanges[changeHash][account];
        return p.epoch == _accounts[account].epoch ? p.readyAt : 0;
    }

    /// @notice Whether a permission exists.
    function hasPermission(
        bytes32 sessionId,
        address account,
        address target,
        bytes4 selector
    ) external view returns (bool) {
        return _permissions[_permissionKey(sessionId, target, selector)][account].allowed;
    }

    // ============================================================================================ internals

    function _sessionOperationDigest(
        bytes32 userOpHash,
        bytes32 sessionId,
        bytes32 intentHash
    ) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(SESSION_OPERATION_TYPEHASH, userOpHash, sessionId, intentHash)));
    }

    /// @dev Runs the same call on {AgentSessionsAdmin} in this contract's context and returns or reverts with it.
    function _delegateToAdmin() private {
        address target = admin;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) {
                revert(0, returndatasize())
            }
            return(0, returndatasize())
        }
    }

    /// @dev Asks the breaker (if any) about the operation; pauses the account and returns true when it trips.
    function _breakerTrips(
        address account,
        bytes32 mode,
        bytes calldata payload,
        Assessment memory a
    ) private returns (bool) {
        if (!_accounts[account].hasBreaker) return false;
        address breaker = _breakerOf[account];
        if (!ICircuitBreaker(breaker).recordOperation(account, mode, payload, a.tokens, a.amounts)) return false;
        _accounts[account].paused = true;
        emit Paused(account, breaker);
        return true;
    }

    function _chargeGas(SessionData storage s, PackedUserOperation calldata userOp) private {
        uint256 gas =
            ERC4337Utils.verificationGasLimit(userOp) + ERC4337Utils.callGasLimit(userOp) + userOp.preVerificationGas;
        if (userOp.paymasterAndData.length != 0) {
            if (!s.allowPaymaster) revert AgentSessionsPaymasterNotAllowed(ERC4337Utils.paymaster(userOp));
            gas += ERC4337Utils.paymasterVerificationGasLimit(userOp) + ERC4337Utils.paymasterPostOpGasLimit(userOp);
        }
        uint256 cost = gas * ERC4337Utils.maxFeePerGas(userOp);
        uint256 remaining = s.gasBudget - s.gasSpent;
        if (cost > s.maxGasCostPerOp || cost > remaining) {
            revert AgentSessionsGasBudgetExceeded(cost, s.maxGasCostPerOp, remaining);
        }
        s.gasSpent += uint96(cost); // cost ≤ gasBudget - gasSpent < 2^96
    }

    function _checkScope(
        address account,
        bytes32 sessionId,
        bool allowTry,
        bytes32 mode,
        bytes calldata payload
    ) private view {
        (bool batch, bool ok) = CallPolicy.isBatch(mode, allowTry);
        if (!ok) revert AgentSessionsModeNotAllowed(mode);
        if (!batch) {
            (address target, uint256 value, bytes calldata data) = CallPolicy.decodeSingle(payload);
            _checkCall(account, sessionId, 0, target, value, data);
        } else {
            Execution[] calldata calls = CallPolicy.decodeBatch(payload);
            if (calls.length == 0) revert AgentSessionsEmptyBatch();
            for (uint256 i = 0; i < calls.length; ++i) {
                _checkCall(account, sessionId, i, calls[i].target, calls[i].value, calls[i].callData);
            }
        }
    }

    function _checkCall(
        address account,
        bytes32 sessionId,
        uint256 index,
        address target,
        uint256 value,
        bytes calldata data
    ) private view {
        bytes4 selector = CallPolicy.selectorOf(data);
        _checkTarget(account, index, target, selector);
        bytes32 permKey = _permissionKey(sessionId, target, selector);
        PermissionData storage p = _permissions[permKey][account];
        if (!p.allowed) revert AgentSessionsScopeViolation(index, target, selector);
        if (value > p.valueCap) revert AgentSessionsValueExceeded(index, value, p.valueCap);
        uint256 expectedLength = selector == bytes4(0) ? 0 : p.calldataLength;
        if ((selector == bytes4(0) || expectedLength != 0) && data.length != expectedLength) {
            revert AgentSessionsCalldataLength(index, data.length, expectedLength);
        }
        uint256 count = p.count;
        for (uint256 c = 0; c < count; ++c) {
            _checkCondition(account, permKey, p, index, c, data);
        }
        // Default deny in validation: every interpreted outflow is canonical and has a budget in this session.
        if (value != 0) _requireBudget(account, sessionId, address(0));
        CallPolicy.Outflow memory o = CallPolicy.outflow(account, target, data);
        if (o.amount != 0) _requireBudget(account, sessionId, o.token);
    }

    function _requireBudget(address account, bytes32 sessionId, address token) private view {
        if (_budgets[_budgetKey(sessionId, token)][account].period == 0) revert AgentSessionsNoBudget(token);
    }

    function _checkCondition(
        address account,
        bytes32 permKey,
        PermissionData storage p,
        uint256 index,
        uint256 c,
        bytes calldata data
    ) private view {
        uint64 packed = p.ops >> (16 * c);
        ConditionOp op = ConditionOp(uint8(packed));
        bytes32 actual = CallPolicy.word(data, uint8(packed >> 8));
        bool pass;
        if (op == ConditionOp.Equal) pass = actual == p.values[c];
        else if (op == ConditionOp.AtMost) pass = uint256(actual) <= uint256(p.values[c]);
        else if (op == ConditionOp.AtLeast) pass = uint256(actual) >= uint256(p.values[c]);
        else pass = _oneOf[_oneOfKey(permKey, p.generation, c, actual)][account];
        if (!pass) revert AgentSessionsConditionFailed(index, c, actual);
    }

    /// @dev Calldata-visible spend per budgeted token and the highest tier over tokens (reverts for a token
    /// without budget: default deny).
    function _assess(
        address account,
        bytes32 sessionId,
        bytes32 mode,
        bytes calldata payload
    ) private view returns (Assessment memory a) {
        a.tokens = _budgetTokensOf(sessionId, account);
        a.amounts = new uint256[](a.tokens.length);
        (bool batch, ) = CallPolicy.isBatch(mode, true);
        if (!batch) {
            (address target, uint256 value, bytes calldata data) = CallPolicy.decodeSingle(payload);
            _addSpend(account, a, target, value, data);
        } else {
            Execution[] calldata calls = CallPolicy.decodeBatch(payload);
            for (uint256 i = 0; i < calls.length; ++i) {
                _addSpend(account, a, calls[i].target, calls[i].value, calls[i].callData);
            }
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
    ) private view returns (Tier, uint256) {
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
    ) private pure {
        if (value != 0) a.amounts[_indexOf(a.tokens, address(0))] += value;
        CallPolicy.Outflow memory o = CallPolicy.outflow(account, target, data);
        if (o.amount != 0) a.amounts[_indexOf(a.tokens, o.token)] += o.amount;
    }

    function _indexOf(address[] memory tokens, address token) private pure returns (uint256) {
        for (uint256 i = 0; i < tokens.length; ++i) if (tokens[i] == token) return i;
        revert AgentSessionsNoBudget(token);
    }

    function _executeAndCharge(
        Run memory run,
        bytes32 mode,
        bytes calldata payload,
        Assessment memory a
    ) private returns (bytes[] memory result) {
        address[] memory measured = _measured(run.account, a.tokens);
        uint256[] memory before = _balances(run.account, measured);
        address running = _RUNNING.asAddress().tload();
        bytes32 runningSession = _RUNNING_SESSION.asBytes32().tload();
        _RUNNING.asAddress().tstore(run.account);
        _RUNNING_SESSION.asBytes32().tstore(run.sessionId);
        result = IERC7579Execution(run.account).executeFromExecutor(mode, payload);
        _RUNNING.asAddress().tstore(running);
        _RUNNING_SESSION.asBytes32().tstore(runningSession);
        _resetAllowances(run.account, mode, payload);
        uint256[] memory afterwards = _balances(run.account, measured);
        for (uint256 i = 0; i < measured.length; ++i) {
            uint256 drop = before[i] > afterwards[i] ? before[i] - afterwards[i] : 0;
            if (i < a.tokens.length) _chargeAndLog(run, a.tokens[i], drop > a.amounts[i] ? drop : a.amounts[i]);
            else if (drop != 0) revert AgentSessionsUnbudgetedOutflow(measured[i], drop);
        }
    }

    /// @dev The session's budgeted tokens first (same indexes as the assessment), then every other watched asset.
    function _measured(address account, address[] memory tokens) private view returns (address[] memory out) {
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
    }

    function _chargeAndLog(Run memory run, address token, uint256 charged) private {
        if (charged == 0) return;
        if (run.tier != Tier.Approval) _charge(run.account, run.sessionId, token, charged, run.tier);
        emit SpendRecorded(run.account, run.sessionId, token, charged, run.tier, run.intentHash);
    }

    function _charge(address account, bytes32 sessionId, address token, uint256 amount, Tier tier) private {
        BudgetData storage b = _budgets[_budgetKey(sessionId, token)][account];
        uint256 tierLimit = tier == Tier.Instant ? b.instantThreshold : b.ceiling;
        if (amount > tierLimit)
            revert AgentSessionsBudgetExceeded(
                token,
                tier == Tier.Instant ? BudgetLimit.InstantThreshold : BudgetLimit.Ceiling,
                amount,
                tierLimit
            );
        (bool ok, uint256 periodLeft, uint256 lifetimeLeft) = b.window.tryRecord(
            amount,
            b.periodCap,
            b.lifetimeCap,
            b.period,
            block.timestamp
        );
        if (!ok) {
            bool periodHit = amount > periodLeft;
            revert AgentSessionsBudgetExceeded(
                token,
                periodHit ? BudgetLimit.Period : BudgetLimit.Lifetime,
                amount,
                periodHit ? periodLeft : lifetimeLeft
            );
        }
        FleetData storage f = _fleet[token][account];
        if (_accounts[account].hasFleet && f.set) {
            (ok, periodLeft, lifetimeLeft) = f.window.tryRecord(
                amount,
                f.periodCap,
                f.lifetimeCap,
                f.period,
                block.timestamp
            );
            if (!ok) {
                bool periodHit = amount > periodLeft;
                revert AgentSessionsBudgetExceeded(
                    token,
                    periodHit ? BudgetLimit.FleetPeriod : BudgetLimit.FleetLifetime,
                    amount,
                    periodHit ? periodLeft : lifetimeLeft
                );
            }
        }
    }

    function _balances(address account, address[] memory tokens) private view returns (uint256[] memory out) {
        out = new uint256[](tokens.length);
        for (uint256 i = 0; i < tokens.length; ++i) {
            out[i] = tokens[i] == address(0) ? account.balance : IERC20(tokens[i]).balanceOf(account);
        }
    }

    /// @dev Allowances granted by the operation are set back to zero, so none outlives it.
    /// @dev Allowances granted by the operation are set back to zero, so none outlives it.
    function _resetAllowances(address account, bytes32 mode, bytes calldata payload) private {
        (bool batch, ) = CallPolicy.isBatch(mode, true);
        if (!batch) {
            (address target, , bytes calldata data) = CallPolicy.decodeSingle(payload);
            _resetAllowance(account, target, data);
        } else {
            Execution[] calldata calls = CallPolicy.decodeBatch(payload);
            for (uint256 i = 0; i < calls.length; ++i) _resetAllowance(account, calls[i].target, calls[i].callData);
        }
    }

    function _resetAllowance(address account, address target, bytes calldata data) private {
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
    ) private returns (bytes32 requestId) {
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
