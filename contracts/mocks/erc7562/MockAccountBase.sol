// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccount} from "@account-abstraction/contracts/interfaces/IAccount.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

/**
 * @title MockAccountBase
 * @notice Test-only ERC-4337 v0.8 account skeleton for the ERC-7562 checker: it accepts every operation
 * (no signature check), pays the EntryPoint its prefund like a real account, and lets the concrete mock
 * decide what else happens during validation through {_validationHook}.
 * @dev NOT an account to deploy: anyone can drive it through the EntryPoint.
 */
abstract contract MockAccountBase is IAccount {
    /// @notice The EntryPoint this account trusts.
    address public immutable entryPoint;

    /// @notice The caller is not the EntryPoint.
    error NotFromEntryPoint(address caller);

    /// @param entryPoint_ The EntryPoint v0.8 instance.
    constructor(address entryPoint_) {
        entryPoint = entryPoint_;
    }

    /// @notice Accept ether (prefund top-ups in tests).
    receive() external payable {}

    /// @inheritdoc IAccount
    function validateUserOp(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        uint256 missingAccountFunds
    ) external override returns (uint256 validationData) {
        if (msg.sender != entryPoint) revert NotFromEntryPoint(msg.sender);
        validationData = _validationHook(userOp, userOpHash);
        if (missingAccountFunds != 0) {
            // Like SimpleAccount: ignore failure, the EntryPoint checks the deposit itself.
            (bool ok, ) = payable(msg.sender).call{value: missingAccountFunds}("");
            (ok);
        }
    }

    /**
     * @dev Work done during validation, after the EntryPoint check and before the prefund payment.
     * @return validationData The ERC-4337 validation data to return (0 = valid, no time range).
     */
    function _validationHook(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash
    ) internal virtual returns (uint256 validationData);
}
