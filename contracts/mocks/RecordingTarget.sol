// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Test-only call target: records who called it with what, and can be told to revert.
contract RecordingTarget {
    /// @notice Every recorded call, in order.
    struct Record {
        address caller;
        bytes data;
    }

    Record[] private _records;
    bool private _reverting;

    /// @notice The target refuses calls (when told to).
    error RecordingTargetRefused();

    /// @notice A call was recorded.
    event Recorded(address indexed caller, bytes data);

    /// @notice Make every later `record` call revert (or not).
    function setReverting(bool reverting) external {
        _reverting = reverting;
    }

    /// @notice Record the caller and `data`.
    function record(bytes calldata data) external {
        if (_reverting) revert RecordingTargetRefused();
        _records.push(Record(msg.sender, data));
        emit Recorded(msg.sender, data);
    }

    /// @notice How many calls were recorded.
    function count() external view returns (uint256) {
        return _records.length;
    }

    /// @notice The `index`-th recorded call.
    function recordAt(uint256 index) external view returns (address caller, bytes memory data) {
        Record storage r = _records[index];
        return (r.caller, r.data);
    }
}
