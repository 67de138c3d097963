// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {ReinsAccount} from "./ReinsAccount.sol";
import {ReinsProxy} from "./ReinsProxy.sol";

/**
 * @title ReinsAccountFactory
 * @notice Deploys {ReinsAccount} proxies at CREATE2 addresses that commit to their whole initialisation.
 * @dev The CREATE2 salt is `keccak256(initCall ‖ userSalt)`, where `initCall` is the complete `initialize`
 * calldata (owner validator, owner, initial modules). A front-runner who deploys with other init data gets
 * another address, and deploy + initialise happen in one call, so a proxy can never be initialised by anyone
 * else. `createAccount` is idempotent: for an existing account it returns the address and does nothing.
 * Uses no storage of its own. Under ERC-7562 the factory must be staked on public mempools when the initial
 * modules write account-associated storage in other contracts (STO-022); the deploy script can add the stake.
 */
contract ReinsAccountFactory {
    /// @notice The account implementation every proxy points to.
    address public immutable implementation;
    /// @dev keccak256 of the proxy creation code (constant for this implementation).
    bytes32 private immutable _proxyCodeHash;

    /// @notice `initCall` is not a call to {ReinsAccount.initialize}.
    error ReinsFactoryInvalidInitCall(bytes4 selector);

    /// @notice A new account was deployed and initialised.
    event AccountCreated(address indexed account, bytes32 indexed salt, bytes32 initCallHash);

    constructor(address implementation_) {
        implementation = implementation_;
        _proxyCodeHash = keccak256(ReinsProxy.creationCode(implementation_));
    }

    /**
     * @notice Deploy and initialise the account for `initCall` and `userSalt`, or return it if it exists.
     * @param initCall `abi.encodeCall(ReinsAccount.initialize, (...))`.
     * @param userSalt Free salt, to have several accounts with the same configuration.
     */
    function createAccount(bytes calldata initCall, bytes32 userSalt) external returns (address account) {
        if (initCall.length < 4 || bytes4(initCall[0:4]) != ReinsAccount.initialize.selector) {
            revert ReinsFactoryInvalidInitCall(initCall.length < 4 ? bytes4(0) : bytes4(initCall[0:4]));
        }
        bytes32 salt = _salt(initCall, userSalt);
        account = Create2.computeAddress(salt, _proxyCodeHash);
        if (account.code.length != 0) return account;
        Create2.deploy(0, salt, ReinsProxy.creationCode(implementation));
        (bool ok, bytes memory reason) = account.call(initCall);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
        emit AccountCreated(account, userSalt, keccak256(initCall));
    }

    /// @notice The address `createAccount(initCall, userSalt)` deploys to (counterfactual).
    function getAccountAddress(bytes calldata initCall, bytes32 userSalt) external view returns (address) {
        return Create2.computeAddress(_salt(initCall, userSalt), _proxyCodeHash);
    }

    function _salt(bytes calldata initCall, bytes32 userSalt) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(initCall, userSalt));
    }
}
