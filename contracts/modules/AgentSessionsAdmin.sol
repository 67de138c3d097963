// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {IReinsTimelock} from "../interfaces/IReinsTimelock.sol";
import {ISessionsAccountConfig} from "../interfaces/ISessionsAccountConfig.sol";
import {SpendWindow} from "../libraries/SpendWindow.sol";
import {AgentSessionsStorage} from "./sessions/AgentSessionsStorage.sol";

/**
 * @title AgentSessionsAdmin
 * @notice Configuration and lifecycle of {AgentSessions}: grants, permissions, budgets, watched assets, delayed
 * loosening, revocation, watchdogs, the breaker and grant delegates. It holds no state of its own: {AgentSessions}
 * runs it by `delegatecall`, so `msg.sender` is the configuring account and the storage is {AgentSessions}'.
 * @dev Rules kept here:
 * - Loosening (a new session, permission, higher budget, later expiry, lower security delay, a grant delegate, a
 *   replaced breaker, an unwatched asset) waits the account's security delay; tightening applies at once.
 * - A pending change belongs to the account's session epoch: a revoke-all, an uninstall (and so a guardian
 *   recovery whose follow-up calls revoke all sessions) voids every change proposed before, and every grant
 *   delegate accepted before.
 * - Revoking all sessions, uninstalling and a watchdog pause with `cancelQueued` cancel the agent requests queued
 *   in the timelock, and only those (the owner's own safety-net operations are not touched).
 * - A reinstall keeps the earlier security delay as a floor: a lower delay and initial sessions in its init data
 *   become pending changes behind that delay.
 */
contract AgentSessionsAdmin is AgentSessionsStorage {
    using TransientSlot for *;
    using SpendWindow for SpendWindow.State;

    uint256 private constant _MAX_WATCHED = 32;
    address private immutable _self;

    constructor(IReinsTimelock timelock_) AgentSessionsStorage(timelock_) {
        _self = address(this);
    }

    /// @dev Only ever run by `delegatecall` from {AgentSessions} (its own storage would mean nothing).
    modifier delegated() {
        if (address(this) == _self) revert AgentSessionsUnauthorized(msg.sender);
        _;
    }

    // ============================================================================================ module

    /**
     * @notice Install: `data` is empty, `abi.encode(uint32 securityDelay)`, or
     * `abi.encode(uint32 securityDelay, SessionConfig[] initialSessions)`. On a first install initial sessions are
     * granted at once: the owner committed to them in the account's CREATE2 address, so an agent's first operation
     * can deploy the account. On a reinstall the earlier security delay is a floor: a lower delay and the initial
     * sessions are proposed as changes that wait it.
     */
    function onInstall(bytes calldata data) external delegated {
        address account = msg.sender;
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        if (a.installed) return; // installed as validator and executor: second call is a no-op
        bool reinstall = a.epoch != 0 || a.sessionNonce != 0;
        a.installed = true;
        if (data.length == 0) return;
        uint32 delay;
        SessionConfig[] memory initial;
        if (data.length == 32) delay = abi.decode(data, (uint32));
        else (delay, initial) = abi.decode(data, (uint32, SessionConfig[]));
        if (!reinstall || delay >= a.securityDelay) a.securityDelay = delay;
        else _propose(account, abi.encodeCall(this.setSecurityDelay, (delay)));
        for (uint256 i = 0; i < initial.length; ++i) {
            if (reinstall) _propose(account, abi.encodeCall(this.grantSession, (initial[i])));
            else _grant(account, initial[i]);
        }
    }

    /// @notice Uninstall: every session and pending change dies (epoch bump), queued agent requests are cancelled;
    /// spend records and the security delay are kept.
    function onUninstall(bytes calldata) external delegated {
        ISessionsAccountConfig.AccountData storage a = _accounts[msg.sender];
        if (!a.installed) return;
        a.installed = false;
        a.paused = false;
        _newEpoch(msg.sender, a);
    }

    // ============================================================================================ sessions

    /// @notice Grant a session (loosening: waits the security delay when one is set).
    function grantSession(SessionConfig calldata config) external delegated returns (bytes32 sessionId) {
        address account = _account();
        if (!_loosening(account)) return bytes32(0);
        return _grant(account, config);
    }

    /// @notice A grant delegate grants a session for `account` at once (accepted behind the security delay).
    function grantSessionFor(
        address account,
        SessionConfig calldata config
    ) external delegated returns (bytes32 sessionId) {
        _onlyDelegate(account);
        sessionId = _grant(account, config);
        _grantedBy[sessionId][account] = msg.sender;
    }

    /// @notice A grant delegate moves the end of a session it granted (its envelope bounds how far).
    function renewSessionFor(address account, bytes32 sessionId, uint48 validUntil) external delegated {
        _onlyDelegate(account);
        if (_grantedBy[sessionId][account] != msg.sender) revert AgentSessionsUnauthorized(msg.sender);
        _setValidUntil(account, sessionId, validUntil);
    }

    /// @notice A grant delegate tightens any session of the account: every budget field lowered or kept, same period.
    function tightenBudgetFor(address account, bytes32 sessionId, TokenBudget calldata budget) external delegated {
        _onlyDelegate(account);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        if (b.period == 0 || budget.period != b.period || _raises(b, budget)) {
            revert AgentSessionsInvalidConfig(ConfigField.TightenOnly);
        }
        _setBudget(account, sessionId, budget);
    }

    /// @notice A grant delegate revokes any session of the account.
    function revokeFor(address account, bytes32 sessionId) external delegated {
        _onlyDelegate(account);
        _revoke(account, sessionId);
    }

    /// @notice Accept (loosening: delayed) or drop a grant delegate. A revoke-all drops every delegate.
    function setGrantDelegate(address delegate, bool enabled) external delegated {
        address account = _account();
        if (enabled && !_loosening(account)) return;
        _delegates[delegate][account] = enabled ? _accounts[account].epoch + 1 : 0;
        emit GrantDelegateSet(account, delegate, enabled);
    }

    /// @notice Revoke a session at once (the account).
    function revokeSession(bytes32 sessionId) external delegated {
        _revoke(msg.sender, sessionId);
    }

    /// @notice The agent revokes its own session (a compromised agent can shut itself down).
    function revokeSelf(address account, bytes32 sessionId) external delegated {
        if (_sessions[sessionId][account].agent != msg.sender) revert AgentSessionsUnauthorized(msg.sender);
        _revoke(account, sessionId);
    }

    /// @notice Revoke every session of the account at once (the account, e.g. from guardian recovery): pending
    /// changes and grant delegates die with the epoch, and the queued agent requests are cancelled.
    function revokeAllSessions() external delegated {
        _newEpoch(msg.sender, _accounts[msg.sender]);
    }

    /// @notice Change a session's end: later is loosening (delayed), earlier applies at once.
    function renewSession(bytes32 sessionId, uint48 validUntil) external delegated {
        address account = _account();
        SessionData storage s = _sessions[sessionId][account];
        if (s.agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        if (validUntil > s.validUntil && !_loosening(account)) return;
        _setValidUntil(account, sessionId, validUntil);
    }

    /**
     * @notice Add or replace a permission (loosening: delayed). A replaced permission's argument conditions and
     * one-of sets are gone once this applies.
     */
    function addPermission(bytes32 sessionId, Permission calldata permission) external delegated {
        address account = _account();
        if (_sessions[sessionId][account].agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        _checkTarget(account, type(uint256).max, permission.target, permission.selector);
        if (!_loosening(account)) return;
        _addPermission(account, sessionId, permission);
    }

    /// @notice Remove a permission (tightening: at once, for new and queued operations alike).
    function removePermission(bytes32 sessionId, address target, bytes4 selector) external delegated {
        PermissionData storage p = _permissions[_permissionKey(sessionId, target, selector)][msg.sender];
        p.allowed = false;
        p.count = 0;
        ++p.generation;
    }

    /// @notice Set a session's budget for one token. Any raised field, or another period, is loosening (delayed).
    function setBudget(bytes32 sessionId, TokenBudget calldata budget) external delegated {
        address account = _account();
        if (_sessions[sessionId][account].agent == address(0)) revert AgentSessionsUnknownSession(sessionId);
        BudgetData storage b = _budgets[_budgetKey(sessionId, budget.token)][account];
        // any new period restarts the window (clears its spend): loosening
        bool raises = b.period == 0 || budget.period != b.period || _raises(b, budget);
        if (raises && !_loosening(account)) return;
        _setBudget(account, sessionId, budget);
    }

    /// @notice Set the fleet budget of `token` (all sessions together). Raising is loosening (delayed).
    function setFleetBudget(address token, uint128 periodCap, uint128 lifetimeCap, uint32 period) external delegated {
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
    function setSecurityDelay(uint32 delay) external delegated {
        address account = _account();
        if (delay < _accounts[account].securityDelay && !_loosening(account)) return;
        _accounts[account].securityDelay = delay;
    }

    /**
     * @notice Watch assets (tightening: at once): every agent operation measures each watched asset's balance
     * (ERC-20 or ERC-721 `balanceOf`, `address(0)` for native ETH) and reverts on a drop that no budget of its
     * session pays for. Every budgeted token is watched automatically. At most 32 assets.
     */
    function watchAssets(address[] calldata assets) external delegated {
        for (uint256 i = 0; i < assets.length; ++i) _watch(msg.sender, assets[i]);
    }

    /// @notice Stop watching an asset (loosening: delayed).
    function unwatchAsset(address asset) external delegated {
        address account = _account();
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        uint256 listed = a.watchCount - (a.watchesNative ? 1 : 0);
        uint256 index = asset == address(0) ? (a.watchesNative ? 0 : listed) : _watchIndex(account, asset, listed);
        if (index == listed || !_loosening(account)) return;
        if (asset == address(0)) {
            a.watchesNative = false;
        } else {
            uint256 last = listed - 1;
            _watchAt[_indexKey(0, index)][account] = _watchAt[_indexKey(0, last)][account];
            delete _watchAt[_indexKey(0, last)][account];
        }
        --a.watchCount;
        emit AssetWatched(account, asset, false);
    }

    /// @notice Apply a loosening change proposed by `account` once its delay has passed, in the epoch it was
    /// proposed in (anyone may call).
    function applyChange(address account, bytes calldata data) external delegated {
        bytes32 changeHash = keccak256(data);
        PendingChange memory p = _pendingChanges[changeHash][account];
        if (p.readyAt == 0 || block.timestamp < p.readyAt) revert AgentSessionsChangeNotReady(changeHash, p.readyAt);
        uint32 epoch = _accounts[account].epoch;
        if (p.epoch != epoch) revert AgentSessionsChangeVoided(changeHash, p.epoch, epoch);
        delete _pendingChanges[changeHash][account];
        _APPLYING.asAddress().tstore(account);
        bool ok = LowLevelCall.callNoReturn(address(this), 0, data);
        _APPLYING.asAddress().tstore(address(0));
        if (!ok) LowLevelCall.bubbleRevert();
        emit ChangeApplied(account, changeHash);
    }

    /// @notice Cancel a pending loosening change (the account).
    function cancelChange(bytes32 changeHash) external delegated {
        if (_pendingChanges[changeHash][msg.sender].readyAt == 0) revert AgentSessionsChangeNotReady(changeHash, 0);
        delete _pendingChanges[changeHash][msg.sender];
        emit ChangeCancelled(msg.sender, changeHash);
    }

    // ============================================================================================ watchdog, breaker

    /// @notice Add or remove a watchdog (the account). Removing is tightening; adding only grants pause rights.
    function setWatchdog(address watchdog, bool enabled) external delegated {
        _watchdogs[watchdog][msg.sender] = enabled;
        emit WatchdogSet(msg.sender, watchdog, enabled);
    }

    /// @notice Freeze every agent session of `account` (a watchdog or the account); optionally cancel the queued
    /// agent requests (never the owner's own queued operations).
    function pause(address account, bool cancelQueued) external delegated {
        if (msg.sender != account && !_watchdogs[msg.sender][account]) revert AgentSessionsUnauthorized(msg.sender);
        _accounts[account].paused = true;
        emit Paused(account, msg.sender);
        if (cancelQueued) timelock.cancelAllGuarded(account);
    }

    /// @notice Unfreeze (the account only, i.e. the owner).
    function unpause() external delegated {
        _accounts[msg.sender].paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice A watchdog revokes one session.
    function revokeByWatchdog(address account, bytes32 sessionId) external delegated {
        if (!_watchdogs[msg.sender][account]) revert AgentSessionsUnauthorized(msg.sender);
        _revoke(account, sessionId);
    }

    /// @notice Attach a circuit breaker, or detach it with zero. Attaching where there was none applies at once;
    /// replacing or removing one is loosening.
    function setBreaker(address breaker) external delegated {
        address account = _account();
        if (_breakerOf[account] != address(0) && !_loosening(account)) return;
        _breakerOf[account] = breaker;
        _accounts[account].hasBreaker = breaker != address(0);
        emit BreakerSet(account, breaker);
    }

    // ============================================================================================ internals

    function _newEpoch(address account, ISessionsAccountConfig.AccountData storage a) private {
        emit AllSessionsRevoked(account, ++a.epoch);
        timelock.cancelAllGuarded(account);
    }

    function _onlyDelegate(address account) private view {
        if (_delegates[msg.sender][account] != _accounts[account].epoch + 1) {
            revert AgentSessionsUnauthorized(msg.sender);
        }
    }

    function _setValidUntil(address account, bytes32 sessionId, uint48 validUntil) private {
        SessionData storage s = _sessions[sessionId][account];
        if (validUntil <= s.validAfter) revert AgentSessionsInvalidConfig(ConfigField.ValidUntil);
        s.validUntil = validUntil;
        emit SessionRenewed(account, sessionId, validUntil);
    }

    function _raises(BudgetData storage b, TokenBudget calldata budget) private view returns (bool) {
        return
            budget.instantThreshold > b.instantThreshold ||
            budget.ceiling > b.ceiling ||
            budget.periodCap > b.periodCap ||
            budget.lifetimeCap > b.lifetimeCap;
    }

    /// @dev Internal grant: validate, assign the id, store everything.
    function _grant(address account, SessionConfig memory config) private returns (bytes32 sessionId) {
        _validateConfig(account, config);
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
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
        for (uint256 i = 0; i < c.permissions.length; ++i)
            _checkTarget(account, type(uint256).max, c.permissions[i].target, c.permissions[i].selector);
    }

    function _addPermission(address account, bytes32 sessionId, Permission memory perm) private {
        if (perm.conditions.length > _MAX_CONDITIONS) revert AgentSessionsInvalidConfig(ConfigField.Conditions);
        bytes32 key = _permissionKey(sessionId, perm.target, perm.selector);
        PermissionData storage p = _permissions[key][account];
        uint32 generation = ++p.generation; // one-of values of a replaced permission become unreachable
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
                    _oneOf[_oneOfKey(key, generation, c, cond.oneOf[k])][account] = true;
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
            _appendBudgetToken(sessionId, account, budget.token);
            _watch(account, budget.token);
        } else if (b.period != budget.period) b.window.clearWindow(); // sub-bucket length changes with the period
        b.instantThreshold = uint112(budget.instantThreshold); // ≤ ceiling ≤ 2^112 - 1, checked above
        b.ceiling = uint112(budget.ceiling);
        b.periodCap = budget.periodCap;
        b.lifetimeCap = budget.lifetimeCap;
        b.period = budget.period;
        emit BudgetSet(account, sessionId, budget.token, budget);
    }

    function _watch(address account, address asset) private {
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        uint256 count = a.watchCount;
        bool native = a.watchesNative;
        if (
            asset == address(0)
                ? native
                : _watchIndex(account, asset, count - (native ? 1 : 0)) != count - (native ? 1 : 0)
        ) {
            return;
        }
        if (count == _MAX_WATCHED) revert AgentSessionsInvalidConfig(ConfigField.Watch);
        if (asset == address(0)) a.watchesNative = true;
        else _watchAt[_indexKey(0, count - (native ? 1 : 0))][account] = asset;
        a.watchCount = uint8(count + 1);
        emit AssetWatched(account, asset, true);
    }

    /// @dev The configuring account: the caller, or the account whose matured change is being applied.
    function _account() private view returns (address) {
        if (msg.sender == address(this)) return _APPLYING.asAddress().tload();
        return msg.sender;
    }

    /// @dev True when a loosening change may apply now; otherwise records it behind the security delay.
    function _loosening(address account) private returns (bool) {
        if (msg.sender == address(this)) return true;
        if (_accounts[account].securityDelay == 0) return true;
        _propose(account, msg.data);
        return false;
    }

    function _propose(address account, bytes memory data) private {
        ISessionsAccountConfig.AccountData storage a = _accounts[account];
        bytes32 changeHash = keccak256(data);
        uint48 readyAt = uint48(block.timestamp + a.securityDelay);
        _pendingChanges[changeHash][account] = PendingChange(readyAt, a.epoch);
        emit ChangeProposed(account, changeHash, readyAt, data);
    }
}
