// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";
import {PackedUserOperation} from "@openzeppelin/contracts/interfaces/IERC4337.sol";
import {IERC7579Validator, MODULE_TYPE_VALIDATOR} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {ERC4337Utils} from "@openzeppelin/contracts/account/utils/ERC4337Utils.sol";

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
 * Not covered here (see the report of issue 15): `OwnerValidator`'s safety net (delayed owner operations) and
 * guardian recovery, which calls `OwnerValidator.setOwner`.
 */
contract PasskeyValidator is IERC7579Validator {
    /// @notice A P-256 public key in affine coordinates.
    struct PublicKey {
        bytes32 qx;
        bytes32 qy;
    }

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

    /// @notice The passkey of `account` changed (zero coordinates: removed).
    event PasskeyChanged(address indexed account, bytes32 qx, bytes32 qy);

    /// @notice Install with `data` = `abi.encode(bytes32 qx, bytes32 qy)`, the passkey's public key.
    /// @param data The 64-byte encoded public key.
    function onInstall(bytes calldata data) external {
        if (data.length != 64) revert PasskeyValidatorInvalidInstallData(data.length);
        if (_keys[msg.sender].qx != bytes32(0)) revert PasskeyValidatorAlreadyInstalled(msg.sender);
        (bytes32 qx, bytes32 qy) = abi.decode(data, (bytes32, bytes32));
        _setKey(msg.sender, qx, qy);
    }

    /// @notice Forget the calling account's passkey. (The account refuses to uninstall its root validator.)
    function onUninstall(bytes calldata) external {
        delete _keys[msg.sender];
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

    /// @inheritdoc IERC7579Validator
    /// @dev Challenge = the userOpHash. Returns SIG_VALIDATION_FAILED for any bad or malformed assertion.
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external view returns (uint256) {
        return
            _isSignedBy(_keys[msg.sender], userOpHash, userOp.signature)
                ? ERC4337Utils.SIG_VALIDATION_SUCCESS
                : ERC4337Utils.SIG_VALIDATION_FAILED;
    }

    /// @inheritdoc IERC7579Validator
    /// @dev Challenge = {messageDigest}`(msg.sender, hash)`; returns `0x1626ba7e` or `0xffffffff`.
    function isValidSignatureWithSender(
        address,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
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

    /// @notice ERC-7579 module type: validator only.
    /// @param moduleTypeId The module type asked about.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
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
