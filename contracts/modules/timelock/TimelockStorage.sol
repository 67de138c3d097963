// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CallType, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";

/**
 * @title TimelockStorage
 * @notice The queue of {ReinsTimelock}: the operation record, the per-account configuration, the events and errors,
 * and the state machine every part reads ({_state}).
 * @dev Storage is keyed with the account innermost. See {ReinsTimelock} for the lifecycle, the invariants and the
 * trust assumptions.
 */
abstract contract TimelockStorage {
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

    mapping(bytes32 id => mapping(address account => Operation)) internal _operations;
    mapping(address account => AccountConfig) internal _accounts;
    mapping(address canceller => mapping(address account => uint32 generation)) internal _cancellers;
    mapping(address guard => mapping(address account => uint32 epoch)) internal _guardEpochs;

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

    /// @dev Reverts unless operation `id` of `account` is in one of the states of the `allowed` bitmap.
    function _checkState(
        bytes32 id,
        Operation storage op,
        address account,
        uint64 accountEpoch,
        bytes32 allowed
    ) internal view {
        OperationState current = _state(op, account, accountEpoch);
        if (_bit(current) & allowed == bytes32(0)) revert ReinsTimelockUnexpectedState(id, current, allowed);
    }

    /// @dev Reverts unless operation `id` of `account` is Scheduled or Ready (not yet run, cancelled or expired).
    function _checkPending(bytes32 id, Operation storage op, address account) internal view {
        _checkState(
            id,
            op,
            account,
            _accounts[account].epoch,
            _bit(OperationState.Scheduled) | _bit(OperationState.Ready)
        );
    }

    /// @dev The state of `op` (see {ReinsTimelock-state}).
    function _state(Operation storage op, address account, uint64 accountEpoch) internal view returns (OperationState) {
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

    /// @dev The bit of state `s` in an `expectedStates` bitmap.
    function _bit(OperationState s) internal pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }
}
