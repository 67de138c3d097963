// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC7579Module, MODULE_TYPE_EXECUTOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {TimelockScheduling} from "./timelock/TimelockScheduling.sol";
import {TimelockExecution} from "./timelock/TimelockExecution.sol";
import {TimelockCancellation} from "./timelock/TimelockCancellation.sol";

/**
 * @title ReinsTimelock
 * @notice ERC-7579 executor module holding a per-account queue of delayed operations. An operation runs after its
 * delay unless it is cancelled; an operation scheduled as "approval required" runs only once the account approves
 * it (and then at once). Every operation has a validity window after which it expires.
 *
 * @dev Lifecycle of an operation (see {state}):
 *
 * ```
 * Unknown --schedule--> Scheduled --(readyAt reached, no approval needed) or approve--> Ready --execute--> Executed
 *                       Scheduled / Ready --cancel, cancelAll(For), cancelAllGuarded, uninstall--> Cancelled
 *                       Scheduled / Ready --(expiresAt reached)--> Expired
 * ```
 *
 * Invariants:
 *
 * - An operation is executed at most once: it is marked Executed before any external call, and {execute} is
 *   `nonReentrant`. Executed, Cancelled and Expired are terminal.
 * - Only the exact `(mode, executionCalldata)` the account scheduled can run under an id: the id commits to
 *   `(account, nonce, mode, keccak256(executionCalldata))` and {execute} recomputes it from the stored nonce (this
 *   binds the call exactly as a stored call hash would, one storage slot cheaper).
 * - Operations are stored under `(id, account)`: an account can only schedule, approve or (by default) cancel its own
 *   operations.
 * - Uninstalling the module, {cancelAll} and {cancelAllFor} bump the account's epoch: every operation scheduled in an
 *   earlier epoch is Cancelled for good, including after a reinstall. Per-account nonces never reset, so ids never
 *   repeat. Cancellers registered under an earlier installation are void after a reinstall.
 * - Only single and batch calls with the default execution type are accepted at scheduling time: no delegatecall,
 *   and no "try" (which would let a permissionless executor consume an operation whose calls ran out of gas).
 *   A direct execution therefore either fully succeeds or reverts and leaves the operation Ready (a guard must keep
 *   that property).
 *
 * Trust assumptions:
 *
 * - Whatever the account schedules may eventually run on it: `schedule` and `approve` trust `msg.sender` as the
 *   account, so any executor installed on the account (e.g. the session module acting for an agent) can schedule and,
 *   unless it refuses the timelock as a call target, approve. Approval cannot come from a queued operation itself:
 *   {approve} is `nonReentrant`, so it reverts while {execute} runs.
 * - The `guard` of an operation, chosen by the account at scheduling, may cancel that operation and, when it is not
 *   zero, performs the execution itself ({IReinsQueueGuard}); the timelock then never calls the account directly.
 * - {execute} is permissionless: once Ready, anyone (the agent, a keeper) may trigger it.
 * - Timestamps are read only in the execution phase (never in ERC-4337 validation), so ERC-7562 does not apply.
 *
 * Layout: the queue, events, errors and state machine are in {TimelockStorage}; scheduling in
 * {TimelockScheduling}; execution in {TimelockExecution}; cancellation and cancellers in
 * {TimelockCancellation}. This contract adds the ERC-7579 module lifecycle, approval and the views.
 */
contract ReinsTimelock is IERC7579Module, TimelockScheduling, TimelockExecution, TimelockCancellation {
    // ------------------------------------------------------------------------------------------------------------
    // ERC-7579 module
    // ------------------------------------------------------------------------------------------------------------

    /**
     * @notice Installs the module on the calling account.
     * @param data Empty, or `abi.encode(address[] cancellers)`: cancellers allowed to call {cancelAllFor}.
     */
    function onInstall(bytes calldata data) external {
        address account = msg.sender;
        AccountConfig storage config = _accounts[account];
        if (config.installed) revert ReinsTimelockAlreadyInstalled(account);
        config.installed = true;
        uint32 generation = ++config.generation;
        if (data.length != 0) {
            address[] memory cancellers = abi.decode(data, (address[]));
            for (uint256 i = 0; i < cancellers.length; ++i) {
                _cancellers[cancellers[i]][account] = generation;
                emit CancellerSet(account, cancellers[i], true);
            }
        }
    }

    /**
     * @notice Uninstalls the module from the calling account, cancelling every queued operation for good (a later
     * reinstall revives neither the operations nor the cancellers).
     * @dev Emits {QueueCleared}.
     */
    function onUninstall(bytes calldata) external {
        address account = msg.sender;
        AccountConfig storage config = _accounts[account];
        if (!config.installed) revert ReinsTimelockNotInstalled(account);
        config.installed = false;
        uint64 newEpoch = ++config.epoch;
        emit QueueCleared(account, newEpoch);
    }

    /// @notice Whether this module is of type `moduleTypeId` (it is an executor, type 2).
    /// @param moduleTypeId The ERC-7579 module type.
    /// @return True iff `moduleTypeId` is `MODULE_TYPE_EXECUTOR`.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    /// @notice Whether the module is installed on `account`.
    /// @param account The account.
    /// @return True iff installed.
    function isInitialized(address account) public view returns (bool) {
        return _accounts[account].installed;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Approval (declared here, not in a part, so that `ReinsTimelock.approve` names it in `abi.encodeCall`)
    // ------------------------------------------------------------------------------------------------------------

    /**
     * @notice Approves operation `id` of the calling account: it becomes Ready at once, until it expires.
     * @dev The operation must be Scheduled or Ready. `nonReentrant`: an executing queued operation cannot approve.
     * @param id The operation id.
     */
    function approve(bytes32 id) external nonReentrant {
        address account = msg.sender;
        Operation storage op = _operations[id][account];
        _checkPending(id, op, account);
        op.approved = true;
        emit OperationApproved(account, id);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /**
     * @notice State of operation `id` of `account`.
     * @dev Unknown if never scheduled; Cancelled if cancelled or from an earlier epoch; Executed; Expired from
     * `expiresAt`; Ready if approved, or if approval is not required and `readyAt` is reached; Scheduled otherwise.
     * @param account The account.
     * @param id The operation id.
     * @return The operation's state.
     */
    function state(address account, bytes32 id) public view returns (OperationState) {
        return _state(_operations[id][account], account, _accounts[account].epoch);
    }

    /**
     * @notice Operation `id` of `account` with its current state (all zero and Unknown if it was never scheduled).
     * @param account The account.
     * @param id The operation id.
     * @return The operation.
     */
    function getOperation(address account, bytes32 id) external view returns (OperationView memory) {
        Operation storage op = _operations[id][account];
        return
            OperationView({
                state: _state(op, account, _accounts[account].epoch),
                guard: op.guard,
                readyAt: op.readyAt,
                expiresAt: op.expiresAt,
                nonce: op.nonce,
                epoch: op.epoch,
                approvalRequired: op.approvalRequired,
                approved: op.approved,
                context: op.context
            });
    }

    /// @notice The nonce `account`'s next operation will get.
    /// @param account The account.
    /// @return The next nonce.
    function nonceOf(address account) external view returns (uint64) {
        return _accounts[account].nonce;
    }

    /// @notice The current epoch of `account`: operations of earlier epochs are Cancelled.
    /// @param account The account.
    /// @return The epoch.
    function epochOf(address account) external view returns (uint64) {
        return _accounts[account].epoch;
    }
}
