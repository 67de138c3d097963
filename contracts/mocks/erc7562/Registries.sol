// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title IUsageRegistry
 * @notice Shared counter contract that accounts bump during validation (models a spending-limit or
 * session registry living outside the account).
 */
interface IUsageRegistry {
    /// @notice Increment the counter of `account` under `key`.
    function bump(address account, bytes32 key) external;

    /// @notice The counter of `account` under `key`.
    function usage(address account, bytes32 key) external view returns (uint256);
}

/**
 * @title BadRegistry
 * @notice Test-only registry keyed account-first: `mapping(address account => mapping(bytes32 => uint256))`.
 * The slot touched is `keccak256(key ‖ keccak256(account ‖ 0))`: its preimage starts with `key`, not with
 * the account, so it is NOT associated with the account (ERC-7562 STO-021 violation when used in validation).
 */
contract BadRegistry is IUsageRegistry {
    mapping(address account => mapping(bytes32 key => uint256 count)) private _usage;

    /// @inheritdoc IUsageRegistry
    function bump(address account, bytes32 key) external override {
        _usage[account][key] += 1;
    }

    /// @inheritdoc IUsageRegistry
    function usage(address account, bytes32 key) external view override returns (uint256) {
        return _usage[account][key];
    }
}

/**
 * @title GoodRegistry
 * @notice Test-only registry keyed account-last: `mapping(bytes32 => mapping(address account => uint256))`.
 * The slot touched is `keccak256(account ‖ keccak256(key ‖ 0))`: associated with the account (STO-021 allows it).
 */
contract GoodRegistry is IUsageRegistry {
    mapping(bytes32 key => mapping(address account => uint256 count)) private _usage;

    /// @inheritdoc IUsageRegistry
    function bump(address account, bytes32 key) external override {
        _usage[key][account] += 1;
    }

    /// @inheritdoc IUsageRegistry
    function usage(address account, bytes32 key) external view override returns (uint256) {
        return _usage[key][account];
    }
}
