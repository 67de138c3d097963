// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {MockAccountBase} from "./MockAccountBase.sol";

/**
 * @title BadTimestampAccount
 * @notice Test-only account that reads `block.timestamp` during validation: ERC-7562 OP-011 (banned opcode
 * TIMESTAMP). Time ranges must be returned in `validationData`, never read on-chain.
 */
contract BadTimestampAccount is MockAccountBase {
    /// @notice The operation is not yet valid (never hit on a live chain; it only forces the read).
    error TooEarly(uint256 timestamp);

    /// @param entryPoint_ The EntryPoint v0.8 instance.
    constructor(address entryPoint_) MockAccountBase(entryPoint_) {}

    function _validationHook(PackedUserOperation calldata, bytes32) internal view override returns (uint256) {
        if (block.timestamp == 0) revert TooEarly(block.timestamp);
        return 0;
    }
}
