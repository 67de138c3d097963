// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";

/**
 * @title IReinsExecutionDelegate
 * @notice A validator that also governs the execution phase of the UserOperations it validated.
 * @dev When a UserOperation's `callData` starts with `executeUserOp`'s selector and its nonce key names a
 * validator other than the account's root (owner) validator, the account hands the whole operation to that
 * validator through this interface. The validator re-derives the execution from `userOp.callData` (the exact
 * bytes it checked during validation), enforces its execution-phase policy (budgets, tiers, time windows) and
 * executes through `executeFromExecutor`, so it must also be installed as an executor.
 */
interface IReinsExecutionDelegate {
    /**
     * @notice Execute `userOp` on behalf of the calling account, under the policy that validated it.
     * @param userOp The operation, as validated by this module.
     * @param userOpHash The EntryPoint's hash of `userOp`.
     */
    function executeAuthorized(PackedUserOperation calldata userOp, bytes32 userOpHash) external;
}
