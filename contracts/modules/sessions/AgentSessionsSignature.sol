// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title AgentSessionsSignature
 * @notice The session signature layout and what a session key signs: `sessionId (32) ‖ intentHash (32) ‖ ECDSA
 * (65)` over the EIP-712 `SessionOperation(userOpHash, sessionId, intentHash)` in the domain "Reins
 * AgentSessions", version "1", of this module.
 */
abstract contract AgentSessionsSignature is EIP712 {
    /// @dev Byte length of a session signature and the offsets of its parts.
    uint256 internal constant _SIG_LENGTH = 129;
    uint256 internal constant _SIG_SESSION_ID = 0;
    uint256 internal constant _SIG_INTENT_HASH = 32;
    uint256 internal constant _SIG_ECDSA = 64;

    /// @notice EIP-712 type of what a session key signs (domain "Reins AgentSessions", version "1", this module).
    bytes32 public constant SESSION_OPERATION_TYPEHASH = keccak256(
        "SessionOperation(bytes32 userOpHash,bytes32 sessionId,bytes32 intentHash)"
    );

    constructor() EIP712("Reins AgentSessions", "1") {}

    /// @notice The EIP-712 digest a session key signs for an operation (`SessionOperation` in this module's domain).
    function sessionOperationDigest(
        bytes32 userOpHash,
        bytes32 sessionId,
        bytes32 intentHash
    ) external view returns (bytes32) {
        return _sessionOperationDigest(userOpHash, sessionId, intentHash);
    }

    /// @dev The session id of a session signature (callers checked its length).
    function _signedSessionId(bytes calldata signature) internal pure returns (bytes32) {
        return bytes32(signature[_SIG_SESSION_ID:_SIG_INTENT_HASH]);
    }

    /// @dev The intent hash of a session signature (callers checked its length).
    function _signedIntentHash(bytes calldata signature) internal pure returns (bytes32) {
        return bytes32(signature[_SIG_INTENT_HASH:_SIG_ECDSA]);
    }

    /// @dev Whether `signature` (of length {_SIG_LENGTH}) is `agent`'s over `userOpHash`.
    function _signedBy(bytes calldata signature, bytes32 userOpHash, address agent) internal view returns (bool) {
        bytes32 digest = _sessionOperationDigest(userOpHash, _signedSessionId(signature), _signedIntentHash(signature));
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(
            digest,
            signature[_SIG_ECDSA:_SIG_LENGTH]
        );
        return err == ECDSA.RecoverError.NoError && signer != address(0) && signer == agent;
    }

    function _sessionOperationDigest(
        bytes32 userOpHash,
        bytes32 sessionId,
        bytes32 intentHash
    ) internal view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(SESSION_OPERATION_TYPEHASH, userOpHash, sessionId, intentHash)));
    }
}
