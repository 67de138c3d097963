// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CallPolicy} from "../../libraries/CallPolicy.sol";

/// @notice Exposes {CallPolicy-outflow} for tests.
contract CallPolicyHarness {
    function outflow(
        address account,
        address target,
        bytes calldata data
    ) external pure returns (CallPolicy.Outflow memory) {
        return CallPolicy.outflow(account, target, data);
    }

    function word(bytes calldata data, uint256 index) external pure returns (bytes32) {
        return CallPolicy.word(data, index);
    }
}

/// @notice A target that decodes its arguments with Solidity's ABI decoder and records what it saw.
contract DecodingTarget {
    struct ExactInputParams {
        bytes path;
        address recipient;
        uint256 amountIn;
        uint256 amountOutMinimum;
    }

    address public lastWho;
    uint256 public lastAmount;
    address public lastToken;
    address public lastFrom;

    function transfer(address to, uint256 amount) external returns (bool) {
        (lastWho, lastAmount) = (to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        (lastWho, lastAmount) = (spender, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        (lastFrom, lastWho, lastAmount) = (from, to, amount);
        return true;
    }

    function approveAndCall(address spender, uint256 amount, bytes calldata) external returns (bool) {
        (lastWho, lastAmount) = (spender, amount);
        return true;
    }

    function transferFromAndCall(address from, address to, uint256 amount, bytes calldata) external returns (bool) {
        (lastFrom, lastWho, lastAmount) = (from, to, amount);
        return true;
    }

    /// @dev Permit2 approve(token, spender, amount, expiration)
    function approve(address token, address spender, uint160 amount, uint48) external {
        (lastToken, lastWho, lastAmount) = (token, spender, amount);
    }

    /// @dev Permit2 transferFrom(from, to, amount, token)
    function transferFrom(address from, address to, uint160 amount, address token) external {
        (lastFrom, lastWho, lastAmount, lastToken) = (from, to, amount, token);
    }

    function safeTransferFrom(address from, address to, uint256, uint256 amount, bytes calldata) external {
        (lastFrom, lastWho, lastAmount) = (from, to, amount);
    }

    function exactInput(ExactInputParams calldata params) external returns (uint256) {
        (lastWho, lastAmount) = (params.recipient, params.amountIn);
        return params.amountIn;
    }
}
