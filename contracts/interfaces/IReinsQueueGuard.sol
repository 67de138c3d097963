// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title IReinsQueueGuard
 * @notice A module that takes over the execution of an operation queued in the Reins timelock.
 * @dev When an operation was scheduled with a non-zero `guard`, the timelock does not execute it on the account.
 * Once the operation is Ready it marks it Executed and then calls {executeQueued} on the guard, which re-checks
 * whatever it must at run time (scope, budgets, session validity) and performs the execution itself through
 * `IERC7579Execution(account).executeFromExecutor(mode, executionCalldata)` (so the guard must be an executor
 * installed on the account).
 *
 * Trust: a guard MUST only accept calls from the timelock it trusts (check `msg.sender`). The timelock guarantees
 * that every call it makes corresponds to an operation that `account` itself scheduled with this guard, whose
 * `(mode, executionCalldata)` match the scheduled ones, and that the call happens at most once per operation.
 * A revert in the guard reverts the whole execution, leaving the operation in its previous state.
 */
interface IReinsQueueGuard {
    /**
     * @notice Executes a queued operation of `account` on the timelock's behalf.
     * @param account The ERC-7579 account that scheduled the operation.
     * @param id The operation id in the timelock.
     * @param context The opaque context given at scheduling (for instance a session id).
     * @param mode The ERC-7579 execution mode (single or batch call type).
     * @param executionCalldata The ERC-7579 execution calldata.
     * @param approved Whether the account's owner approved the operation.
     * @return returnData The data returned by the account's `executeFromExecutor`.
     */
    function executeQueued(
        address account,
        bytes32 id,
        bytes32 context,
        bytes32 mode,
        bytes calldata executionCalldata,
        bool approved
    ) external returns (bytes[] memory returnData);
}
