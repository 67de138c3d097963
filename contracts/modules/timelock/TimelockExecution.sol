// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC7579Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IReinsQueueGuard} from "../../interfaces/IReinsQueueGuard.sol";
import {TimelockStorage} from "./TimelockStorage.sol";

/**
 * @title TimelockExecution
 * @notice Execution in {ReinsTimelock}: anyone runs a Ready operation, on the account or through its guard.
 * @dev `nonReentrant`: an operation is marked Executed before any external call and runs at most once, and a
 * queued operation cannot approve another while it executes ({ReinsTimelock-approve} is `nonReentrant` too).
 */
abstract contract TimelockExecution is TimelockStorage, ReentrancyGuardTransient {
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
}
