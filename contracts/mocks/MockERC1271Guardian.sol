// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @notice Test-only ERC-1271 signer: approves exactly the hashes its operator told it about (any signature bytes).
contract MockERC1271Guardian is IERC1271 {
    address private immutable _operator;
    mapping(bytes32 hash => bool) private _approved;

    /// @notice Only the operator may approve hashes.
    error MockERC1271GuardianUnauthorized(address caller);

    constructor() {
        _operator = msg.sender;
    }

    /// @notice Approve (or revoke) `hash`.
    function setApproved(bytes32 hash, bool approved) external {
        if (msg.sender != _operator) revert MockERC1271GuardianUnauthorized(msg.sender);
        _approved[hash] = approved;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata) external view returns (bytes4) {
        return _approved[hash] ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
