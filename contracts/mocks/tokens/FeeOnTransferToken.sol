// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title FeeOnTransferToken
 * @notice TEST MOCK. Every transfer of `amount` also takes a fee of `feeBps` basis points of `amount` from the
 * sender, on top of `amount`, and sends it to `feeSink`: the sender's balance drops by more than the call data says.
 */
contract FeeOnTransferToken is ERC20 {
    /// @notice Fee in basis points of the transferred amount, paid by the sender on top.
    uint256 public immutable feeBps;
    /// @notice Where fees go.
    address public immutable feeSink;

    constructor(uint256 feeBps_, address feeSink_) ERC20("Fee On Transfer", "FEE") {
        feeBps = feeBps_;
        feeSink = feeSink_;
    }

    /// @notice Mint `amount` to `to` (anyone; test-only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 amount) public override returns (bool) {
        _transfer(msg.sender, to, amount);
        _transfer(msg.sender, feeSink, (amount * feeBps) / 10_000);
        return true;
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        _spendAllowance(from, msg.sender, amount);
        _transfer(from, to, amount);
        _transfer(from, feeSink, (amount * feeBps) / 10_000);
        return true;
    }
}
