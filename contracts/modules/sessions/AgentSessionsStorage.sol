// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {
    IERC7579ModuleConfig,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR,
    MODULE_TYPE_HOOK
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IAgentSessions} from "../../interfaces/IAgentSessions.sol";
import {IReinsModuleTypes} from "../../interfaces/IReinsModuleTypes.sol";
import {IReinsTimelock} from "../../interfaces/IReinsTimelock.sol";
import {ISessionsAccountConfig} from "../../interfaces/ISessionsAccountConfig.sol";
import {SpendWindow} from "../../libraries/SpendWindow.sol";
import {CallPolicy} from "../../libraries/CallPolicy.sol";
import {ValueBudget} from "../../libraries/ValueBudget.sol";
import {SecurityDelayed} from "../shared/SecurityDelayed.sol";

/**
 * @title AgentSessionsStorage
 * @notice The state of the session module, shared by {AgentSessions} (validation and execution) and
 * {AgentSessionsAdmin} (configuration and lifecycle, run by `delegatecall` from {AgentSessions}), plus the checks
 * both phases must agree on: whether a session may act now ({_liveSession}, {_checkWindow}) and which targets no
 * session may ever reach ({_checkTarget}).
 * @dev Both contracts inherit this one first and declare no state of their own, so their layouts are identical.
 * Loosening changes wait the account's security delay through the shared {SecurityDelayed} mechanism (keyed by
 * the hash of the change's call data, voided when the account's session epoch moves on), with this module's own
 * errors and events.
 * Every mapping read in validation has the account as its innermost key (ERC-7562 storage association).
 */
abstract contract AgentSessionsStorage is IAgentSessions, SecurityDelayed {
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

    /// @dev `generation` is bumped whenever the permission is replaced or removed, and one-of sets are keyed by it,
    /// so a replaced permission's old one-of values are unreachable at once (narrowing binds immediately).
    struct PermissionData {
        bool allowed;
        uint8 count;
        uint16 calldataLength;
        uint128 valueCap;
        uint64 ops; // 4 × (op: 8 bits, word: 8 bits)
        uint32 generation;
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

    /// @dev An EIP-3009 `TransferWithAuthorization` an agent operation charged to its session's budget; the
    /// account's ERC-1271 accepts its digest until `validBefore`, while the session stays live.
    struct Reservation {
        bytes32 sessionId;
        address token;
        uint48 validBefore;
    }

    address internal constant _ENTRYPOINT = 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108;
    uint256 internal constant _MAX_CONDITIONS = 4;
    // keccak256(abi.encode(uint256(keccak256("reins.transient.AgentSessions.applying")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant _APPLYING = 0x45a9ab8dd934cd2432b87f29b70f7770e4d32075c241af87cde4002dffec0200;
    // keccak256(abi.encode(uint256(keccak256("reins.transient.AgentSessions.running")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant _RUNNING = 0xe83788abf838155dd75a37f952f341fa937700f3cf2893f64e07779f5a5ecf00;
    // keccak256(abi.encode(uint256(keccak256("reins.transient.AgentSessions.runningSession")) - 1)) & ~bytes32(0xff)
    bytes32 internal constant _RUNNING_SESSION = 0xc41ec94a95f0b0ed6ab90f353345f72533033fc8c4b8ff3b89576a48a91dfd00;

    mapping(address account => ISessionsAccountConfig.AccountData) internal _accounts;
    mapping(bytes32 sessionId => mapping(address account => SessionData)) internal _sessions;
    mapping(bytes32 permissionKey => mapping(address account => PermissionData)) internal _permissions;
    mapping(bytes32 oneOfKey => mapping(address account => bool)) internal _oneOf;
    mapping(bytes32 budgetKey => mapping(address account => BudgetData)) internal _budgets;
    // A session's budgeted tokens, as an account-keyed list (a dynamic array's elements would not be associated
    // with the account under ERC-7562, and initial sessions are granted during the account's deployment).
    // The head packs the first non-native token, the number of non-native tokens and the position of native ETH
    // in the list (see {_budgetTokensOf}), so the usual one- or two-token session (a token and ETH) is one slot.
    mapping(bytes32 sessionId => mapping(address account => uint256)) internal _budgetTokenHead;
    mapping(bytes32 tokenIndexKey => mapping(address account => address)) internal _budgetTokenAt;
    mapping(address token => mapping(address account => FleetData)) internal _fleet;
    mapping(address watchdog => mapping(address account => bool)) internal _watchdogs;
    mapping(address account => address) internal _breakerOf;
    // epoch + 1 of the account when the delegate was accepted (0: not a delegate); void after a revoke-all.
    mapping(address delegate => mapping(address account => uint32)) internal _delegates;
    mapping(bytes32 sessionId => mapping(address account => address)) internal _grantedBy;
    // The assets the account watches: every execution of an agent operation measures each of them, and a drop that
    // no budget of the session pays for reverts it (default deny on observed effects).
    // The count and the native-ETH flag live in AccountData (already read by every execution); the list holds the
    // other assets (see {_watchList}).
    mapping(bytes32 watchIndexKey => mapping(address account => address)) internal _watchAt;
    // EIP-3009 transfer authorizations an agent operation paid for (see {AgentTransferAuthorizations}).
    mapping(bytes32 digest => mapping(address account => Reservation)) internal _reservations;
    // Value budgets (see {IAgentSessionsValue}): per session, the account's own (session id zero), the account's
    // unit (fixed by its first value budget) and its price sources per token. Read in the execution phase only.
    mapping(bytes32 sessionId => mapping(address account => ValueBudget.Budget)) internal _valueBudgets;
    mapping(address account => bytes8) internal _valueUnit;
    mapping(address token => mapping(address account => PriceEntry)) internal _priceSources;

    /// @notice The timelock that holds queued agent operations.
    IReinsTimelock public immutable timelock;

    constructor(IReinsTimelock timelock_) {
        timelock = timelock_;
    }

    /**
     * @dev The one authority on "may this session act now" apart from time: it exists in the account's current
     * epoch, is not revoked, and the account is not paused. Validation returns the time window to the EntryPoint;
     * every execution path adds {_checkWindow}.
     */
    function _liveSession(address account, bytes32 sessionId) internal view returns (SessionData storage s) {
        s = _sessions[sessionId][account];
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        if (s.agent == address(0) || s.epoch != a.epoch) revert AgentSessionsUnknownSession(sessionId);
        if (s.revoked) revert AgentSessionsRevoked(sessionId);
        if (a.paused) revert AgentSessionsPaused(account);
    }

    /// @dev Execution phase: the time is inside the session's window, with the EntryPoint's own bounds
    /// (`validAfter < now ≤ validUntil`), so a queued or approved operation never runs when a fresh one could not.
    function _checkWindow(bytes32 sessionId, SessionData storage s) internal view {
        uint48 validAfter = s.validAfter;
        uint48 validUntil = s.validUntil;
        if (block.timestamp <= validAfter || block.timestamp > validUntil) {
            revert AgentSessionsOutsideWindow(sessionId, validAfter, validUntil, block.timestamp);
        }
    }

    /**
     * @dev No session may ever reach what configures the account: the zero address (executed by the account as a
     * call to itself), the account, the EntryPoint (its deposit), this module, the timelock, the account's
     * breaker, and every installed validator, executor or hook. Checked at grant time
     * and again for every call in validation and queued execution, so a module installed after the grant is
     * unreachable too. Companion contracts that configure the account through `msg.sender` (breaker, envelope)
     * also refuse configuration while an agent's calls run ({isAgentExecuting}).
     */
    function _checkTarget(address account, uint256 index, address target, bytes4 selector) internal view {
        // The one call into this module a session may make: paying for an EIP-3009 authorization, which the
        // execution phase charges like a transfer ({AgentTransferAuthorizations-reserveTransferAuthorization}).
        if (target == address(this) && selector == CallPolicy.RESERVE_TRANSFER_AUTHORIZATION) return;
        if (
            target == address(0) ||
            target == account ||
            target == address(this) ||
            target == address(timelock) ||
            target == _ENTRYPOINT ||
            (_accounts[account].hasBreaker && target == _breakerOf[account])
        ) revert AgentSessionsForbiddenTarget(index, target);
        if (account.code.length != 0 && _isInstalledModule(account, target)) {
            revert AgentSessionsForbiddenTarget(index, target);
        }
    }

    uint256 private constant _FORBIDDEN_MODULE_TYPES =
        (1 << MODULE_TYPE_VALIDATOR) | (1 << MODULE_TYPE_EXECUTOR) | (1 << MODULE_TYPE_HOOK);

    /// @dev Whether `target` is installed on `account` as a validator, executor or hook: one call on a Reins account
    /// ({IReinsModuleTypes-installedModuleTypes}); on any other ERC-7579 account (no such view: the call fails or
    /// returns no word) one `isModuleInstalled` call per type.
    function _isInstalledModule(address account, address target) private view returns (bool) {
        (bool ok, bytes32 types, ) = LowLevelCall.staticcallReturn64Bytes(
            account,
            abi.encodeCall(IReinsModuleTypes.installedModuleTypes, (target))
        );
        if (ok && LowLevelCall.returnDataSize() == 32) return uint256(types) & _FORBIDDEN_MODULE_TYPES != 0;
        IERC7579ModuleConfig cfg = IERC7579ModuleConfig(account);
        return
            cfg.isModuleInstalled(MODULE_TYPE_VALIDATOR, target, "") ||
            cfg.isModuleInstalled(MODULE_TYPE_EXECUTOR, target, "") ||
            cfg.isModuleInstalled(MODULE_TYPE_HOOK, target, "");
    }

    /// @dev Whether an agent operation of `account` is executing right now (transient; set around its calls).
    function _agentExecuting(address account) internal view returns (bool) {
        return account != address(0) && _RUNNING.asAddress().tload() == account;
    }

    function _permissionKey(bytes32 sessionId, address target, bytes4 selector) internal pure returns (bytes32) {
        return keccak256(abi.encode(sessionId, target, selector));
    }

    function _budgetKey(bytes32 sessionId, address token) internal pure returns (bytes32) {
        return keccak256(abi.encode(sessionId, token));
    }

    function _oneOfKey(bytes32 permKey, uint32 generation, uint256 c, bytes32 value) internal pure returns (bytes32) {
        return keccak256(abi.encode(permKey, generation, c, value));
    }

    function _indexKey(bytes32 scope, uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode(scope, i));
    }

    uint256 private constant _HEAD_COUNT_SHIFT = 160; // non-native token count (8 bits)
    uint256 private constant _HEAD_NATIVE_SHIFT = 168; // position of native ETH in the list + 1 (8 bits, 0: none)
    uint256 internal constant _MAX_BUDGET_TOKENS = 255;
    // Watch coverage: set when an execution found every watched asset among the session's budget tokens, for the
    // account's watch list at version `watchVersion` (32 bits); while the version is unchanged the list need not be
    // read again.
    uint256 internal constant _HEAD_COVERED_SHIFT = 176;
    uint256 internal constant _HEAD_COVERED_FLAG = 1 << 208;

    /// @dev The session's budgeted tokens in the order their budgets were first set (native ETH as address(0)).
    function _budgetTokensOf(bytes32 sessionId, address account) internal view returns (address[] memory tokens) {
        uint256 head = _budgetTokenHead[sessionId][account];
        uint256 n = uint8(head >> _HEAD_COUNT_SHIFT);
        uint256 nativeAt = uint8(head >> _HEAD_NATIVE_SHIFT); // position + 1
        tokens = new address[](n + (nativeAt == 0 ? 0 : 1));
        uint256 j; // next non-native token
        for (uint256 i = 0; i < tokens.length; ++i) {
            if (i + 1 == nativeAt) continue; // address(0)
            tokens[i] = j == 0 ? address(uint160(head)) : _budgetTokenAt[_indexKey(sessionId, j)][account];
            ++j;
        }
    }

    /// @dev Appends `token` to the session's budgeted tokens (the caller checked it is not in the list yet).
    function _appendBudgetToken(bytes32 sessionId, address account, address token) internal {
        uint256 head = _budgetTokenHead[sessionId][account];
        uint256 n = uint8(head >> _HEAD_COUNT_SHIFT);
        uint256 nativeAt = uint8(head >> _HEAD_NATIVE_SHIFT);
        uint256 length = n + (nativeAt == 0 ? 0 : 1);
        if (length == _MAX_BUDGET_TOKENS) revert AgentSessionsInvalidConfig(ConfigField.Watch);
        if (token == address(0)) {
            head |= (length + 1) << _HEAD_NATIVE_SHIFT;
        } else {
            if (n == 0) head |= uint160(token);
            else _budgetTokenAt[_indexKey(sessionId, n)][account] = token;
            head = (head & ~(uint256(0xff) << _HEAD_COUNT_SHIFT)) | ((n + 1) << _HEAD_COUNT_SHIFT);
        }
        _budgetTokenHead[sessionId][account] = head;
    }

    /// @dev The assets `account` watches: the listed ones in list order, then native ETH if watched.
    function _watchList(address account) internal view returns (address[] memory assets) {
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        assets = new address[](a.watchCount);
        uint256 listed = assets.length - (a.watchesNative ? 1 : 0);
        for (uint256 i = 0; i < listed; ++i) assets[i] = _watchAt[_indexKey(0, i)][account];
    }

    /// @dev Index of `asset` (not native ETH) in the account's watch list of `listed` slots, or `listed` if absent.
    function _watchIndex(address account, address asset, uint256 listed) internal view returns (uint256) {
        for (uint256 i = 0; i < listed; ++i) if (_watchAt[_indexKey(0, i)][account] == asset) return i;
        return listed;
    }

    /// @dev Loosening changes wait the account's security delay and die with its session epoch.
    function _securityDelay(address account) internal view override returns (uint256 delay, uint32 epoch) {
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        return (a.securityDelay, a.epoch);
    }

    /// @dev This module's error for a change that is not pending or not ready (`readyAt` 0: none).
    function _revertNotReady(address, bytes32 changeHash, uint48 readyAt) internal pure override {
        revert AgentSessionsChangeNotReady(changeHash, readyAt);
    }

    /// @dev This module's error for a change of an earlier epoch.
    function _revertVoided(address, bytes32 changeHash, uint32 proposed, uint32 current) internal pure override {
        revert AgentSessionsChangeVoided(changeHash, proposed, current);
    }

    /// @dev This module's own events report its changes ({ChangeProposed} with the call data, {ChangeApplied},
    /// {ChangeCancelled}); the shared ones are not emitted.
    function _changeEvent(ChangeEvent kind, address account, bytes32 changeHash, uint48, uint32) internal override {
        if (kind == ChangeEvent.Cancelled) emit ChangeCancelled(account, changeHash);
    }
}
