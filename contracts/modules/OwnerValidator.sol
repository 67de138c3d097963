// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    IERC7579Validator,
    IERC7579Execution,
    IERC7579ModuleConfig,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {IReinsQueueGuard} from "../interfaces/IReinsQueueGuard.sol";
import {CallPolicy} from "../libraries/CallPolicy.sol";

/// @dev What the safety net reads from the guardian module: when the account's lock ends.
interface ILockSource {
    function lockedUntil(address account) external view returns (uint48);
}

/**
 * @title OwnerValidator
 * @notice ERC-7579 validator: one ECDSA owner per account. The owner signs the EntryPoint v0.8 userOpHash (an
 * EIP-712 digest that already binds the chain, the EntryPoint and the account). Optional **owner safety net**
 * (for operators whose owner key is itself a hot key, as Argent did): see {enableSafetyNet}.
 * @dev Storage is keyed by the account (`mapping(address account => …)`, slots `keccak256(account ‖ p) + n`),
 * associated with the account under ERC-7562; the owner and the safety-net flag share one slot, so plain owner
 * operations read one slot. Signatures must be exactly 65 bytes, with a low `s` and a non-zero signer
 * (`ECDSA.tryRecover`), so malleable, short, long and all-zero signatures never validate and never revert.
 * ERC-1271 signatures are over `keccak256("\x19\x01" ‖ domain(account) ‖ keccak256(abi.encode(TYPEHASH, hash)))`,
 * so one owner's signature for one account cannot be replayed on another account or chain.
 *
 * Safety net: while it is on, an owner operation validates only if (1) the account is not locked by its
 * guardians — the lock end goes back as `validAfter`, so no TIMESTAMP is read — and (2) every call is one of:
 * `timelock.schedule` with this module as guard and at least `minDelay`; `timelock.cancel`; the guardian module's
 * `cancelRecovery`. Everything else — transfers, module changes, upgrades, turning the net off — waits in the
 * timelock, and when it runs this module (as the queue guard, installed as an executor) refuses while the account
 * is locked. Routine spending goes through an agent session the owner grants to its own hot key, with budgets and
 * tiers. Who wins a disagreement: M guardians (they can lock, which freezes the owner and its queued operations,
 * and recover); a thief holding the owner key can neither cancel a recovery while locked (the guardian module
 * refuses) nor move anything before the delay; a minority of guardians can do nothing.
 */
contract OwnerValidator is IERC7579Validator, IReinsQueueGuard {
    struct OwnerData {
        address owner;
        bool safetyNet;
    }

    /// @notice Safety-net configuration of an account.
    struct SafetyNet {
        address lockSource;
        address timelock;
        uint48 minDelay;
    }

    bytes4 private constant _REQUEST_HOOK_REMOVAL = bytes4(keccak256("requestHookRemoval()"));

    mapping(address account => OwnerData) private _owners;
    mapping(address account => SafetyNet) private _nets;

    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant _MESSAGE_TYPEHASH = keccak256("ReinsMessage(bytes32 hash)");
    bytes32 private constant _NAME_HASH = keccak256("Reins");
    bytes32 private constant _VERSION_HASH = keccak256("1");

    /// @notice The owner address was zero.
    error OwnerValidatorZeroOwner();
    /// @notice `onInstall` on an account that already has an owner here.
    error OwnerValidatorAlreadyInstalled(address account);
    /// @notice The calling account has no owner here.
    error OwnerValidatorNotInstalled(address account);
    /// @notice With the safety net on, call `index` must wait in the timelock (or is scheduled with too short a
    /// delay / another guard).
    error OwnerValidatorDelayRequired(uint256 index, address target, bytes4 selector);
    /// @notice The account is locked by its guardians until `until`.
    error OwnerValidatorLocked(address account, uint48 until);
    /// @notice Only the account's configured timelock may run queued owner operations.
    error OwnerValidatorUnauthorized(address caller);
    /// @notice Invalid safety-net configuration.
    error OwnerValidatorInvalidSafetyNet();

    /// @notice The owner of `account` changed.
    event OwnerChanged(address indexed account, address indexed previousOwner, address indexed newOwner);
    /// @notice The owner safety net of `account` was turned on or off.
    event SafetyNetSet(address indexed account, bool enabled, SafetyNet config);

    /// @notice Install with `data` = the owner address (20 bytes, packed) or `abi.encode(owner)`. As an executor
    /// (for the safety net's queue) the data is ignored.
    function onInstall(bytes calldata data) external {
        if (data.length == 0) return; // executor install (safety net); the validator install carries the owner
        if (_owners[msg.sender].owner != address(0)) revert OwnerValidatorAlreadyInstalled(msg.sender);
        address owner = data.length == 20 ? address(bytes20(data)) : abi.decode(data, (address));
        _setOwner(msg.sender, owner);
    }

    /// @notice Forget the calling account's owner and safety net, unless only the executor role is being removed
    /// (the account still has this module as a validator then).
    function onUninstall(bytes calldata) external {
        if (IERC7579ModuleConfig(msg.sender).isModuleInstalled(MODULE_TYPE_VALIDATOR, address(this), "")) return;
        address previous = _owners[msg.sender].owner;
        delete _owners[msg.sender];
        delete _nets[msg.sender];
        emit OwnerChanged(msg.sender, previous, address(0));
    }

    /// @notice Rotate the calling account's owner (the account calls this through an owner operation, or the
    /// guardian module through a recovery).
    function setOwner(address newOwner) external {
        if (_owners[msg.sender].owner == address(0)) revert OwnerValidatorNotInstalled(msg.sender);
        _setOwner(msg.sender, newOwner);
    }

    /**
     * @notice Turn the owner safety net on for the calling account (tightening: at once). This module must also
     * be installed as an executor, and `timelock` must be installed.
     * @param config `lockSource` = the guardian module; `timelock` = the queue; `minDelay` = the least delay of an
     * owner operation (choose it longer than the guardians need to lock).
     */
    function enableSafetyNet(SafetyNet calldata config) external {
        if (_owners[msg.sender].owner == address(0)) revert OwnerValidatorNotInstalled(msg.sender);
        if (config.lockSource.code.length == 0 || config.timelock.code.length == 0 || config.minDelay == 0) {
            revert OwnerValidatorInvalidSafetyNet();
        }
        _nets[msg.sender] = config;
        _owners[msg.sender].safetyNet = true;
        emit SafetyNetSet(msg.sender, true, config);
    }

    /// @notice Turn the safety net off. While it is on, this call itself can only arrive through the timelock.
    function disableSafetyNet() external {
        _owners[msg.sender].safetyNet = false;
        emit SafetyNetSet(msg.sender, false, _nets[msg.sender]);
        delete _nets[msg.sender];
    }

    /// @notice The owner of `account` (zero if none).
    function ownerOf(address account) external view returns (address) {
        return _owners[account].owner;
    }

    /// @notice The safety net of `account` (`enabled` false when off).
    function safetyNetOf(address account) external view returns (bool enabled, SafetyNet memory config) {
        return (_owners[account].safetyNet, _nets[account]);
    }

    /// @notice Whether `account` has an owner here.
    function isInitialized(address account) external view returns (bool) {
        return _owners[account].owner != address(0);
    }

    /// @inheritdoc IERC7579Validator
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        OwnerData memory data = _owners[msg.sender];
        bool ok = _isSignedBy(data.owner, userOpHash, userOp.signature);
        if (!data.safetyNet) {
            return ok ? ERC4337Utils.SIG_VALIDATION_SUCCESS : ERC4337Utils.SIG_VALIDATION_FAILED;
        }
        SafetyNet memory net = _nets[msg.sender];
        // The one direct call allowed: the account's own delayed hook removal (a reverting hook must not lock the
        // owner out; the account makes it wait HOOK_REMOVAL_DELAY, and a guardian lock still blocks it below).
        if (userOp.callData.length != 4 || bytes4(userOp.callData) != _REQUEST_HOOK_REMOVAL) {
            _checkDelayed(net, userOp.callData);
        }
        uint48 lockedUntil = ILockSource(net.lockSource).lockedUntil(msg.sender);
        return ERC4337Utils.packValidationData(ok, lockedUntil, 0);
    }

    /// @inheritdoc IReinsQueueGuard
    function executeQueued(
        address account,
        bytes32,
        bytes32,
        bytes32 mode,
        bytes calldata executionCalldata,
        bool
    ) external returns (bytes[] memory) {
        SafetyNet memory net = _nets[account];
        if (msg.sender != net.timelock || net.timelock == address(0)) revert OwnerValidatorUnauthorized(msg.sender);
        uint48 until = ILockSource(net.lockSource).lockedUntil(account);
        if (until > block.timestamp) revert OwnerValidatorLocked(account, until);
        return IERC7579Execution(account).executeFromExecutor(mode, executionCalldata);
    }

    /// @inheritdoc IERC7579Validator
    function isValidSignatureWithSender(
        address,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
        OwnerData memory data = _owners[msg.sender];
        // With the safety net on, off-chain signatures (permits, orders) would bypass the delay: refused.
        if (data.safetyNet) return bytes4(0xffffffff);
        return
            _isSignedBy(data.owner, messageDigest(msg.sender, hash), signature)
                ? bytes4(0x1626ba7e)
                : bytes4(0xffffffff);
    }

    /// @notice The digest the owner signs for an ERC-1271 check of `hash` by `account`.
    function messageDigest(address account, bytes32 hash) public view returns (bytes32) {
        bytes32 domain = keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, account));
        return keccak256(abi.encodePacked("\x19\x01", domain, keccak256(abi.encode(_MESSAGE_TYPEHASH, hash))));
    }

    /// @notice ERC-7579 module types: validator, and executor (for the safety net's queued operations).
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    /// @dev Safety net: every call must be a timelock schedule (guard = this, delay ≥ minDelay) or a cancel.
    function _checkDelayed(SafetyNet memory net, bytes calldata callData) private view {
        (bytes32 mode, bytes calldata payload) = CallPolicy.decodeExecute(callData);
        (bool batch, bool ok) = CallPolicy.isBatch(mode, false);
        if (!ok) revert OwnerValidatorDelayRequired(0, address(0), bytes4(0));
        if (!batch) {
            (address target, uint256 value, bytes calldata data) = CallPolicy.decodeSingle(payload);
            _checkDelayedCall(net, 0, target, value, data);
        } else {
            Execution[] calldata calls = CallPolicy.decodeBatch(payload);
            for (uint256 i = 0; i < calls.length; ++i) {
                _checkDelayedCall(net, i, calls[i].target, calls[i].value, calls[i].callData);
            }
        }
    }

    function _checkDelayedCall(
        SafetyNet memory net,
        uint256 index,
        address target,
        uint256 value,
        bytes calldata data
    ) private view {
        bytes4 selector = data.length >= 4 ? bytes4(data[0:4]) : bytes4(0);
        if (value == 0) {
            if (target == net.timelock) {
                if (selector == _scheduleSelector()) {
                    // schedule(mode, calldata, delay, validFor, approval, guard, context): words 2 and 5
                    if (
                        uint256(CallPolicy.word(data, 2)) >= net.minDelay &&
                        address(uint160(uint256(CallPolicy.word(data, 5)))) == address(this)
                    ) return;
                } else if (selector == _cancelSelector()) {
                    return;
                }
            } else if (target == net.lockSource && selector == _cancelRecoverySelector()) {
                return;
            }
        }
        revert OwnerValidatorDelayRequired(index, target, selector);
    }

    function _scheduleSelector() private pure returns (bytes4) {
        return bytes4(keccak256("schedule(bytes32,bytes,uint48,uint48,bool,address,bytes32)"));
    }

    function _cancelSelector() private pure returns (bytes4) {
        return bytes4(keccak256("cancel(address,bytes32)"));
    }

    function _cancelRecoverySelector() private pure returns (bytes4) {
        return bytes4(keccak256("cancelRecovery()"));
    }

    function _isSignedBy(address owner, bytes32 digest, bytes calldata signature) private pure returns (bool) {
        if (signature.length != 65) return false;
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        return err == ECDSA.RecoverError.NoError && signer != address(0) && signer == owner;
    }

    function _setOwner(address account, address newOwner) private {
        if (newOwner == address(0)) revert OwnerValidatorZeroOwner();
        address previous = _owners[account].owner;
        _owners[account].owner = newOwner;
        emit OwnerChanged(account, previous, newOwner);
    }
}
