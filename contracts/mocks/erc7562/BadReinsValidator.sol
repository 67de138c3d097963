// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Validator, MODULE_TYPE_VALIDATOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/**
 * @title BadReinsValidator
 * @notice Test-only ERC-7579 validator that breaks two ERC-7562 validation rules, to prove the checker catches a
 * non-compliant module installed on a Reins account. It accepts every operation.
 * @dev Violations, both in `validateUserOp`:
 * - OP-011: reads `block.timestamp` (TIMESTAMP is banned; time ranges belong in `validationData`);
 * - STO-021: writes `_lastSeen[account][userOpHash]`. The mapping is keyed account-FIRST, so the slot is
 *   `keccak256(userOpHash ‖ keccak256(account ‖ 0))`: its preimage starts with the hash, not with the account,
 *   so the slot is not associated with the sender. (Keyed account-last, `mapping(bytes32 => mapping(address =>
 *   uint256))`, the slot would be `keccak256(account ‖ …)` and allowed.)
 */
contract BadReinsValidator is IERC7579Validator {
    mapping(address account => mapping(bytes32 userOpHash => uint256 timestamp)) private _lastSeen;

    /// @notice Nothing to set up.
    function onInstall(bytes calldata) external {}

    /// @notice Nothing to clean up.
    function onUninstall(bytes calldata) external {}

    /// @notice ERC-7579 module type: validator only.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    /// @notice When `account` last validated `userOpHash` here (zero if never).
    function lastSeen(address account, bytes32 userOpHash) external view returns (uint256) {
        return _lastSeen[account][userOpHash];
    }

    /// @inheritdoc IERC7579Validator
    /// @dev Accepts every operation; records `block.timestamp` (OP-011) in an unassociated slot (STO-021).
    function validateUserOp(PackedUserOperation calldata, bytes32 userOpHash) external returns (uint256) {
        _lastSeen[msg.sender][userOpHash] = block.timestamp;
        return 0;
    }

    /// @inheritdoc IERC7579Validator
    function isValidSignatureWithSender(address, bytes32, bytes calldata) external pure returns (bytes4) {
        return bytes4(0xffffffff);
    }
}
