// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ValueBudget} from "../../libraries/ValueBudget.sol";
import {ValuePricing} from "../../libraries/ValuePricing.sol";

/**
 * @title ValueBudgetHarness
 * @notice Exposes one {ValueBudget.Budget} and {ValuePricing} through external functions, so that tests can
 * expect reverts and measure gas.
 */
contract ValueBudgetHarness {
    using ValueBudget for ValueBudget.Budget;

    ValueBudget.Budget internal _budget;

    /// @notice {ValueBudget.configure}.
    function configure(ValueBudget.Config calldata c) external {
        _budget.configure(c);
    }

    /// @notice {ValueBudget.clear}.
    function clear() external {
        _budget.clear();
    }

    /// @notice {ValueBudget.assess}.
    function assess(uint256 value, uint256 now_) external view returns (ValueBudget.Verdict memory) {
        return _budget.assess(value, now_);
    }

    /// @notice {ValueBudget.assessSpend}.
    function assessSpend(
        ValuePricing.Source calldata src,
        uint256 tokenDecimals,
        uint256 amount,
        uint256 now_
    ) external view returns (ValueBudget.Verdict memory) {
        return _budget.assessSpend(src, tokenDecimals, amount, now_);
    }

    /// @notice {ValueBudget.charge}.
    function charge(uint256 value, ValueBudget.Tier tier, uint256 now_) external {
        _budget.charge(value, tier, now_);
    }

    /// @notice {ValueBudget.available}.
    function available(uint256 now_) external view returns (uint256 periodLeft, uint256 lifetimeLeft) {
        return _budget.available(now_);
    }

    /// @notice The configuration and the recorded lifetime total.
    function state() external view returns (ValueBudget.Config memory config, uint256 lifetime) {
        return (_budget.config, _budget.window.lifetime);
    }

    /// @notice {ValuePricing.checkSource}.
    function checkSource(ValuePricing.Source calldata src) external view {
        ValuePricing.checkSource(src);
    }

    /// @notice {ValuePricing.valueOf} and the gas it used.
    function valueOf(
        ValuePricing.Source calldata src,
        uint256 tokenDecimals,
        uint256 amount,
        uint256 unitDecimals
    ) external view returns (ValuePricing.PriceFailure failure, uint256 value, uint256 gasUsed) {
        uint256 g = gasleft();
        (failure, value) = ValuePricing.valueOf(src, tokenDecimals, amount, unitDecimals);
        gasUsed = g - gasleft();
    }

    /// @notice {ValuePricing.valueOfAll}.
    function valueOfAll(
        ValuePricing.Source[] calldata sources,
        uint256[] calldata tokenDecimals,
        uint256[] calldata amounts,
        uint256 unitDecimals
    ) external view returns (ValuePricing.PriceFailure failure, uint256 failedIndex, uint256 total) {
        return ValuePricing.valueOfAll(sources, tokenDecimals, amounts, unitDecimals);
    }

    /// @notice Gas of {ValueBudget.assessSpend} followed by {ValueBudget.charge} (the library calls alone).
    function measureAssessAndCharge(
        ValuePricing.Source calldata src,
        uint256 tokenDecimals,
        uint256 amount
    ) external returns (ValueBudget.Tier tier, uint256 gasUsed) {
        uint256 g = gasleft();
        ValueBudget.Verdict memory v = _budget.assessSpend(src, tokenDecimals, amount, block.timestamp);
        _budget.charge(v.value, v.tier, block.timestamp);
        gasUsed = g - gasleft();
        tier = v.tier;
    }
}
