// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/**
 * @title Vm
 * @notice The subset of the Hardhat 3 / EDR (Foundry-compatible) cheatcodes used by Reins' Solidity tests.
 * @dev Add a declaration here when a test needs another cheatcode; signatures must match Foundry's exactly.
 */
// solhint-disable-next-line interface-starts-with-i
interface Vm {
    /// @notice Sets `block.timestamp`.
    function warp(uint256 newTimestamp) external;

    /// @notice Discards the current fuzz input if `condition` is false.
    function assume(bool condition) external;

    /// @notice Expects the next call to revert with exactly `revertData`.
    function expectRevert(bytes calldata revertData) external;

    /// @notice Writes `value` to storage slot `slot` of `target`.
    function store(address target, bytes32 slot, bytes32 value) external;

    /// @notice Marks all storage slots of `target` cold again (EIP-2929), for gas measurements.
    function cool(address target) external;

    /// @notice Sets the code at `target` to `newRuntimeBytecode`.
    function etch(address target, bytes calldata newRuntimeBytecode) external;

    /// @notice Sets the native balance of `account`.
    function deal(address account, uint256 newBalance) external;

    /// @notice Makes the next call come from `msgSender`.
    function prank(address msgSender) external;

    /// @notice The address of the private key `privateKey`.
    function addr(uint256 privateKey) external pure returns (address);

    /// @notice ECDSA-signs `digest` with `privateKey` (no prefix).
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
}

/**
 * @title TestBase
 * @notice Minimal base for Solidity tests without forge-std: the cheatcode handle and assertions whose
 * revert messages carry the compared values.
 */
abstract contract TestBase {
    /// @dev The cheatcode address, `address(uint160(uint256(keccak256("hevm cheat code"))))`.
    // solhint-disable-next-line const-name-snakecase
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @notice Reverts with `label: a != b` unless `a == b`.
    function assertEq(uint256 a, uint256 b, string memory label) internal pure {
        if (a != b) revert(string.concat(label, ": ", Strings.toString(a), " != ", Strings.toString(b)));
    }

    /// @notice Reverts with `label: a > b` unless `a <= b`.
    function assertLe(uint256 a, uint256 b, string memory label) internal pure {
        if (a > b) revert(string.concat(label, ": ", Strings.toString(a), " > ", Strings.toString(b)));
    }

    /// @notice Reverts with `label: a < b` unless `a >= b`.
    function assertGe(uint256 a, uint256 b, string memory label) internal pure {
        if (a < b) revert(string.concat(label, ": ", Strings.toString(a), " < ", Strings.toString(b)));
    }

    /// @notice Reverts with `label` unless `condition` holds.
    function assertTrue(bool condition, string memory label) internal pure {
        if (!condition) revert(label);
    }

    /// @notice Clamps `x` into `[min, max]` (uniformly for random `x`, up to modulo bias). Requires `min <= max`.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (min == 0 && max == type(uint256).max) return x;
        return min + (x % (max - min + 1));
    }
}
