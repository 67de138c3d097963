// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    IERC7579Module,
    IERC7579Execution,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IReinsQueueGuard} from "../interfaces/IReinsQueueGuard.sol";
import {ReinsTimelock} from "../modules/ReinsTimelock.sol";

/// @title MockCallTarget
/// @notice TEST MOCK: counts calls and records the last caller, value and argument.
contract MockCallTarget {
    /// @notice Number of successful {ping} calls.
    uint256 public calls;
    /// @notice Caller of the last {ping}.
    address public lastCaller;
    /// @notice Argument of the last {ping}.
    uint256 public lastArg;
    /// @notice Value sent with the last {ping}.
    uint256 public lastValue;

    /// @notice Always reverts with this error from {fail}.
    error MockCallTargetFailed();

    /// @notice Records a call.
    /// @param arg Any number.
    function ping(uint256 arg) external payable {
        ++calls;
        lastCaller = msg.sender;
        lastArg = arg;
        lastValue = msg.value;
    }

    /// @notice Always reverts.
    function fail() external pure {
        revert MockCallTargetFailed();
    }
}

/**
 * @title MockReentrantTarget
 * @notice TEST MOCK: called by a queued operation, re-enters `timelock.execute` for the operation it was armed with
 * (normally the very operation being executed) and records the outcome without reverting, so the outer execution
 * completes. Arming happens after scheduling because the id commits to the calldata that calls {reenter}.
 */
contract MockReentrantTarget {
    ReinsTimelock private _timelock;
    address private _account;
    bytes32 private _id;
    bytes32 private _mode;
    bytes private _executionCalldata;

    /// @notice Number of times {reenter} ran.
    uint256 public calls;
    /// @notice Number of re-entrant executions that succeeded.
    uint256 public innerSuccesses;
    /// @notice Revert data of the last failed re-entrant execution.
    bytes public lastRevertData;

    /// @notice Sets the execution {reenter} will attempt.
    /// @param timelock The timelock.
    /// @param account The account.
    /// @param id The operation id.
    /// @param mode The mode.
    /// @param executionCalldata The execution calldata.
    function arm(
        ReinsTimelock timelock,
        address account,
        bytes32 id,
        bytes32 mode,
        bytes calldata executionCalldata
    ) external {
        _timelock = timelock;
        _account = account;
        _id = id;
        _mode = mode;
        _executionCalldata = executionCalldata;
    }

    /// @notice Calls `timelock.execute` with the armed arguments, catching any revert.
    function reenter() external {
        ++calls;
        try _timelock.execute(_account, _id, _mode, _executionCalldata) {
            ++innerSuccesses;
        } catch (bytes memory reason) {
            lastRevertData = reason;
        }
    }
}

/**
 * @title MockQueueGuard
 * @notice TEST MOCK of an {IReinsQueueGuard}: records every call (and the operation's state seen during it), then
 * executes through the account's `executeFromExecutor` (so it must be installed as an executor), and can cancel
 * operations it guards.
 */
contract MockQueueGuard is IERC7579Module, IReinsQueueGuard {
    /// @notice A recorded {executeQueued} call.
    struct Call {
        address caller;
        address account;
        bytes32 id;
        bytes32 context;
        bytes32 mode;
        bytes executionCalldata;
        bool approved;
        ReinsTimelock.OperationState stateDuringCall;
    }

    Call[] private _calls;

    /// @inheritdoc IERC7579Module
    function onInstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function onUninstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    /// @notice Number of recorded calls.
    /// @return The count.
    function callCount() external view returns (uint256) {
        return _calls.length;
    }

    /// @notice Recorded call `i`.
    /// @param i Index.
    /// @return The call.
    function callAt(uint256 i) external view returns (Call memory) {
        return _calls[i];
    }

    /// @inheritdoc IReinsQueueGuard
    function executeQueued(
        address account,
        bytes32 id,
        bytes32 context,
        bytes32 mode,
        bytes calldata executionCalldata,
        bool approved
    ) external returns (bytes[] memory) {
        _calls.push(
            Call({
                caller: msg.sender,
                account: account,
                id: id,
                context: context,
                mode: mode,
                executionCalldata: executionCalldata,
                approved: approved,
                stateDuringCall: ReinsTimelock(msg.sender).state(account, id)
            })
        );
        return IERC7579Execution(account).executeFromExecutor(mode, executionCalldata);
    }

    /// @notice Cancels `id` of `account` on `timelock` as the guard.
    /// @param timelock The timelock.
    /// @param account The account.
    /// @param id The operation id.
    function cancelOn(ReinsTimelock timelock, address account, bytes32 id) external {
        timelock.cancel(account, id);
    }

    /// @notice Tries to clear `account`'s queue on `timelock` (succeeds only if registered as canceller).
    /// @param timelock The timelock.
    /// @param account The account.
    function cancelAllOn(ReinsTimelock timelock, address account) external {
        timelock.cancelAllFor(account);
    }
}
