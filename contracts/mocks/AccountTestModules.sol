// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Module, IERC7579Hook, IERC7579Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";

/// @notice Test-only module of any type whose `onUninstall` always reverts.
contract RevertingUninstallModule is IERC7579Module {
    /// @notice Always reverts on uninstall.
    error RevertingUninstall();

    /// @inheritdoc IERC7579Module
    function onInstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function onUninstall(bytes calldata) external pure {
        revert RevertingUninstall();
    }

    /// @inheritdoc IERC7579Module
    function isModuleType(uint256) external pure returns (bool) {
        return true;
    }

    /// @notice A validator that never validates.
    function validateUserOp(PackedUserOperation calldata, bytes32) external pure returns (uint256) {
        return 1;
    }
}

/// @notice Test-only hook that counts pre/post checks per account and can be told to revert.
contract CountingHook is IERC7579Hook {
    mapping(address account => uint256) public preChecks;
    mapping(address account => uint256) public postChecks;
    mapping(address account => bytes4) public lastSelector;
    bool public revertAll;

    /// @notice The hook refuses everything (when `revertAll`).
    error CountingHookRefused();

    /// @notice Make every check revert (to test that a broken hook cannot lock the owner out).
    function setRevertAll(bool value) external {
        revertAll = value;
    }

    /// @inheritdoc IERC7579Module
    function onInstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function onUninstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function isModuleType(uint256 t) external pure returns (bool) {
        return t == 4;
    }

    /// @inheritdoc IERC7579Hook
    function preCheck(address, uint256, bytes calldata msgData) external returns (bytes memory) {
        if (revertAll) revert CountingHookRefused();
        preChecks[msg.sender]++;
        lastSelector[msg.sender] = bytes4(msgData[0:4]);
        return abi.encode(msg.sender);
    }

    /// @inheritdoc IERC7579Hook
    function postCheck(bytes calldata hookData) external {
        if (revertAll) revert CountingHookRefused();
        postChecks[abi.decode(hookData, (address))]++;
    }
}

/// @notice Test-only executor that forwards any execution to an account.
contract ForwardingExecutor is IERC7579Module {
    /// @inheritdoc IERC7579Module
    function onInstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function onUninstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function isModuleType(uint256 t) external pure returns (bool) {
        return t == 2;
    }

    /// @notice Ask `account` to execute `data` in `mode`.
    function forward(address account, bytes32 mode, bytes calldata data) external returns (bytes[] memory) {
        return IERC7579Execution(account).executeFromExecutor(mode, data);
    }
}

/// @notice Test-only fallback handler: echoes its input and the appended original caller.
contract EchoFallback is IERC7579Module {
    /// @notice Emitted on each handled call.
    event Echoed(address account, address originalCaller, uint256 x);

    /// @inheritdoc IERC7579Module
    function onInstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function onUninstall(bytes calldata) external {}

    /// @inheritdoc IERC7579Module
    function isModuleType(uint256 t) external pure returns (bool) {
        return t == 3;
    }

    /// @notice Handled selector: returns `x + 1`, emits the ERC-2771-style appended caller.
    function echo(uint256 x) external returns (uint256) {
        address original = address(bytes20(msg.data[msg.data.length - 20:]));
        emit Echoed(msg.sender, original, x);
        return x + 1;
    }
}

/// @notice Test-only target for delegatecall: writes a marker into the caller's storage.
contract DelegateWriter {
    /// @notice Write `value` to slot `slot` of whoever delegatecalls this.
    function write(bytes32 slot, bytes32 value) external {
        assembly {
            sstore(slot, value)
        }
    }
}

/// @notice Test-only payable sink that records what it received.
contract Sink {
    uint256 public calls;

    /// @notice Accepts anything.
    function ping(uint256) external payable {
        calls++;
    }

    receive() external payable {}
}
