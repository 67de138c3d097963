// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {
    IERC7579Validator,
    IERC7579Execution,
    IERC7579ModuleConfig,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_HOOK
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IAgentSessions} from "../interfaces/IAgentSessions.sol";
import {IReinsExecutionDelegate} from "../interfaces/IReinsExecutionDelegate.sol";
import {IReinsQueueGuard} from "../interfaces/IReinsQueueGuard.sol";
import {IReinsTimelock} from "../interfaces/IReinsTimelock.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {ISessionsAccountConfig} from "../interfaces/ISessionsAccountConfig.sol";
import {CallPolicy} from "../libraries/CallPolicy.sol";
import {SpendWindow} from "../libraries/SpendWindow.sol";

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
 * - Execution (`executeAuthorized`, called by the account's `executeUserOp`): per-token spend from call data
 *   (native value, transfer, transferFrom(account), approve, increaseAllowance) and from the balance difference of
 *   every budgeted token across the execution; the larger is charged. Allowances granted by a session are reset to
 *   zero after its execution. Time-based budgets use {SpendWindow}: any window of `period` seconds sees at most the
 *   period cap. Operations above the instant tier are scheduled in the {IReinsTimelock} with this module as guard,
 *   and re-checked (scope, pause, revocation, budgets) when they run.
 * - Configuration: only the account (an owner operation) configures. Loosening (new session, new permission, higher
 *   budget, later expiry, lower security delay) waits the account's security delay; tightening applies at once.
 * Invariants: a session never authorises a call outside its scope; nothing an agent signs can reach the account,
 * the EntryPoint, this module or the timelock; uninstalling bumps the account epoch so no session revives.
 */
contract AgentSessions is
    IAgentSessions,
    ISessionsAccountConfig,
    IERC7579Validator,
    IReinsExecutionDelegate,
    IReinsQueueGuard
{
    using SpendWindow for SpendWindow.State;
    using TransientSlot for *;

    /// @dev Three slots. Validation reads all three and writes only the second (uses, gasSpent).
    struct SessionData {
        // slot 0
        address agent;
        uint48 validAfter;
        uint48 validUntil;
        // slot 1
        uint32 maxUses;
        uint32 uses;
        uint32 epoch;
        bool revoked;
        bool allowTry;
        bool allowPaymaster;
        uint96 gasSpent;
        // slot 2
        uint96 maxGasCostPerOp;
        uint96 gasBudget;
        uint32 queueDelay;
        uint32 approvalWindow;
    }

    struct PermissionData {
        bool allowed;
        uint8 count;
        uint16 calldataLength;
        uint128 valueCap;
        uint64 ops; // 4 × (op: 8 bits, word: 8 bits)
        bytes32[4] values;
    }

    /// @dev A budget is set when its period is non-zero (periods are never zero). Thresholds and period share a slot.
    struct BudgetData {
        uint112 instantThreshold;
        uint112 ceiling;
        uint32 period;
        uint128 periodCap;
        uint128 lifetimeCap;
        SpendWindow.State window;
    }

    struct FleetData {
        uint128 periodCap;
        uint128 lifetimeCap;
        uint32 period;
        bool set;
        SpendWindow.State window;
    }

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

    address private constant _ENTRYPOINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;
    uint256 private constant _MAX_CONDITIONS = 4;
    // keccak256(abi.encode(uint256(keccak256("reins.transient.AgentSessions.applying")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _APPLYING = 0x45a9ab8dd934cd2432b87f29b70f7770e4d32075c241af87cde4002dffec0200;

    /// @notice The timelock that holds queued agent operations.
    IReinsTimelock public immutable timelock;

    mapping(address account => AccountData) private _accounts;
    mapping(bytes32 sessionId => mapping(address account => SessionData)) private _sessions;
    mapping(bytes32 permissionKey => mapping(address account => PermissionData)) private _permissions;
    mapping(bytes32 oneOfKey => mapping(address account => bool)) private _oneOf;
    mapping(bytes32 budgetKey => mapping(address account => BudgetData)) private _budgets;
    // A session's budgeted tokens, as an account-keyed list (a dynamic array's elements would not be associated
    // with the account under ERC-7562, and initial sessions are granted during the account's deployment).
    mapping(bytes32 sessionId => mapping(address account => uint256)) private _budgetTokenCount;
    mapping(bytes32 tokenIndexKey => mapping(address account => address)) private _budgetTokenAt;
    mapping(address token => mapping(address account => FleetData)) private _fleet;
    mapping(address watchdog => mapping(address account => bool)) private _watchdogs;
    mapping(bytes32 changeHash => mapping(address account => uint48)) private _pendingChanges;
    mapping(address account => address) private _breakerOf;
    mapping(address delegate => mapping(address account => bool)) private _delegates;
    mapping(bytes32 sessionId => mapping(address account => address)) private _grantedBy;

    constructor(IReinsTimelock timelock_) {
        timelock = timelock_;
    }

    // ============================================================================================ module

    /**
     * @notice Install: `data` is empty, `abi.encode(uint32 securityDelay)`, or
     * `abi.encode(uint32 securityDelay, SessionConfig[] initialSessions)`. Initial sessions are granted at once:
     * the owner committed to them in the account's CREATE2 address (the factory salt covers the whole init data),
     * so an agent's first operation can deploy the account. Ids are assigned in order (nonce 1, 2, …).
     */
    function onInstall(bytes calldata data) external {
        AccountData storage a = _accounts[msg.sender];
        if (a.installed) return; // installed as validator and executor: second call is a no-op
        a.installed = true;
        if (data.length == 32) {
            a.securityDelay = abi.decode(data, (uint32));
        } else if (data.length > 32) {
            (uint32 delay, SessionConfig[] memory initial) = abi.decode(data, (uint32, SessionConfig[]));
            a.securityDelay = delay;
            for (uint256 i = 0; i < initial.length; ++i) _grant(msg.sender, initial[i]);
        }
    }

    /// @notice Uninstall: every existing session dies (epoch bump); spend records are kept.
    function onUninstall(bytes calldata) external {
        AccountData storage a = _accounts[msg.sender];
        if (!a.installed) return;
        a.installed = false;
        a.paused = false;
        emit AllSessionsRevoked(msg.sender, ++a.epoch);
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
        // signature: sessionId (32) ‖ intentHash (32) ‖ ECDSA (65)
        if (userOp.signature.length != 129) return ERC4337Utils.SIG_VALIDATION_FAILED;
        bytes32 sessionId = bytes32(userOp.signature[0:32]);
        SessionData storage s = _liveSession(account, sessionId);

        if (s.uses >= s.maxUses) revert AgentSessionsUsageExceeded(s.maxUses);
        ++s.uses;
        _chargeGas(s, userOp);

        (bytes32 mode, bytes calldata payload) = CallPolicy.decodeOperation(userOp.callData);
        _checkScope(account, sessionId, s.allowTry, mode, payload);

        bytes32 digest = keccak256(abi.encode(userOpHash, sessionId, bytes32(userOp.signature[32:64])));
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, userOp.signature[64:129]);
        bool ok = err == ECDSA.RecoverError.NoError && signer != address(0) && signer == s.agent;
        return ERC4337Utils.packValidationData(ok, s.validAfter, s.validUntil);
    }

    /// @notice Session keys never sign ERC-1271 messages: permits and off-chain orders would escape the scope.
    function isValidSignatureWithSender(address, bytes32, bytes calldata) external pure returns (bytes4) {
        return bytes4(0xffffffff);
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

    /// @inheritdoc IReinsQueueGuard
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
        _checkScope(account, context, s.allowTry, mode, executionCalldata);
        Assessment memory a = _assess(account, context, mode, executionCalldata);
        Run memory run = Run(account, context, bytes32(0), approved ? Tier.Approval : Tier.Delayed);
        return _executeAndCharge(run, mode, executionCalldata, a);
    }

    // ============================================================================================ owner: sessions

    /**
     * @notice Grant a session (loosening: waits the security delay when one is set; the id is assigned when it
     * applies). Called by the account.
     * @return sessionId The new session's id, or zero when the grant was queued behind the security delay.
     */
    function grantSession(SessionConfig calldata config) external returns (bytes32 sessionId) {
        address account = _account();
        if (!_loosening(account)) return bytes32(0);
        return _grant(account, config);
    }

    /**
     * @notice A grant delegate (for example {RiskEngineEnvelope}, which checks the envelope the owner set for an
     * automated risk engine) grants a session for `account`; applies at once: the owner accepted the delegate,
     * behind the security delay, with {setGrantDelegate}.
     */
    function grantSessionFor(address account, SessionConfig calldata config) external returns (bytes32 sessionId) {
        _onlyDelegate(account);
        sessionId = _grant(account, config);
        _grantedBy[sessionId][account] = msg.sender;
    }

    /// @notice A grant delegate moves the end of a session it granted (its envelope bounds how far).
    function renewSessionFor(address account, bytes32 sessionId, uint48 validUntil) external {
        _onlyDelegate(account);
        if (_grantedBy[sessionId][account] != msg.sender) revert AgentSessionsUnauthorized(msg.sender);
        SessionData storage s = _sessions[sessionId][account];
        if (validUntil <= s.validAfter) revert AgentSessionsInvalidConfig(ConfigField.ValidUntil);
        s.validUntil = validUntil;
        emit SessionRenewed(account, sessionId, validUntil);
    }

    /// @notice A grant delegate tightens any session of the account: every budget field lowered or kept, same period.
    function tightenBudgetFor(address account, bytes32 sessionId, TokenBudget calldata budget) external {
        _onlyDelegate(account);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        if (
            b.period == 0 ||
            budget.period != b.period ||
            budget.instantThreshold > b.instantThreshold ||
            budget.ceiling > b.ceiling ||
            budget.periodCap > b.periodCap ||
            budget.lifetimeCap > b.lifetimeCap
        ) revert AgentSessionsInvalidConfig(ConfigField.TightenOnly);
        _setBudget(account, sessionId, budget);
    }

    /// @notice A grant delegate revokes any session of the account.
    function revokeFor(address account, bytes32 sessionId) external {
        _onlyDelegate(account);
        _revoke(account, sessionId);
    }

    /// @notice Accept or drop a grant delegate (accepting is loosening: waits the security delay).
    function setGrantDelegate(address delegate, bool enabled) external {
        address account = _account();
        if (enabled && !_loosening(account)) return;
        _delegates[delegate][account] = enabled;
        emit GrantDelegateSet(account, delegate, enabled);
    }

    /// @notice Whether `delegate` may grant, renew, tighten and revoke sessions of `account`.
    function isGrantDelegate(address delegate, address account) external view returns (bool) {
        return _delegates[delegate][account];
    }

    function _onlyDelegate(address account) private view {
        if (!_delegates[msg.sender][account]) revert AgentSessionsUnauthorized(msg.sender);
    }

    // ============================================================================================ breaker

    /**
     * @notice Attach an automatic circuit breaker ({ICircuitBreaker}) to the account, or detach it with zero.
     * Attaching one where there was none applies at once; replacing or removing one is loosening.
     */
    function setBreaker(address breaker) external {
        address account = _account();
        if (_breakerOf[account] != address(0) && !_loosening(account)) return;
        _breakerOf[account] = breaker;
        emit BreakerSet(account, breaker);
    }

    /// @notice The account's circuit breaker (zero if none).
    function breakerOf(address account) external view returns (address) {
        return _breakerOf[account];
    }

    /// @dev Asks the breaker (if any) about the operation; pauses the account and returns true when it trips.
    function _breakerTrips(
        address account,
        bytes32 mode,
        bytes calldata payload,
        Assessment memory a
    ) private returns (bool) {
        address breaker = _breakerOf[account];
        if (breaker == address(0)) return false;
        if (!ICircuitBreaker(breaker).recordOperation(account, mode, payload, a.tokens, a.amounts)) return false;
        _accounts[account].paused = true;
        emit Paused(account, breaker);
        return true;
    }

    /// @dev Internal grant: validate, assign the id, store everything.
    function _grant(address account, SessionConfig memory config) private returns (bytes32 sessionId) {
        _validateConfig(account, config);
        AccountData storage a = _accounts[account];
        sessionId = keccak256(abi.encode(account, ++a.sessionNonce));
        SessionData storage s = _sessions[sessionId][account];
        s.agent = config.agent;
        s.validAfter = config.validAfter;
        s.validUntil = config.validUntil;
        s.maxUses = config.maxUses;
        s.epoch = a.epoch;
        s.queueDelay = config.queueDelay;
        s.approvalWindow = config.approvalWindow;
        s.allowTry = config.allowTry;
        s.allowPaymaster = config.allowPaymaster;
        s.maxGasCostPerOp = uint96(config.maxGasCostPerOp);
        s.gasBudget = uint96(config.gasBudget);
        for (uint256 i = 0; i < config.permissions.length; ++i) {
            _addPermission(account, sessionId, config.permissions[i]);
        }
        for (uint256 i = 0; i < config.budgets.length; ++i) {
            _setBudget(account, sessionId, config.budgets[i]);
        }
        emit SessionGranted(account, sessionId, config.agent, config.validAfter, config.validUntil);
    }

    /// @notice Revoke a session at once (the account).
    function revokeSession(bytes32 sessionId) external {
        _revoke(msg.sender, sessionId);
    }

    /// @notice The agent revokes its own session (a compromised agent can shut itself down).
    function revokeSelf(address account, bytes32 sessionId) external {
        if (_sessions[sessionId][account].agent != msg.sender) revert AgentSessionsUnauthorized(msg.sender);
        _revoke(account, sessionId);
    }

    /// @notice Revoke every session of the account at once (the account, e.g. from guardian recovery).
    function revokeAllSessions() external {
        AccountData storage a = _accounts[msg.sender];
        emit AllSessionsRevoked(msg.sender, ++a.epoch);
    }

    /// @notice Change a session's end: later is loosening (delayed), earlier applies at once.
    function renewSession(bytes32 sessionId, uint48 validUntil) external {
        address account = _account();
        SessionData storage s = _sessions[sessionId][account];
        if (s.agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        if (validUntil <= s.validAfter) revert AgentSessionsInvalidConfig(ConfigField.ValidUntil);
        if (validUntil > s.validUntil && !_loosening(account)) return;
        s.validUntil = validUntil;
        emit SessionRenewed(account, sessionId, validUntil);
    }

    /// @notice Add a permission to a session (loosening: delayed).
    function addPermission(bytes32 sessionId, Permission calldata permission) external {
        address account = _account();
        if (_sessions[sessionId][account].agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        if (!_loosening(account)) return;
        _checkTarget(account, permission.target);
        _addPermission(account, sessionId, permission);
    }

    /// @notice Remove a permission (tightening: at once).
    function removePermission(bytes32 sessionId, address target, bytes4 selector) external {
        delete _permissions[_permissionKey(sessionId, target, selector)][msg.sender];
    }

    /// @notice Set a session's budget for one token. Any raised field makes it loosening (delayed).
    function setBudget(bytes32 sessionId, TokenBudget calldata budget) external {
        address account = _account();
        if (_sessions[sessionId][account].agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        bool raises =
            b.period == 0 ||
                budget.instantThreshold > b.instantThreshold ||
                budget.ceiling > b.ceiling ||
                budget.periodCap > b.periodCap ||
                budget.lifetimeCap > b.lifetimeCap ||
                budget.period != b.period; // any new period restarts the window (clears its spend): loosening
        if (raises && !_loosening(account)) return;
        _setBudget(account, sessionId, budget);
    }

    /// @notice Set the fleet budget of `token` (all sessions together). Raising is loosening (delayed).
    function setFleetBudget(address token, uint128 periodCap, uint128 lifetimeCap, uint32 period) external {
        address account = _account();
        if (period == 0) revert AgentSessionsInvalidConfig(ConfigField.Period);
        FleetData storage f = _fleet[token][account];
        bool raises = periodCap > f.periodCap || lifetimeCap > f.lifetimeCap || period != f.period;
        if (f.set && raises && !_loosening(account)) return;
        if (f.set && period != f.period) f.window.clearWindow();
        _accounts[account].hasFleet = true;
        (f.periodCap, f.lifetimeCap, f.period, f.set) = (periodCap, lifetimeCap, period, true);
        emit FleetBudgetSet(account, token, periodCap, lifetimeCap, period);
    }

    /// @notice Set the security delay for loosening changes; lowering it is itself loosening.
    function setSecurityDelay(uint32 delay) external {
        address account = _account();
        if (delay < _accounts[account].securityDelay && !_loosening(account)) return;
        _accounts[account].securityDelay = delay;
    }

    /// @notice Apply a loosening change proposed by `account` once its delay has passed (anyone may call).
    function applyChange(address account, bytes calldata data) external {
        bytes32 changeHash = keccak256(data);
        uint48 readyAt = _pendingChanges[changeHash][account];
        if (readyAt == 0 || block.timestamp < readyAt) revert AgentSessionsChangeNotReady(changeHash, readyAt);
        delete _pendingChanges[changeHash][account];
        _APPLYING.asAddress().tstore(account);
        bool ok = LowLevelCall.callNoReturn(address(this), 0, data);
        _APPLYING.asAddress().tstore(address(0));
        if (!ok) LowLevelCall.bubbleRevert();
        emit ChangeApplied(account, changeHash);
    }

    /// @notice Cancel a pending loosening change (the account).
    function cancelChange(bytes32 changeHash) external {
        if (_pendingChanges[changeHash][msg.sender] == 0) revert AgentSessionsChangeNotReady(changeHash, 0);
        delete _pendingChanges[changeHash][msg.sender];
        emit ChangeCancelled(msg.sender, changeHash);
    }

    // ============================================================================================ watchdog

    /// @notice Add or remove a watchdog (the account). Removing is tightening; adding only grants pause rights.
    function setWatchdog(address watchdog, bool enabled) external {
        _watchdogs[watchdog][msg.sender] = enabled;
        emit WatchdogSet(msg.sender, watchdog, enabled);
    }

    /// @notice Freeze every agent session of `account` (a watchdog or the account); optionally clear its queue.
    function pause(address account, bool cancelQueued) external {
        if (msg.sender != account && !_watchdogs[msg.sender][account]) revert AgentSessionsUnauthorized(msg.sender);
        _accounts[account].paused = true;
        emit Paused(account, msg.sender);
        if (cancelQueued) timelock.cancelAllFor(account);
    }

    /// @notice Unfreeze (the account only, i.e. the owner).
    function unpause() external {
        _accounts[msg.sender].paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice A watchdog (or the account) revokes one session.
    function revokeByWatchdog(address account, bytes32 sessionId) external {
        if (!_watchdogs[msg.sender][account]) revert AgentSessionsUnauthorized(msg.sender);
        _revoke(account, sessionId);
    }

    // ============================================================================================ views

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

    /// @inheritdoc ISessionsAccountConfig
    function accountConfig(address account) external view returns (AccountData memory) {
        return _accounts[account];
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

    /// @notice When a proposed change becomes applicable (zero if none).
    function pendingChange(address account, bytes32 changeHash) external view returns (uint48) {
        return _pendingChanges[changeHash][account];
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

    function _liveSession(address account, bytes32 sessionId) private view returns (SessionData storage s) {
        s = _sessions[sessionId][account];
        AccountData storage a = _accounts[account];
        if (s.agent == address(0) || s.epoch != a.epoch) revert AgentSessionsUnknownSession(sessionId);
        if (s.revoked) revert AgentSessionsRevoked(sessionId);
        if (a.paused) revert AgentSessionsPaused(account);
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
        if (target == account || target == address(this) || target == address(timelock) || target == _ENTRYPOINT) {
            revert AgentSessionsForbiddenTarget(index, target);
        }
        bytes4 selector = CallPolicy.selectorOf(data);
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
        else pass = _oneOf[keccak256(abi.encode(permKey, c, actual))][account];
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
        for (uint256 i = 0; i < a.tokens.length; ++i) {
            if (a.amounts[i] == 0) continue;
            (Tier t, uint256 lim) = _tierOf(account, sessionId, a.tokens[i], a.amounts[i]);
            if (uint8(t) > uint8(a.tier) || a.limit == 0) (a.tier, a.worst, a.limit) = (t, i, lim);
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
        (uint256 amount, , ) = CallPolicy.erc20Outflow(account, data);
        if (amount != 0) a.amounts[_indexOf(a.tokens, target)] += amount;
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
        uint256[] memory before = _balances(run.account, a.tokens);
        result = IERC7579Execution(run.account).executeFromExecutor(mode, payload);
        _resetAllowances(run.account, mode, payload);
        uint256[] memory afterwards = _balances(run.account, a.tokens);
        for (uint256 i = 0; i < a.tokens.length; ++i) {
            uint256 drop = before[i] > afterwards[i] ? before[i] - afterwards[i] : 0;
            _chargeAndLog(run, a.tokens[i], drop > a.amounts[i] ? drop : a.amounts[i]);
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
            revert AgentSessionsBudgetExceeded(token, tier == Tier.Instant ? 0 : 1, amount, tierLimit);
        (bool ok, uint256 periodLeft, uint256 lifetimeLeft) = b.window.tryRecord(
            amount,
            b.periodCap,
            b.lifetimeCap,
            b.period,
            block.timestamp
        );
        if (!ok) {
            bool periodHit = amount > periodLeft;
            revert AgentSessionsBudgetExceeded(token, periodHit ? 2 : 3, amount, periodHit ? periodLeft : lifetimeLeft);
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
                    periodHit ? 4 : 5,
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

    function _resetAllowance(address account, address token, bytes calldata data) private {
        (, address spender, bool approval) = CallPolicy.erc20Outflow(account, data);
        if (!approval) return;
        if (IERC20(token).allowance(account, spender) == 0) return;
        IERC7579Execution(account).executeFromExecutor(
            CallPolicy.MODE_SINGLE,
            abi.encodePacked(token, uint256(0), abi.encodeCall(IERC20.approve, (spender, 0)))
        );
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

    function _revoke(address account, bytes32 sessionId) private {
        SessionData storage s = _sessions[sessionId][account];
        if (s.agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        s.revoked = true;
        emit SessionRevoked(account, sessionId, msg.sender);
    }

    function _validateConfig(address account, SessionConfig memory c) private view {
        if (c.agent == address(0)) revert AgentSessionsInvalidConfig(ConfigField.Agent);
        if (c.validUntil <= c.validAfter) revert AgentSessionsInvalidConfig(ConfigField.ValidUntil);
        if (c.maxUses == 0) revert AgentSessionsInvalidConfig(ConfigField.MaxUses);
        if (c.gasBudget > type(uint96).max || c.maxGasCostPerOp > type(uint96).max) {
            revert AgentSessionsInvalidConfig(ConfigField.GasBudget);
        }
        if (c.permissions.length == 0) revert AgentSessionsInvalidConfig(ConfigField.Permissions);
        if (c.approvalWindow == 0) revert AgentSessionsInvalidConfig(ConfigField.ApprovalWindow);
        for (uint256 i = 0; i < c.permissions.length; ++i) _checkTarget(account, c.permissions[i].target);
    }

    /// @dev Scopes can never include the account, the EntryPoint, this module, the timelock or an installed module.
    function _checkTarget(address account, address target) private view {
        if (target == account || target == address(this) || target == address(timelock) || target == _ENTRYPOINT) {
            revert AgentSessionsForbiddenTarget(type(uint256).max, target);
        }
        if (account.code.length != 0) {
            IERC7579ModuleConfig cfg = IERC7579ModuleConfig(account);
            if (
                cfg.isModuleInstalled(MODULE_TYPE_VALIDATOR, target, "") ||
                cfg.isModuleInstalled(MODULE_TYPE_EXECUTOR, target, "") ||
                cfg.isModuleInstalled(MODULE_TYPE_HOOK, target, "")
            ) revert AgentSessionsForbiddenTarget(type(uint256).max, target);
        }
    }

    function _addPermission(address account, bytes32 sessionId, Permission memory perm) private {
        if (perm.conditions.length > _MAX_CONDITIONS) revert AgentSessionsInvalidConfig(ConfigField.Conditions);
        bytes32 key = _permissionKey(sessionId, perm.target, perm.selector);
        PermissionData storage p = _permissions[key][account];
        p.allowed = true;
        p.count = uint8(perm.conditions.length);
        p.calldataLength = perm.calldataLength;
        p.valueCap = perm.valueCap;
        uint64 ops;
        for (uint256 c = 0; c < perm.conditions.length; ++c) {
            Condition memory cond = perm.conditions[c];
            if (cond.op == ConditionOp.None) revert AgentSessionsInvalidConfig(ConfigField.ConditionOp);
            ops |= (uint64(uint8(cond.op)) << (16 * c)) | (uint64(cond.word) << (16 * c + 8));
            p.values[c] = cond.value;
            if (cond.op == ConditionOp.OneOf) {
                if (cond.oneOf.length == 0) revert AgentSessionsInvalidConfig(ConfigField.OneOf);
                for (uint256 k = 0; k < cond.oneOf.length; ++k) {
                    _oneOf[keccak256(abi.encode(key, c, cond.oneOf[k]))][account] = true;
                }
            }
        }
        p.ops = ops;
    }

    function _setBudget(address account, bytes32 sessionId, TokenBudget memory budget) private {
        if (budget.period == 0) revert AgentSessionsInvalidConfig(ConfigField.Period);
        if (budget.instantThreshold > budget.ceiling) revert AgentSessionsInvalidConfig(ConfigField.InstantThreshold);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        if (budget.ceiling > type(uint112).max) revert AgentSessionsInvalidConfig(ConfigField.InstantThreshold);
        if (b.period == 0) {
            uint256 n = _budgetTokenCount[sessionId][account];
            _budgetTokenAt[keccak256(abi.encode(sessionId, n))][account] = budget.token;
            _budgetTokenCount[sessionId][account] = n + 1;
        } else if (b.period != budget.period) b.window.clearWindow(); // sub-bucket length changes with the period
        b.instantThreshold = uint112(budget.instantThreshold); // ≤ ceiling ≤ 2^112 - 1, checked above
        b.ceiling = uint112(budget.ceiling);
        b.periodCap = budget.periodCap;
        b.lifetimeCap = budget.lifetimeCap;
        b.period = budget.period;
        emit BudgetSet(account, sessionId, budget.token, budget);
    }

    function _budgetTokensOf(bytes32 sessionId, address account) private view returns (address[] memory tokens) {
        tokens = new address[](_budgetTokenCount[sessionId][account]);
        for (uint256 i = 0; i < tokens.length; ++i) {
            tokens[i] = _budgetTokenAt[keccak256(abi.encode(sessionId, i))][account];
        }
    }

    /// @dev The configuring account: the caller, or the account whose matured change is being applied.
    function _account() private view returns (address) {
        if (msg.sender == address(this)) return _APPLYING.asAddress().tload();
        return msg.sender;
    }

    /// @dev True when a loosening change may apply now; otherwise records it behind the security delay.
    function _loosening(address account) private returns (bool) {
        if (msg.sender == address(this)) return true;
        uint32 delay = _accounts[account].securityDelay;
        if (delay == 0) return true;
        bytes32 changeHash = keccak256(msg.data);
        uint48 readyAt = uint48(block.timestamp + delay);
        _pendingChanges[changeHash][account] = readyAt;
        emit ChangeProposed(account, changeHash, readyAt, msg.data);
        return false;
    }

    function _permissionKey(bytes32 sessionId, address target, bytes4 selector) private pure returns (bytes32) {
        return keccak256(abi.encode(sessionId, target, selector));
    }

    function _budgetKey(bytes32 sessionId, address token) private pure returns (bytes32) {
        return keccak256(abi.encode(sessionId, token));
    }
}
