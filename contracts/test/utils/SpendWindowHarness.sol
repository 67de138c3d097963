// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SpendWindow} from "../../libraries/SpendWindow.sol";

/**
 * @title SpendWindowHarness
 * @notice Holds one {SpendWindow.State} in storage and exposes the library functions externally, so that
 * tests can expect reverts and measure gas.
 */
contract SpendWindowHarness {
    using SpendWindow for SpendWindow.State;

    SpendWindow.State internal _state;

    /// @notice See {SpendWindow.spentInWindow}.
    function spentInWindow(uint256 period, uint256 now_) external view returns (uint256) {
        return _state.spentInWindow(period, now_);
    }

    /// @notice See {SpendWindow.available}.
    function available(
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 period,
        uint256 now_
    ) external view returns (uint256 periodRemaining, uint256 lifetimeRemaining) {
        return _state.available(periodCap, lifetimeCap, period, now_);
    }

    /// @notice See {SpendWindow.record}.
    function record(uint256 amount, uint256 period, uint256 now_) external {
        _state.record(amount, period, now_);
    }

    /// @notice See {SpendWindow.tryRecord}.
    function tryRecord(
        uint256 amount,
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 period,
        uint256 now_
    ) external returns (bool ok, uint256 periodRemaining, uint256 lifetimeRemaining) {
        return _state.tryRecord(amount, periodCap, lifetimeCap, period, now_);
    }

    /// @notice See {SpendWindow.clearWindow}.
    function clearWindow() external {
        _state.clearWindow();
    }

    /// @notice {SpendWindow.tryRecord}, returning the gas used by the library call alone.
    function measureTryRecord(
        uint256 amount,
        uint256 periodCap,
        uint256 lifetimeCap,
        uint256 period,
        uint256 now_
    ) external returns (bool ok, uint256 gasUsed) {
        gasUsed = gasleft();
        (ok, , ) = _state.tryRecord(amount, periodCap, lifetimeCap, period, now_);
        gasUsed -= gasleft();
    }

    /// @notice The raw fields, read through Solidity's own storage layout (checks the library's packing).
    function state() external view returns (uint256 lastIndex, uint256 lifetime, uint128[4] memory buckets) {
        return (_state.lastIndex, _state.lifetime, _state.buckets);
    }
}
