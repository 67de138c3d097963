// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockStorage} from "./TimelockStorage.sol";

/**
 * @title TimelockCancellation
 * @notice Cancellation and its guards in {ReinsTimelock}: one operation (the account or its guard), the whole queue
 * (the account or a registered canceller, by bumping the account's epoch), or every operation one guard guards
 * (the guard, by bumping its epoch for the account).
 */
abstract contract TimelockCancellation is TimelockStorage {
    /**
     * @notice Cancels operation `id` of `account`, which must be Scheduled or Ready.
     * @dev Callable by the account or by the operation's guard.
     * @param account The account the operation belongs to.
     * @param id The operation id.
     */
    function cancel(address account, bytes32 id) external {
        Operation storage op = _operations[id][account];
        if (msg.sender != account && msg.sender != op.guard)
            revert ReinsTimelockUnauthorizedCaller(account, msg.sender);
        _checkPending(id, op, account);
        op.cancelled = true;
        emit OperationCancelled(account, id, msg.sender);
    }

    /// @notice Cancels every operation of the calling account by bumping its epoch.
    function cancelAll() external {
        _clearQueue(msg.sender);
    }

    /**
     * @notice Cancels every operation of `account` by bumping its epoch.
     * @dev Callable by the account or by a canceller it registered ({setCanceller}) under its current installation.
     * @param account The account whose queue is cleared.
     */
    function cancelAllFor(address account) external {
        if (msg.sender != account && !isCanceller(account, msg.sender)) {
            revert ReinsTimelockUnauthorizedCaller(account, msg.sender);
        }
        _clearQueue(account);
    }

    /**
     * @notice A guard cancels every operation of `account` that it guards (for example {AgentSessions} clearing the
     * agent requests when a watchdog pauses or when all sessions are revoked), and nothing else: operations with
     * another guard or none stay as they are. Callable by anyone, but it only ever affects the caller's own
     * operations, so it needs no permission; it works whether or not the module is installed.
     * @param account The account whose guarded operations are cancelled.
     */
    function cancelAllGuarded(address account) external {
        uint32 newEpoch = ++_guardEpochs[msg.sender][account];
        emit GuardedQueueCleared(account, msg.sender, newEpoch);
    }

    /// @notice The current epoch of `guard` for `account` (operations it guards from earlier epochs are Cancelled).
    /// @param account The account.
    /// @param guard The guard.
    /// @return The guard's epoch.
    function guardEpochOf(address account, address guard) external view returns (uint32) {
        return _guardEpochs[guard][account];
    }

    /**
     * @notice Allows (or stops allowing) `canceller` to clear the calling account's queue with {cancelAllFor}.
     * @dev The registration lasts until revoked or until the module is uninstalled.
     * @param canceller The canceller (e.g. a watchdog or a guardian recovery module).
     * @param allowed Whether it is allowed.
     */
    function setCanceller(address canceller, bool allowed) external {
        address account = msg.sender;
        AccountConfig storage config = _accounts[account];
        if (!config.installed) revert ReinsTimelockNotInstalled(account);
        _cancellers[canceller][account] = allowed ? config.generation : 0;
        emit CancellerSet(account, canceller, allowed);
    }

    /// @notice Whether `canceller` may currently call {cancelAllFor} for `account`.
    /// @param account The account.
    /// @param canceller The canceller.
    /// @return True iff allowed.
    function isCanceller(address account, address canceller) public view returns (bool) {
        AccountConfig storage config = _accounts[account];
        return config.installed && _cancellers[canceller][account] == config.generation;
    }

    /// @dev Cancels every operation of `account` (which must have the module installed) by bumping its epoch.
    function _clearQueue(address account) internal {
        AccountConfig storage config = _accounts[account];
        if (!config.installed) revert ReinsTimelockNotInstalled(account);
        uint64 newEpoch = ++config.epoch;
        emit QueueCleared(account, newEpoch);
    }
}
