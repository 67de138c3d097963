// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgentSessionsConfiguration} from "./AgentSessionsConfiguration.sol";

/**
 * @title AgentSessionsControls
 * @notice The controls over live sessions (revocation, watchdogs and pause, the circuit breaker, grant delegates),
 * run by {AgentSessionsAdmin} like the configuration.
 */
abstract contract AgentSessionsControls is AgentSessionsConfiguration {
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
}
