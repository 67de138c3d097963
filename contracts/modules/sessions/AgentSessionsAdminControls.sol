// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {AgentSessionsAdminBase} from "./AgentSessionsAdminBase.sol";

/**
 * @title AgentSessionsAdminControls
 * @notice Revocation, grant delegates, pending changes (apply, cancel), watchdogs, pause and the breaker of
 * {AgentSessionsAdmin}.
 */
abstract contract AgentSessionsAdminControls is AgentSessionsAdminBase {
    using TransientSlot for *;

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

    /// @notice Apply a loosening change proposed by `account` once its delay has passed, in the epoch it was
    /// proposed in (anyone may call).
    function applyChange(address account, bytes calldata data) external delegated {
        bytes32 changeHash = keccak256(data);
        _applyChange(account, changeHash); // not ready, or of an earlier epoch: reverts with this module's errors
        _APPLYING.asAddress().tstore(account);
        bool ok = LowLevelCall.callNoReturn(address(this), 0, data);
        _APPLYING.asAddress().tstore(address(0));
        if (!ok) LowLevelCall.bubbleRevert();
        emit ChangeApplied(account, changeHash);
    }

    /// @notice Cancel a pending loosening change (the account).
    function cancelChange(bytes32 changeHash) external delegated {
        _cancelChange(msg.sender, changeHash); // emits ChangeCancelled; none pending: AgentSessionsChangeNotReady
    }

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
}
