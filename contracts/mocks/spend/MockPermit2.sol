// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice The allowance-transfer half of Uniswap's Permit2 (same selectors and semantics), for tests. Test-only.
contract MockPermit2 {
    struct Allowance {
        uint160 amount;
        uint48 expiration;
        uint48 nonce;
    }

    mapping(address owner => mapping(address token => mapping(address spender => Allowance))) public allowance;

    error AllowanceExpired(uint256 deadline);
    error InsufficientAllowance(uint256 amount);

    /// @notice Permit2 `approve(token, spender, amount, expiration)`.
    function approve(address token, address spender, uint160 amount, uint48 expiration) external {
        Allowance storage a = allowance[msg.sender][token][spender];
        (a.amount, a.expiration) = (amount, expiration);
    }

    /// @notice Permit2 `transferFrom(from, to, amount, token)`: spends the caller's Permit2 allowance from `from`.
    function transferFrom(address from, address to, uint160 amount, address token) external {
        Allowance storage a = allowance[from][token][msg.sender];
        if (block.timestamp > a.expiration) revert AllowanceExpired(a.expiration);
        if (a.amount < amount) revert InsufficientAllowance(a.amount);
        a.amount -= amount;
        IERC20(token).transferFrom(from, to, amount);
    }
}
