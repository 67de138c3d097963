// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";
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

/// @dev The ECDSA owner validator a recovery hands the account to (see {PasskeyValidator-recoveryCalls}).
interface IReinsOwnerSetter {
    function setOwner(address newOwner) external;
}

/// @dev The account functions a recovery calls on the account itself.
interface IReinsRootRotation {
    function setRootValidator(address validator) external;
}

/**
 * @title PasskeyValidator
 * @notice ERC-7579 validator: one WebAuthn (P-256) passkey owner per account. It can be the account's root
 * validator: owner operations, ERC-1271 signatures and rotation of the passkey by the account.
 * @dev A signature is a WebAuthn assertion, the fields of OpenZeppelin's `WebAuthn.WebAuthnAuth` ABI-encoded as a
 * tuple: `abi.encode(r, s, challengeIndex, typeIndex, authenticatorData, clientDataJSON)` (decoded with
 * `WebAuthn.tryDecodeAuth`, so malformed bytes fail instead of reverting). It is checked with `WebAuthn.verify`
 * requiring user presence (UP) and user verification (UV), the `"type":"webauthn.get"` entry, the challenge, and
 * a low-`s` P-256 signature (`P256.verify`: the RIP-7212 / EIP-7951 P256VERIFY precompile at 0x100 when the chain
 * has it, OpenZeppelin's Solidity verifier otherwise). Origin and rpIdHash are not checked on chain (the
 * authenticator binds them; see OpenZeppelin's WebAuthn notes).
 *
 * - UserOperations: the challenge is the 32-byte EntryPoint v0.8 userOpHash (an EIP-712 digest that already
 *   binds the chain, the EntryPoint and the account).
 * - ERC-1271: the challenge is {messageDigest}`(account, hash)`, the same digest the ECDSA `OwnerValidator`
 *   signs (`"\x19\x01" ‖ domain("Reins", "1", chainId, account) ‖ keccak256(abi.encode(TYPEHASH, hash))`), so an
 *   assertion for one account cannot be replayed on another account or chain.
 *
 * Storage is keyed by the account (`mapping(address account => PublicKey)`: slots `keccak256(account ‖ p)` and
 * `+1`), associated with the account under ERC-7562. Validation never reverts on a bad signature: it returns
 * SIG_VALIDATION_FAILED.
 *
 * Owner safety net: the same as `OwnerValidator`'s ({OwnerSafetyNet}): with it on, owner operations may only
 * schedule in the timelock (guard = this module, installed as an executor too), cancel, or cancel a recovery, not
 * while the guardians have locked the account, and ERC-1271 signatures are refused. The flag is the stored
 * configuration (`lockSource != 0`), one more account-keyed slot read by every owner operation.
 *
 * Guardian recovery ({recoveryCalls}): guardians approve an ECDSA address (the guardian module's EIP-712 approval
 * names an address, and whoever lost a passkey may not have a new one at hand). Completing the recovery has the
 * account install {OWNER_VALIDATOR} with that owner (or re-key it if it is still installed), make it the root
 * validator and uninstall this module, which deletes the passkey and its safety net: the lost passkey signs nothing
 * afterwards, and queued operations guarded by this module can no longer run. The recovered owner can rotate to a
 * new passkey with one owner operation.
 */
contract PasskeyValidator is IERC7579Validator, IReinsRecoverableRoot, OwnerSafetyNet {
    /// @notice A P-256 public key in affine coordinates.
    struct PublicKey {
        bytes32 qx;
        bytes32 qy;
    }

    /// @notice The ECDSA `OwnerValidator` a guardian recovery hands the account to.
    address public immutable OWNER_VALIDATOR;

    mapping(address account => PublicKey) private _keys;

    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant _MESSAGE_TYPEHASH = keccak256("ReinsMessage(bytes32 hash)");
    bytes32 private constant _NAME_HASH = keccak256("Reins");
    bytes32 private constant _VERSION_HASH = keccak256("1");

    /// @notice `(qx, qy)` is not a point on the P-256 curve (or a coordinate is not below the field prime).
    error PasskeyValidatorInvalidKey(bytes32 qx, bytes32 qy);
    /// @notice `onInstall` on an account that already has a passkey here.
    error PasskeyValidatorAlreadyInstalled(address account);
    /// @notice The calling account has no passkey here.
    error PasskeyValidatorNotInstalled(address account);
    /// @notice `onInstall` data is not `abi.encode(bytes32 qx, bytes32 qy)` (64 bytes); `length` is what came.
    error PasskeyValidatorInvalidInstallData(uint256 length);
    /// @notice The constructor's owner validator has no code.
    error PasskeyValidatorInvalidOwnerValidator(address ownerValidator);

    /// @notice The passkey of `account` changed (zero coordinates: removed).
    event PasskeyChanged(address indexed account, bytes32 qx, bytes32 qy);

    /// @param ownerValidator The ECDSA `OwnerValidator` guardian recoveries hand accounts to.
    constructor(address ownerValidator) {
        if (ownerValidator.code.length == 0) revert PasskeyValidatorInvalidOwnerValidator(ownerValidator);
        OWNER_VALIDATOR = ownerValidator;
    }

    /// @notice Install with `data` = `abi.encode(bytes32 qx, bytes32 qy)`, the passkey's public key. As an
    /// executor (for the safety net's queue) the data is empty and ignored.
    /// @param data The 64-byte encoded public key (validator), or nothing (executor).
    function onInstall(bytes calldata data) external {
        if (data.length == 0) return; // executor install (safety net); the validator install carries the key
        if (data.length != 64) revert PasskeyValidatorInvalidInstallData(data.length);
        if (_keys[msg.sender].qx != bytes32(0)) revert PasskeyValidatorAlreadyInstalled(msg.sender);
        (bytes32 qx, bytes32 qy) = abi.decode(data, (bytes32, bytes32));
        _setKey(msg.sender, qx, qy);
    }

    /// @notice Forget the calling account's passkey and safety net, unless only the executor role is being removed
    /// (the account still has this module as a validator then). (The account refuses to uninstall its root
    /// validator.)
    function onUninstall(bytes calldata) external {
        if (IERC7579ModuleConfig(msg.sender).isModuleInstalled(MODULE_TYPE_VALIDATOR, address(this), "")) return;
        delete _keys[msg.sender];
        _clearSafetyNet(msg.sender);
        emit PasskeyChanged(msg.sender, bytes32(0), bytes32(0));
    }

    /// @notice Rotate the calling account's passkey (the account calls this through an owner operation).
    /// @param qx The new key's x coordinate.
    /// @param qy The new key's y coordinate.
    function setPasskey(bytes32 qx, bytes32 qy) external {
        if (_keys[msg.sender].qx == bytes32(0)) revert PasskeyValidatorNotInstalled(msg.sender);
        _setKey(msg.sender, qx, qy);
    }

    /// @notice The passkey of `account` (zeros if none).
    /// @param account The smart account.
    /// @return qx The x coordinate.
    /// @return qy The y coordinate.
    function passkeyOf(address account) external view returns (bytes32 qx, bytes32 qy) {
        PublicKey memory key = _keys[account];
        return (key.qx, key.qy);
    }

    /// @notice Whether `account` has a passkey here.
    /// @param account The smart account.
    function isInitialized(address account) external view returns (bool) {
        return _keys[account].qx != bytes32(0);
    }

    /// @inheritdoc IReinsRecoverableRoot
    /// @dev Three calls of the account: install {OWNER_VALIDATOR} as a validator with `newOwner` (or, if it is
    /// still installed, `setOwner(newOwner)` on it), `setRootValidator(OWNER_VALIDATOR)`, and uninstall this module
    /// as a validator (which deletes the passkey and the safety net).
    function recoveryCalls(address account, address newOwner) external view returns (Execution[] memory calls) {
        address ownerValidator = OWNER_VALIDATOR;
        calls = new Execution[](3);
        calls[0] =
            IERC7579ModuleConfig(account).isModuleInstalled(MODULE_TYPE_VALIDATOR, ownerValidator, "")
                ? Execution(ownerValidator, 0, abi.encodeCall(IReinsOwnerSetter.setOwner, (newOwner)))
                : Execution(
                    account,
                    0,
                    abi.encodeCall(
                        IERC7579ModuleConfig.installModule,
                        (MODULE_TYPE_VALIDATOR, ownerValidator, abi.encodePacked(newOwner))
                    )
                );
        calls[1] = Execution(account, 0, abi.encodeCall(IReinsRootRotation.setRootValidator, (ownerValidator)));
        calls[2] = Execution(
            account,
            0,
            abi.encodeCall(IERC7579ModuleConfig.uninstallModule, (MODULE_TYPE_VALIDATOR, address(this), ""))
        );
    }

    /// @inheritdoc IERC7579Validator
    /// @dev Challenge = the userOpHash. Returns SIG_VALIDATION_FAILED for any bad or malformed assertion. With the
    /// safety net on, reverts for a call that must wait in the timelock and returns the lock end as `validAfter`.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        bool ok = _isSignedBy(_keys[msg.sender], userOpHash, userOp.signature);
        if (!_safetyNetOn(msg.sender)) {
            return ok ? ERC4337Utils.SIG_VALIDATION_SUCCESS : ERC4337Utils.SIG_VALIDATION_FAILED;
        }
        return _validateWithSafetyNet(userOp, ok);
    }

    /// @inheritdoc IERC7579Validator
    /// @dev Challenge = {messageDigest}`(msg.sender, hash)`; returns `0x1626ba7e` or `0xffffffff` (always the
    /// latter while the safety net is on: off-chain signatures would bypass the delay).
    function isValidSignatureWithSender(
        address,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
        if (_safetyNetOn(msg.sender)) return bytes4(0xffffffff);
        return
            _isSignedBy(_keys[msg.sender], messageDigest(msg.sender, hash), signature)
                ? bytes4(0x1626ba7e)
                : bytes4(0xffffffff);
    }

    /// @notice The digest (the WebAuthn challenge) the passkey signs for an ERC-1271 check of `hash` by `account`;
    /// identical to `OwnerValidator.messageDigest`.
    /// @param account The smart account asked to validate the signature.
    /// @param hash The application's hash.
    function messageDigest(address account, bytes32 hash) public view returns (bytes32) {
        bytes32 domain = keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, account));
        return keccak256(abi.encodePacked("\x19\x01", domain, keccak256(abi.encode(_MESSAGE_TYPEHASH, hash))));
    }

    /// @notice ERC-7579 module types: validator, and executor (for the safety net's queued operations).
    /// @param moduleTypeId The module type asked about.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_EXECUTOR;
    }

    /// @inheritdoc OwnerSafetyNet
    function _requireOwner(address account) internal view override {
        if (_keys[account].qx == bytes32(0)) revert PasskeyValidatorNotInstalled(account);
    }

    function _isSignedBy(
        PublicKey memory key,
        bytes32 challenge,
        bytes calldata signature
    ) private view returns (bool) {
        if (key.qx == bytes32(0)) return false;
        (bool decoded, WebAuthn.WebAuthnAuth calldata auth) = WebAuthn.tryDecodeAuth(signature);
        if (!decoded) return false;
        return WebAuthn.verify(abi.encodePacked(challenge), auth, key.qx, key.qy, true);
    }

    function _setKey(address account, bytes32 qx, bytes32 qy) private {
        // qx == 0 marks "not installed"; no P-256 point with x = 0 is a real passkey key.
        if (qx == bytes32(0) || !P256.isValidPublicKey(qx, qy)) revert PasskeyValidatorInvalidKey(qx, qy);
        _keys[account] = PublicKey(qx, qy);
        emit PasskeyChanged(account, qx, qy);
    }
}
