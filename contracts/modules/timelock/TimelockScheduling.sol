// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC7579Utils, Mode, CallType, ExecType} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {TimelockStorage} from "./TimelockStorage.sol";

/**
 * @title TimelockScheduling
 * @notice Scheduling in {ReinsTimelock}: an account queues an ERC-7579 single or batch call (default execution type
 * only) with a delay, a validity window, an optional approval requirement and an optional guard.
 * @dev The calldata is not stored: the id commits to `(account, nonce, mode, keccak256(executionCalldata))`.
 */
abstract contract TimelockScheduling is TimelockStorage {
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

    /// @dev Only single or batch calls, in default (revert on failure) execution type.
    function _checkMode(bytes32 mode) internal pure {
        (CallType callType, ExecType execType, , ) = ERC7579Utils.decodeMode(Mode.wrap(mode));
        if (!(callType == ERC7579Utils.CALLTYPE_SINGLE || callType == ERC7579Utils.CALLTYPE_BATCH)) {
            revert ReinsTimelockUnsupportedCallType(callType);
        }
        if (!(execType == ERC7579Utils.EXECTYPE_DEFAULT)) revert ReinsTimelockUnsupportedExecType(execType);
    }

    /// @dev `[now + delay, now + delay + validFor)`, checked to be non-empty and to fit uint48 timestamps.
    function _window(uint48 delay, uint48 validFor) internal view returns (uint48 readyAt, uint48 expiresAt) {
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
    ) internal returns (bytes32 id) {
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
}
