// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISessionsAccountConfig} from "../../interfaces/ISessionsAccountConfig.sol";
import {SpendWindow} from "../../libraries/SpendWindow.sol";
import {AgentSessionsStorage} from "./AgentSessionsStorage.sol";

/**
 * @title AgentSessionsViews
 * @notice Read-only views of the module's state: sessions, budgets and what is left of them, the budget token
 * list, fleet budgets, watched assets, watchdogs, delegates, the breaker and pending changes.
 */
abstract contract AgentSessionsViews is AgentSessionsStorage, ISessionsAccountConfig {
    using SpendWindow for SpendWindow.State;

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
        return _changeReadyAt(account, changeHash);
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

    /// @notice The tokens `sessionId` has a budget for, in the order their budgets were first set (zero: ETH).
    function budgetTokens(bytes32 sessionId, address account) external view returns (address[] memory) {
        return _budgetTokensOf(sessionId, account);
    }
}
