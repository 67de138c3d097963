// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Validator, MODULE_TYPE_VALIDATOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";

/**
 * @title OwnerValidator
 * @notice ERC-7579 validator: one ECDSA owner per account. The owner signs the EntryPoint v0.8 userOpHash (an
 * EIP-712 digest that already binds the chain, the EntryPoint and the account).
 * @dev Storage is `mapping(address account => address owner)`, i.e. a slot `keccak256(account ‖ p)`, associated
 * with the account under ERC-7562. Signatures must be exactly 65 bytes, with a low `s` and a non-zero signer
 * (`ECDSA.tryRecover`), so malleable, short, long and all-zero signatures never validate and never revert.
 * ERC-1271 signatures are over `keccak256("\x19\x01" ‖ domain(account) ‖ keccak256(abi.encode(TYPEHASH, hash)))`,
 * so one owner's signature for one account cannot be replayed on another account or chain.
 */
contract OwnerValidator is IERC7579Validator {
    mapping(address account => address) private _owners;

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

    /// @notice Install with `data` = the owner address (20 bytes, packed) or `abi.encode(owner)`.
    function onInstall(bytes calldata data) external {
        if (_owners[msg.sender] != address(0)) revert OwnerValidatorAlreadyInstalled(msg.sender);
        address owner = data.length == 20 ? address(bytes20(data)) : abi.decode(data, (address));
        _setOwner(msg.sender, owner);
    }

    /// @notice Forget the calling account's owner.
    function onUninstall(bytes calldata) external {
        address previous = _owners[msg.sender];
        delete _owners[msg.sender];
        emit OwnerChanged(msg.sender, previous, address(0));
    }

    /// @notice Rotate the calling account's owner (the account calls this through an owner operation).
    function setOwner(address newOwner) external {
        if (_owners[msg.sender] == address(0)) revert OwnerValidatorNotInstalled(msg.sender);
        _setOwner(msg.sender, newOwner);
    }

    /// @notice The owner of `account` (zero if none).
    function ownerOf(address account) external view returns (address) {
        return _owners[account];
    }

    /// @notice Whether `account` has an owner here.
    function isInitialized(address account) external view returns (bool) {
        return _owners[account] != address(0);
    }

    /// @inheritdoc IERC7579Validator
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        return
            _isOwnerSignature(msg.sender, userOpHash, userOp.signature)
                ? ERC4337Utils.SIG_VALIDATION_SUCCESS
                : ERC4337Utils.SIG_VALIDATION_FAILED;
    }

    /// @inheritdoc IERC7579Validator
    function isValidSignatureWithSender(
        address,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
        return
            _isOwnerSignature(msg.sender, messageDigest(msg.sender, hash), signature)
                ? bytes4(0x1626ba7e)
                : bytes4(0xffffffff);
    }

    /// @notice The digest the owner signs for an ERC-1271 check of `hash` by `account`.
    function messageDigest(address account, bytes32 hash) public view returns (bytes32) {
        bytes32 domain = keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, account));
        return keccak256(abi.encodePacked("\x19\x01", domain, keccak256(abi.encode(_MESSAGE_TYPEHASH, hash))));
    }

    /// @notice ERC-7579 module type: validator only.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    function _isOwnerSignature(address account, bytes32 digest, bytes calldata signature) private view returns (bool) {
        if (signature.length != 65) return false;
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        return err == ECDSA.RecoverError.NoError && signer != address(0) && signer == _owners[account];
    }

    function _setOwner(address account, address newOwner) private {
        if (newOwner == address(0)) revert OwnerValidatorZeroOwner();
        address previous = _owners[account];
        _owners[account] = newOwner;
        emit OwnerChanged(account, previous, newOwner);
    }
}
