// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {IEntryPoint} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {ReinsAccount} from "./ReinsAccount.sol";
import {ReinsProxy} from "./ReinsProxy.sol";

/**
 * @title ReinsAccountFactory
 * @notice Deploys {ReinsAccount} proxies at CREATE2 addresses that commit to their whole initialisation.
 * @dev The CREATE2 salt is `keccak256(initCall ‖ userSalt)`, where `initCall` is the complete `initialize`
 * calldata (owner validator, owner, initial modules). A front-runner who deploys with other init data gets
 * another address, and deploy + initialise happen in one call, so a proxy can never be initialised by anyone
 * else. `createAccount` is idempotent: for an existing account it returns the address and does nothing.
 * Uses no storage of its own. Under ERC-7562 the factory must be staked on public mempools, because the initial
 * modules write account-associated storage in other contracts while the account is created (STO-022): anyone may
 * add stake for it ({addStake}); only `stakeOwner` can unlock and withdraw it. The proxy is created with an
 * inline CREATE2 (OpenZeppelin's `Create2.deploy` reads SELFBALANCE, which ERC-7562 bans for unstaked entities).
 */
contract ReinsAccountFactory {
    /// @notice The account implementation every proxy points to.
    address public immutable implementation;
    /// @notice Who may unlock and withdraw the factory's EntryPoint stake.
    address public immutable stakeOwner;
    /// @dev keccak256 of the proxy creation code (constant for this implementation).
    bytes32 private immutable _proxyCodeHash;

    /// @notice `initCall` is not a call to {ReinsAccount.initialize}.
    error ReinsFactoryInvalidInitCall(bytes4 selector);
    /// @notice The proxy could not be created.
    error ReinsFactoryDeployFailed();
    /// @notice Only the stake owner may unlock or withdraw the stake.
    error ReinsFactoryNotStakeOwner(address caller);

    /// @notice A new account was deployed and initialised.
    event AccountCreated(address indexed account, bytes32 indexed salt, bytes32 initCallHash);

    constructor(address implementation_, address stakeOwner_) {
        implementation = implementation_;
        stakeOwner = stakeOwner_;
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
        bytes memory code = ReinsProxy.creationCode(implementation);
        address deployed;
        assembly ("memory-safe") {
            deployed := create2(0, add(code, 0x20), mload(code), salt)
        }
        if (deployed == address(0)) revert ReinsFactoryDeployFailed();
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

    /// @notice Stake the factory in the EntryPoint (anyone may pay; required by public bundlers, ERC-7562).
    function addStake(uint32 unstakeDelaySec) external payable {
        _entryPoint().addStake{value: msg.value}(unstakeDelaySec);
    }

    /// @notice Start the unstake delay (stake owner only).
    function unlockStake() external {
        if (msg.sender != stakeOwner) revert ReinsFactoryNotStakeOwner(msg.sender);
        _entryPoint().unlockStake();
    }

    /// @notice Withdraw the unlocked stake to `to` (stake owner only).
    function withdrawStake(address payable to) external {
        if (msg.sender != stakeOwner) revert ReinsFactoryNotStakeOwner(msg.sender);
        _entryPoint().withdrawStake(to);
    }

    function _entryPoint() private pure returns (IEntryPoint) {
        return ERC4337Utils.ENTRYPOINT_V08;
    }

    function _salt(bytes calldata initCall, bytes32 userSalt) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(initCall, userSalt));
    }
}
