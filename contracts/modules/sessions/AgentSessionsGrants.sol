// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISessionsAccountConfig} from "../../interfaces/ISessionsAccountConfig.sol";
import {AgentSessionsAdminBudgets} from "./AgentSessionsAdminBudgets.sol";

/**
 * @title AgentSessionsGrants
 * @notice Install, uninstall, grants, renewals and permissions of {AgentSessionsAdmin}.
 */
abstract contract AgentSessionsGrants is AgentSessionsAdminBudgets {
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

    function _setValidUntil(address account, bytes32 sessionId, uint48 validUntil) internal {
        SessionData storage s = _sessions[sessionId][account];
        if (validUntil <= s.validAfter) revert AgentSessionsInvalidConfig(ConfigField.ValidUntil);
        s.validUntil = validUntil;
        emit SessionRenewed(account, sessionId, validUntil);
    }

    /// @dev Internal grant: validate, assign the id, store everything.
    function _grant(address account, SessionConfig memory config) internal returns (bytes32 sessionId) {
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

    function _validateConfig(address account, SessionConfig memory c) internal view {
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

    function _addPermission(address account, bytes32 sessionId, Permission memory perm) internal {
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
}
