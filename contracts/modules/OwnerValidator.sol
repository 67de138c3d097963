// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {
    IERC7579Validator,
    IERC7579ModuleConfig,
    MODULE_TYPE_VALIDATOR,
    MODULE_TYPE_EXECUTOR
} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";
import {Execution} from "@openzeppelin/contracts/account/utils/draft-ERC7579Utils.sol";
import {OwnerSafetyNet} from "./owner/OwnerSafetyNet.sol";
import {IReinsRecoverableRoot} from "./owner/IReinsRecoverableRoot.sol";

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
 * Safety net ({OwnerSafetyNet}, shared with `PasskeyValidator`): while it is on, owner operations may only
 * schedule in the timelock (with this module as guard and at least `minDelay`), cancel, or cancel a recovery, and
 * not while the guardians have locked the account. Routine spending goes through an agent session the owner grants
 * to its own hot key, with budgets and tiers. Who wins a disagreement: M guardians (they can lock, which freezes the
 * owner and its queued operations, and recover); a thief holding the owner key can neither cancel a recovery while
 * locked (the guardian module refuses) nor move anything before the delay; a minority of guardians can do nothing.
 * The flag shares the owner's slot, so an owner operation with the net off reads one slot.
 *
 * Guardian recovery ({IReinsRecoverableRoot}): the recovered owner is set here with {setOwner}.
 */
contract OwnerValidator is IERC7579Validator, IReinsRecoverableRoot, OwnerSafetyNet {
    struct OwnerData {
        address owner;
        bool safetyNet;
    }

    mapping(address account => OwnerData) private _owners;

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

    /// @notice The owner of `account` changed.
    event OwnerChanged(address indexed account, address indexed previousOwner, address indexed newOwner);

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
        _clearSafetyNet(msg.sender);
        emit OwnerChanged(msg.sender, previous, address(0));
    }

    /// @notice Rotate the calling account's owner (the account calls this through an owner operation, or the
    /// guardian module through a recovery).
    function setOwner(address newOwner) external {
        if (_owners[msg.sender].owner == address(0)) revert OwnerValidatorNotInstalled(msg.sender);
        _setOwner(msg.sender, newOwner);
    }

    /// @inheritdoc IReinsRecoverableRoot
    /// @dev One call: `setOwner(newOwner)` on this module.
    function recoveryCalls(address, address newOwner) external view returns (Execution[] memory calls) {
        calls = new Execution[](1);
        calls[0] = Execution({target: address(this), value: 0, callData: abi.encodeCall(this.setOwner, (newOwner))});
    }

    /// @notice The owner of `account` (zero if none).
    function ownerOf(address account) external view returns (address) {
        return _owners[account].owner;
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
        return _validateWithSafetyNet(userOp, ok);
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

    /// @inheritdoc OwnerSafetyNet
    function _safetyNetOn(address account) internal view override returns (bool) {
        return _owners[account].safetyNet;
    }

    /// @inheritdoc OwnerSafetyNet
    function _setSafetyNetFlag(address account, bool on) internal override {
        _owners[account].safetyNet = on;
    }

    /// @inheritdoc OwnerSafetyNet
    function _requireOwner(address account) internal view override {
        if (_owners[account].owner == address(0)) revert OwnerValidatorNotInstalled(account);
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
