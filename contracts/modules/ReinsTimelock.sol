// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    IERC7579Module,
    IERC7579Execution,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC7579Utils, Mode, CallType, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IReinsQueueGuard} from "../interfaces/IReinsQueueGuard.sol";

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
 */
contract ReinsTimelock is IERC7579Module, ReentrancyGuardTransient {
    /// @notice States of a queued operation. See {state}.
    enum OperationState {
        Unknown,
        Scheduled,
        Ready,
        Executed,
        Cancelled,
        Expired
    }

    /// @notice Public view of a queued operation, returned by {getOperation}.
    struct OperationView {
        OperationState state;
        address guard;
        uint48 readyAt;
        uint48 expiresAt;
        uint64 nonce;
        uint64 epoch;
        bool approvalRequired;
        bool approved;
        bytes32 context;
    }

    /// @dev Storage layout of an operation: 3 slots (2 when `context` is zero).
    struct Operation {
        // slot 0
        address guard;
        uint48 readyAt; // 0 iff the operation does not exist
        uint48 expiresAt;
        // slot 1
        uint64 nonce;
        uint64 epoch;
        bool approvalRequired;
        bool approved;
        bool executed;
        bool cancelled;
        uint32 guardEpoch; // the guard's epoch for this account at scheduling (see {cancelAllGuarded})
        // slot 2
        bytes32 context;
    }

    /// @dev Per-account configuration: 1 slot.
    struct AccountConfig {
        bool installed;
        uint32 generation; // bumped at each install, voids the cancellers of earlier installations
        uint64 epoch; // bumped at each uninstall / cancelAll, voids the operations of earlier epochs
        uint64 nonce; // next operation nonce, never reset
    }

    mapping(bytes32 id => mapping(address account => Operation)) private _operations;
    mapping(address account => AccountConfig) private _accounts;
    mapping(address canceller => mapping(address account => uint32 generation)) private _cancellers;
    mapping(address guard => mapping(address account => uint32 epoch)) private _guardEpochs;

    /**
     * @notice `account` scheduled operation `id`.
     * @param account The account that scheduled the operation.
     * @param id The operation id.
     * @param guard The module that will run the operation (zero: the timelock runs it on the account directly).
     * @param context Opaque context for the guard (e.g. a session id).
     * @param mode The ERC-7579 execution mode.
     * @param executionCalldata The ERC-7579 execution calldata (not stored: keep it from this event to execute).
     * @param readyAt From this timestamp the operation can run, unless it requires approval.
     * @param expiresAt From this timestamp the operation can no longer run.
     * @param approvalRequired Whether the operation can only run once the account approved it.
     */
    event OperationScheduled(
        address indexed account,
        bytes32 indexed id,
        address indexed guard,
        bytes32 context,
        bytes32 mode,
        bytes executionCalldata,
        uint48 readyAt,
        uint48 expiresAt,
        bool approvalRequired
    );

    /// @notice Operation `id` of `account` was executed.
    /// @param account The account the operation belongs to.
    /// @param id The operation id.
    event OperationExecuted(address indexed account, bytes32 indexed id);

    /// @notice `account` approved its operation `id`, which became Ready.
    /// @param account The account the operation belongs to.
    /// @param id The operation id.
    event OperationApproved(address indexed account, bytes32 indexed id);

    /// @notice Operation `id` of `account` was cancelled by `by` (the account or the operation's guard).
    /// @param account The account the operation belongs to.
    /// @param id The operation id.
    /// @param by The caller that cancelled it.
    event OperationCancelled(address indexed account, bytes32 indexed id, address indexed by);

    /// @notice Every operation `account` scheduled before was cancelled; the account's epoch is now `newEpoch`.
    /// @param account The account whose queue was cleared.
    /// @param newEpoch The account's new epoch.
    event QueueCleared(address indexed account, uint64 newEpoch);

    /**
     * @notice Guard `guard` cancelled every operation of `account` it guards; its epoch for the account is now
     * `newEpoch`. Operations with another guard (for example the owner's own safety-net operations) are untouched.
     * @param account The account.
     * @param guard The guard whose operations were cancelled.
     * @param newEpoch The guard's new epoch for the account.
     */
    event GuardedQueueCleared(address indexed account, address indexed guard, uint32 newEpoch);

    /// @notice `account` allowed (or stopped allowing) `canceller` to clear its queue through {cancelAllFor}.
    /// @param account The account.
    /// @param canceller The canceller.
    /// @param allowed Whether `canceller` may now clear the queue.
    event CancellerSet(address indexed account, address indexed canceller, bool allowed);

    /// @notice The module is not installed on `account`.
    /// @param account The account.
    error ReinsTimelockNotInstalled(address account);

    /// @notice The module is already installed on `account`.
    /// @param account The account.
    error ReinsTimelockAlreadyInstalled(address account);

    /// @notice Only single and batch executions can be queued; `callType` (e.g. delegatecall) is refused.
    /// @param callType The refused ERC-7579 call type.
    error ReinsTimelockUnsupportedCallType(CallType callType);

    /**
     * @notice Only the default execution type (revert on failure) can be queued; `execType` (e.g. try) is refused.
     * @dev With "try", a permissionless executor could starve the inner calls of gas so they fail while the operation
     * is still consumed as Executed.
     * @param execType The refused ERC-7579 execution type.
     */
    error ReinsTimelockUnsupportedExecType(ExecType execType);

    /// @notice The validity window is empty (`validFor == 0`) or ends after the largest uint48 timestamp.
    /// @param delay The requested delay.
    /// @param validFor The requested validity window.
    error ReinsTimelockInvalidWindow(uint48 delay, uint48 validFor);

    /**
     * @notice Operation `id` is in state `actual`, not one of `expectedStates`.
     * @param id The operation id.
     * @param actual The operation's current state.
     * @param expectedStates Bitmap of the allowed states: bit `uint8(s)` is set for each allowed state `s`.
     */
    error ReinsTimelockUnexpectedState(bytes32 id, OperationState actual, bytes32 expectedStates);

    /**
     * @notice The `(mode, executionCalldata)` given to {execute} are not those scheduled under `id`.
     * @param account The account.
     * @param id The operation id.
     * @param actualId The id the given call would have had.
     */
    error ReinsTimelockCallMismatch(address account, bytes32 id, bytes32 actualId);

    /// @notice `caller` may not do this for `account`.
    /// @param account The account.
    /// @param caller The caller.
    error ReinsTimelockUnauthorizedCaller(address account, address caller);

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
    // Queue
    // ------------------------------------------------------------------------------------------------------------

    /**
     * @notice Queues an ERC-7579 execution on the calling account.
     * @dev The calldata is not stored, only committed to by the id: keep it from {OperationScheduled}.
     * @param mode ERC-7579 execution mode: call type single (0x00) or batch (0x01), exec type default (0x00).
     * @param executionCalldata ERC-7579 execution calldata.
     * @param delay Seconds from now until the operation is Ready (if it does not require approval).
     * @param validFor Seconds the operation stays executable after `readyAt`; must be non-zero.
     * @param ownerApprovalRequired Whether the operation may only run after {approve}.
     * @param guard Module that will perform the execution and may cancel it; zero to execute on the account directly.
     * @param context Opaque value handed to the guard (e.g. a session id).
     * @return id The operation id.
     */
    function schedule(
        bytes32 mode,
        bytes calldata executionCalldata,
        uint48 delay,
        uint48 validFor,
        bool ownerApprovalRequired,
        address guard,
        bytes32 context
    ) external returns (bytes32 id) {
        _checkMode(mode);
        (uint48 readyAt, uint48 expiresAt) = _window(delay, validFor);
        return _schedule(mode, executionCalldata, readyAt, expiresAt, ownerApprovalRequired, guard, context);
    }

    /**
     * @notice Executes operation `id` of `account`, which must be Ready. Callable by anyone.
     * @dev Marks the operation Executed before any external call. Without a guard, calls
     * `account.executeFromExecutor(mode, executionCalldata)` (the module must be installed as an executor); with a
     * guard, calls {IReinsQueueGuard-executeQueued} and the guard performs the execution.
     * @param account The account the operation belongs to.
     * @param id The operation id.
     * @param mode The scheduled ERC-7579 execution mode.
     * @param executionCalldata The scheduled ERC-7579 execution calldata.
     * @return returnData What the account (or the guard) returned.
     */
    function execute(
        address account,
        bytes32 id,
        bytes32 mode,
        bytes calldata executionCalldata
    ) external nonReentrant returns (bytes[] memory returnData) {
        Operation storage op = _operations[id][account];
        _checkState(id, op, account, _accounts[account].epoch, _bit(OperationState.Ready));

        bytes32 actualId = hashOperation(account, op.nonce, mode, executionCalldata);
        if (actualId != id) revert ReinsTimelockCallMismatch(account, id, actualId);

        op.executed = true;
        emit OperationExecuted(account, id);

        address guard = op.guard;
        if (guard == address(0)) {
            returnData = IERC7579Execution(account).executeFromExecutor(mode, executionCalldata);
        } else {
            returnData = IReinsQueueGuard(guard).executeQueued(
                account,
                id,
                op.context,
                mode,
                executionCalldata,
                op.approved
            );
        }
    }

    /**
     * @notice Approves operation `id` of the calling account: it becomes Ready at once, until it expires.
     * @dev The operation must be Scheduled or Ready. `nonReentrant`: an executing queued operation cannot approve.
     * @param id The operation id.
     */
    function approve(bytes32 id) external nonReentrant {
        address account = msg.sender;
        Operation storage op = _operations[id][account];
        _checkState(
            id,
            op,
            account,
            _accounts[account].epoch,
            _bit(OperationState.Scheduled) | _bit(OperationState.Ready)
        );
        op.approved = true;
        emit OperationApproved(account, id);
    }

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
        _checkState(
            id,
            op,
            account,
            _accounts[account].epoch,
            _bit(OperationState.Scheduled) | _bit(OperationState.Ready)
        );
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

    /// @notice Whether `canceller` may currently call {cancelAllFor} for `account`.
    /// @param account The account.
    /// @param canceller The canceller.
    /// @return True iff allowed.
    function isCanceller(address account, address canceller) public view returns (bool) {
        AccountConfig storage config = _accounts[account];
        return config.installed && _cancellers[canceller][account] == config.generation;
    }

    /**
     * @notice The id of the operation `account` schedules with nonce `nonce`.
     * @param account The account.
     * @param nonce The account's operation nonce.
     * @param mode The ERC-7579 execution mode.
     * @param executionCalldata The ERC-7579 execution calldata.
     * @return The id: `keccak256(abi.encode(account, nonce, mode, keccak256(executionCalldata)))`.
     */
    function hashOperation(
        address account,
        uint64 nonce,
        bytes32 mode,
        bytes calldata executionCalldata
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(account, nonce, mode, keccak256(executionCalldata)));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Only single or batch calls, in default (revert on failure) execution type.
    function _checkMode(bytes32 mode) private pure {
        (CallType callType, ExecType execType, , ) = ERC7579Utils.decodeMode(Mode.wrap(mode));
        if (!(callType == ERC7579Utils.CALLTYPE_SINGLE || callType == ERC7579Utils.CALLTYPE_BATCH)) {
            revert ReinsTimelockUnsupportedCallType(callType);
        }
        if (!(execType == ERC7579Utils.EXECTYPE_DEFAULT)) revert ReinsTimelockUnsupportedExecType(execType);
    }

    /// @dev `[now + delay, now + delay + validFor)`, checked to be non-empty and to fit uint48 timestamps.
    function _window(uint48 delay, uint48 validFor) private view returns (uint48 readyAt, uint48 expiresAt) {
        uint256 ready = block.timestamp + delay;
        uint256 expires = ready + validFor;
        if (validFor == 0 || expires > type(uint48).max) revert ReinsTimelockInvalidWindow(delay, validFor);
        return (uint48(ready), uint48(expires));
    }

    /// @dev Stores a new operation of `msg.sender` (which must have the module installed), emits, returns its id.
    function _schedule(
        bytes32 mode,
        bytes calldata executionCalldata,
        uint48 readyAt,
        uint48 expiresAt,
        bool approvalRequired,
        address guard,
        bytes32 context
    ) private returns (bytes32 id) {
        {
            address account = msg.sender;
            AccountConfig storage config = _accounts[account];
            if (!config.installed) revert ReinsTimelockNotInstalled(account);
            uint64 nonce = config.nonce++;
            id = hashOperation(account, nonce, mode, executionCalldata);

            // Fresh slot: the id commits to a nonce this account never used before.
            Operation storage op = _operations[id][account];
            op.guard = guard;
            op.readyAt = readyAt;
            op.expiresAt = expiresAt;
            op.nonce = nonce;
            op.epoch = config.epoch;
            op.approvalRequired = approvalRequired;
            if (guard != address(0)) op.guardEpoch = _guardEpochs[guard][account];
            if (context != bytes32(0)) op.context = context;
        }
        emit OperationScheduled(
            msg.sender,
            id,
            guard,
            context,
            mode,
            executionCalldata,
            readyAt,
            expiresAt,
            approvalRequired
        );
    }

    function _clearQueue(address account) private {
        AccountConfig storage config = _accounts[account];
        if (!config.installed) revert ReinsTimelockNotInstalled(account);
        uint64 newEpoch = ++config.epoch;
        emit QueueCleared(account, newEpoch);
    }

    function _checkState(
        bytes32 id,
        Operation storage op,
        address account,
        uint64 accountEpoch,
        bytes32 allowed
    ) private view {
        OperationState current = _state(op, account, accountEpoch);
        if (_bit(current) & allowed == bytes32(0)) revert ReinsTimelockUnexpectedState(id, current, allowed);
    }

    function _state(Operation storage op, address account, uint64 accountEpoch) private view returns (OperationState) {
        uint48 readyAt = op.readyAt;
        if (readyAt == 0) return OperationState.Unknown;
        if (op.cancelled || op.epoch < accountEpoch) return OperationState.Cancelled;
        address guard = op.guard;
        if (guard != address(0) && op.guardEpoch < _guardEpochs[guard][account]) {
            return OperationState.Cancelled;
        }
        if (op.executed) return OperationState.Executed;
        if (block.timestamp >= op.expiresAt) return OperationState.Expired;
        if (op.approved || (!op.approvalRequired && block.timestamp >= readyAt)) return OperationState.Ready;
        return OperationState.Scheduled;
    }

    function _bit(OperationState s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }
}
