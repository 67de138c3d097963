// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgentSessions} from "../../interfaces/IAgentSessions.sol";
import {IAgentSessionsValue} from "../../interfaces/IAgentSessionsValue.sol";
import {ValueBudget} from "../../libraries/ValueBudget.sol";
import {ValuePricing} from "../../libraries/ValuePricing.sol";
import {AgentSessionsConfiguration} from "./AgentSessionsConfiguration.sol";

/// @dev The execution-phase entry points of {AgentSessionsAdminValue}, run by `delegatecall` (never forwarded).
interface IAgentSessionsValueRun {
    function assessValue(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts
    ) external returns (IAgentSessions.Tier);

    function chargeValue(
        address account,
        bytes32 sessionId,
        address[] calldata tokens,
        uint256[] calldata amounts,
        IAgentSessions.Tier tier
    ) external;
}

/**
 * @title AgentSessionsValue
 * @notice {AgentSessions}' side of the value budgets ({IAgentSessionsValue}): the configuration and views are
 * forwarded to {AgentSessionsAdmin}; the execution phase asks it, by `delegatecall`, for the value tier of an
 * operation and to charge what an execution spent. Accounts that never set a value budget skip both (one flag in
 * the account slot the execution reads anyway).
 */
abstract contract AgentSessionsValue is AgentSessionsConfiguration {
    /// @inheritdoc IAgentSessionsValue
    function setValueBudget(bytes32, ValueBudget.Config calldata) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IAgentSessionsValue
    function clearValueBudget(bytes32) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IAgentSessionsValue
    function setPriceSource(address, uint8, ValuePricing.Source calldata) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IAgentSessionsValue
    function removePriceSource(address) external {
        _delegateToAdmin();
    }

    /// @inheritdoc IAgentSessionsValue
    function quoteValue(
        address,
        bytes32,
        address[] calldata,
        uint256[] calldata
    ) external view returns (ValueQuote memory) {
        _viewAdmin();
    }

    /// @inheritdoc IAgentSessionsValue
    function valueBudgetOf(address, bytes32) external view returns (ValueBudgetStatus memory) {
        _viewAdmin();
    }

    /// @inheritdoc IAgentSessionsValue
    function priceSourceOf(address, address) external view returns (PriceEntry memory) {
        _viewAdmin();
    }

    /// @inheritdoc IAgentSessionsValue
    function valueUnitOf(address) external view returns (bytes8) {
        _viewAdmin();
    }

    /**
     * @notice Runs a view of {AgentSessionsAdmin} in this contract's context (only for this contract's own views,
     * which reach it by a static call: nothing can be written).
     * @param data The view's call data.
     */
    function delegateView(bytes calldata data) external {
        if (msg.sender != address(this)) revert AgentSessionsUnauthorized(msg.sender);
        address target = admin;
        assembly ("memory-safe") {
            calldatacopy(0, data.offset, data.length)
            let ok := delegatecall(gas(), target, 0, data.length, 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) {
                revert(0, returndatasize())
            }
            return(0, returndatasize())
        }
    }

    /// @dev Returns (or reverts with) what {AgentSessionsAdmin} answers to this call's data, through {delegateView}.
    function _viewAdmin() internal view {
        (bool ok, bytes memory ret) = address(this).staticcall(abi.encodeCall(this.delegateView, (msg.data)));
        assembly ("memory-safe") {
            if iszero(ok) {
                revert(add(ret, 0x20), mload(ret))
            }
            return(add(ret, 0x20), mload(ret))
        }
    }

    /// @dev The stricter of `tier` and the value tier of spending `amounts` of `tokens` (execution phase).
    function _withValueTier(
        address account,
        bytes32 sessionId,
        address[] memory tokens,
        uint256[] memory amounts,
        Tier tier
    ) internal returns (Tier) {
        if (!_accounts[account].hasValueBudget) return tier;
        bytes memory ret = _runAdmin(
            abi.encodeCall(IAgentSessionsValueRun.assessValue, (account, sessionId, tokens, amounts))
        );
        Tier valueTier = abi.decode(ret, (Tier));
        return uint8(valueTier) > uint8(tier) ? valueTier : tier;
    }

    /// @dev Charges the value of what an execution spent at `tier` (not for owner-approved runs).
    function _chargeValue(
        address account,
        bytes32 sessionId,
        address[] memory tokens,
        uint256[] memory amounts,
        Tier tier
    ) internal {
        if (tier == Tier.Approval || !_accounts[account].hasValueBudget) return;
        _runAdmin(abi.encodeCall(IAgentSessionsValueRun.chargeValue, (account, sessionId, tokens, amounts, tier)));
    }

    function _runAdmin(bytes memory data) private returns (bytes memory ret) {
        bool ok;
        (ok, ret) = admin.delegatecall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
