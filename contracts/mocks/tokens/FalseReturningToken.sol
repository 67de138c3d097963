// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title FalseReturningToken
 * @notice TEST MOCK. A non-reverting ERC-20 (old USDT/ZRX style): while `failing` is set, `transfer` and
 * `transferFrom` move nothing and return `false` instead of reverting. Callers that ignore the return value (as
 * ERC-7579 executions do) see the call "succeed".
 */
contract FalseReturningToken is ERC20 {
    /// @notice Whether transfers fail silently (return false, move nothing).
    bool public failing = true;

    constructor() ERC20("False Returning", "FALSE") {}

    /// @notice Mint `amount` to `to` (anyone; test-only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Switch silent failure on or off.
    function setFailing(bool value) external {
        failing = value;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 amount) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, amount);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, amount);
    }
}
