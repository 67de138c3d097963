// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title IReinsTimelock
 * @notice The parts of {ReinsTimelock} other Reins modules call.
 */
interface IReinsTimelock {
    /// @notice Schedule an ERC-7579 execution of the calling account (see {ReinsTimelock-schedule}).
    function schedule(
        bytes32 mode,
        bytes calldata executionCalldata,
        uint48 delay,
        uint48 validFor,
        bool ownerApprovalRequired,
        address guard,
        bytes32 context
    ) external returns (bytes32 id);

    /// @notice Cancel every queued operation of `account` (registered cancellers only).
    function cancelAllFor(address account) external;

    /// @notice Cancel every queued operation of `account` that the caller guards, and nothing else.
    function cancelAllGuarded(address account) external;
}
