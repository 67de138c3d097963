// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title AllowanceToken
 * @notice TEST MOCK. An ERC-20 with the pre-5.0 OpenZeppelin `increaseAllowance(spender, addedValue)`, so that
 * outflows granted through it can be tested (OpenZeppelin 5 removed it; many deployed tokens still have it).
 */
contract AllowanceToken is ERC20 {
    constructor() ERC20("Allowance Token", "ALW") {}

    /// @notice Mint `amount` to `to` (anyone; test-only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Raise the caller's allowance for `spender` by `addedValue`.
    function increaseAllowance(address spender, uint256 addedValue) external returns (bool) {
        _approve(msg.sender, spender, allowance(msg.sender, spender) + addedValue);
        return true;
    }
}
