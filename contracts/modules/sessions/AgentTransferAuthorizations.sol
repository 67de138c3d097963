// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IERC7579Validator} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {AgentSessionsStorage} from "./AgentSessionsStorage.sol";

/**
 * @title AgentTransferAuthorizations
 * @notice EIP-3009 payments (x402 `exact`) from an agent session, with the budget charged on chain. A session key
 * never signs an ERC-1271 message; instead an agent operation calls {reserveTransferAuthorization} on this module.
 * Validation and execution treat that call as a transfer of `value` of `token` to `to` (scope, default deny,
 * budgets, tiers, breaker, pause, queueing: {CallPolicy-outflow}), and when it runs it records the EIP-712 digest of
 * exactly that `TransferWithAuthorization`, computed here with `from` = the account and the token's address as
 * `verifyingContract` (so the digest is valid on that token only). The account's ERC-1271 then accepts that one
 * digest, whoever asks (facilitators check it off chain before they settle), with the signature
 * `module ‖ RESERVED_AUTHORIZATION_MARKER ‖ sessionId` (84 bytes, so EIP-3009 tokens take the `bytes` path), while
 * the session is live and inside its window, until `validBefore`. Nothing else a session could produce is accepted.
 * @dev A reservation is spent when it is recorded: an authorization that expires unused does not give its budget
 * back (the payee could still settle it until `validBefore`, and a refund would need the token's word that it did
 * not). The token's own nonce stops a replay; revoking, pausing or letting the session expire stops an unsettled one.
 */
abstract contract AgentTransferAuthorizations is AgentSessionsStorage, IERC7579Validator {
    using TransientSlot for *;

    /// @notice First word of the ERC-1271 signature that presents a reserved authorization.
    bytes32 public constant RESERVED_AUTHORIZATION_MARKER = keccak256(
        "reins.AgentSessions.reservedTransferAuthorization"
    );

    bytes32 private constant _TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,"
        "uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );

    /// @notice An agent operation paid for an EIP-3009 authorization; `digest` is what the account now accepts.
    event TransferAuthorizationReserved(
        address indexed account,
        bytes32 indexed sessionId,
        address indexed token,
        address to,
        uint256 value,
        uint256 validBefore,
        bytes32 nonce,
        bytes32 digest
    );

    /// @notice `validBefore` is not in the future (or beyond 2^48): nothing could settle the authorization.
    error AgentSessionsAuthorizationExpired(uint256 validBefore, uint256 now_);

    /**
     * @notice Record the EIP-3009 `TransferWithAuthorization(from = account, to, value, validAfter, validBefore,
     * nonce)` of `token` (EIP-712 domain `nameHash`, `versionHash`, this chain, `token`) as paid by the running
     * agent operation. Only the account, while one of its agent operations executes; the call's spend was charged
     * to the session like a transfer before it got here.
     * @return digest The EIP-712 digest the account's ERC-1271 accepts.
     */
    function reserveTransferAuthorization(
        address token,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes32 nameHash,
        bytes32 versionHash
    ) external returns (bytes32 digest) {
        address account = msg.sender;
        if (!_agentExecuting(account)) revert AgentSessionsUnauthorized(account);
        if (validBefore <= block.timestamp || validBefore > type(uint48).max) {
            revert AgentSessionsAuthorizationExpired(validBefore, block.timestamp);
        }
        bytes32 sessionId = _RUNNING_SESSION.asBytes32().tload();
        bytes32 domain = keccak256(abi.encode(_DOMAIN_TYPEHASH, nameHash, versionHash, block.chainid, token));
        digest = MessageHashUtils.toTypedDataHash(
            domain,
            keccak256(
                abi.encode(_TRANSFER_WITH_AUTHORIZATION_TYPEHASH, account, to, value, validAfter, validBefore, nonce)
            )
        );
        _reservations[digest][account] = Reservation(sessionId, token, uint48(validBefore));
        emit TransferAuthorizationReserved(account, sessionId, token, to, value, validBefore, nonce, digest);
    }

    /**
     * @inheritdoc IERC7579Validator
     * @notice ERC-1271 for the account (`msg.sender`): the magic value only for a digest an agent operation
     * reserved (bound to its token by the EIP-712 domain), presented as `RESERVED_AUTHORIZATION_MARKER ‖ sessionId`,
     * before its `validBefore`, while that session is live (this epoch, not revoked, not paused) and in its window.
     */
    function isValidSignatureWithSender(
        address,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
        address account = msg.sender;
        if (signature.length != 64 || bytes32(signature[0:32]) != RESERVED_AUTHORIZATION_MARKER) return 0xffffffff;
        bytes32 sessionId = bytes32(signature[32:64]);
        Reservation memory r = _reservations[hash][account];
        if (r.sessionId != sessionId || r.validBefore <= block.timestamp) return 0xffffffff;
        // The same authority as every other path; a revert here is a refusal (the account returns 0xffffffff).
        _checkWindow(sessionId, _liveSession(account, sessionId));
        return 0x1626ba7e;
    }

    /// @notice A reserved authorization of `account` (zero fields if none).
    function reservation(address account, bytes32 digest) external view returns (Reservation memory) {
        return _reservations[digest][account];
    }
}
