// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {MockAccountBase} from "./MockAccountBase.sol";
import {IUsageRegistry} from "./Registries.sol";

/**
 * @title RegistryAccount
 * @notice Test-only account that writes to an external {IUsageRegistry} during validation. Compliant with
 * ERC-7562 with a {GoodRegistry} (associated storage), a STO-021 violation with a {BadRegistry}.
 */
contract RegistryAccount is MockAccountBase {
    /// @notice The registry bumped on every validation.
    IUsageRegistry public immutable registry;

    /// @param entryPoint_ The EntryPoint v0.8 instance.
    /// @param registry_ The registry to bump during validation.
    constructor(address entryPoint_, IUsageRegistry registry_) MockAccountBase(entryPoint_) {
        registry = registry_;
    }

    function _validationHook(PackedUserOperation calldata, bytes32) internal override returns (uint256) {
        registry.bump(address(this), bytes32("validations"));
        return 0;
    }
}

/**
 * @title RegistryAccountFactory
 * @notice Test-only factory that deploys a {RegistryAccount} with CREATE2 and registers it in the registry
 * during deployment: associated storage touched while the sender is being created (ERC-7562 STO-022, allowed
 * only when the factory is staked).
 */
contract RegistryAccountFactory {
    /// @notice The EntryPoint the accounts trust.
    address public immutable entryPoint;
    /// @notice The registry every new account is registered in.
    IUsageRegistry public immutable registry;

    /// @param entryPoint_ The EntryPoint v0.8 instance.
    /// @param registry_ The registry bumped for each new account.
    constructor(address entryPoint_, IUsageRegistry registry_) {
        entryPoint = entryPoint_;
        registry = registry_;
    }

    /// @notice Deploy the account for `salt` (idempotent) and register it.
    /// @return account The account address.
    function createAccount(bytes32 salt) external returns (RegistryAccount account) {
        address predicted = accountAddress(salt);
        if (predicted.code.length != 0) return RegistryAccount(payable(predicted));
        account = new RegistryAccount{salt: salt}(entryPoint, registry);
        registry.bump(address(account), bytes32("created"));
    }

    /// @notice The CREATE2 address of the account for `salt`.
    function accountAddress(bytes32 salt) public view returns (address) {
        bytes32 initHash = keccak256(
            abi.encodePacked(type(RegistryAccount).creationCode, abi.encode(entryPoint, registry))
        );
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initHash)))));
    }
}
