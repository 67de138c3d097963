// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";

/**
 * @title IReinsRecoverableRoot
 * @notice A root (owner) validator that tells the guardian module how to hand the account to a recovered owner.
 * @dev `GuardianRecovery.completeRecovery` asks the account's root validator for these calls and has the account
 * make them (`executeFromExecutor`, batch, default mode: any failure reverts the completion). The recovered owner
 * is always an ECDSA address (the guardians' EIP-712 approval names an address): `OwnerValidator` sets it as its
 * owner; `PasskeyValidator` installs (or re-keys) `OwnerValidator` with it, makes that the root and uninstalls
 * itself, so the lost passkey signs nothing afterwards.
 */
interface IReinsRecoverableRoot {
    /**
     * @notice The calls `account` makes so that `newOwner` (an ECDSA address) becomes its owner.
     * @param account The smart account being recovered (its root validator is this contract).
     * @param newOwner The owner the guardians approved.
     * @return calls Calls the account makes, in order, with no value.
     */
    function recoveryCalls(address account, address newOwner) external view returns (Execution[] memory calls);
}
