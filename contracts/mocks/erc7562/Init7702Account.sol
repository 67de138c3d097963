// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {MockAccountBase} from "./MockAccountBase.sol";

/**
 * @title Init7702Account
 * @notice Test-only EIP-7702 delegate for the ERC-7562 checker: the EntryPoint's `0x7702` initCode calls {init}
 * on the delegated EOA before validation. With `readTime` it reads `block.timestamp` there (OP-011 in the init
 * frame, which the checker must judge as the account's); without, it only writes the EOA's own storage.
 */
contract Init7702Account is MockAccountBase {
    /// @notice What {init} stored.
    uint256 public initialised;

    /// @param entryPoint_ The EntryPoint v0.8 instance.
    constructor(address entryPoint_) MockAccountBase(entryPoint_) {}

    /// @notice Initialise the delegated EOA (anyone: a test mock).
    function init(bool readTime) external {
        initialised = readTime ? block.timestamp : 1;
    }

    function _validationHook(PackedUserOperation calldata, bytes32) internal pure override returns (uint256) {
        return 0;
    }
}
