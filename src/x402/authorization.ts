/**
 * EIP-3009 `TransferWithAuthorization` payments from a Reins account: the call an agent operation makes to reserve
 * one (AgentSessions `reserveTransferAuthorization`, charged to the session's budget like a transfer), its EIP-712
 * digest, and the ERC-1271 signature that presents the reservation to the token.
 */
import { Interface, TypedDataEncoder, concat, getAddress, id, type TypedDataDomain } from "ethers";
import type { Call } from "../account/encoding.js";

/** The fields of an EIP-3009 `TransferWithAuthorization`. */
export interface TransferAuthorization {
  /** The payer: the Reins account. */
  from: string;
  to: string;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  /** 32-byte nonce (random, one use per payer). */
  nonce: string;
}

/** The token's EIP-712 domain fields that are not fixed by the token address and the chain. */
export interface TokenDomain {
  name: string;
  version: string;
}

/** EIP-712 types of EIP-3009 `TransferWithAuthorization`. */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
};

/** First word of the ERC-1271 signature that presents a reservation (AgentSessions `RESERVED_AUTHORIZATION_MARKER`). */
export const RESERVED_AUTHORIZATION_MARKER = id("reins.AgentSessions.reservedTransferAuthorization");

const reserveAbi = new Interface([
  "function reserveTransferAuthorization(address token, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes32 nameHash, bytes32 versionHash) returns (bytes32)",
]);

/** The EIP-712 domain of `token` on `chainId` with its `name` and `version`. */
export function tokenTypedDomain(token: string, chainId: bigint, domain: TokenDomain): TypedDataDomain {
  return { name: domain.name, version: domain.version, chainId, verifyingContract: getAddress(token) };
}

/** The EIP-712 digest of `auth` for `token` (what the token asks the account's ERC-1271 about). */
export function transferAuthorizationDigest(
  token: string,
  chainId: bigint,
  domain: TokenDomain,
  auth: TransferAuthorization,
): string {
  return TypedDataEncoder.hash(tokenTypedDomain(token, chainId, domain), TRANSFER_WITH_AUTHORIZATION_TYPES, auth);
}

/** The call an agent operation makes to pay for `auth` (the `from` is the account running it). */
export function reserveAuthorizationCall(
  sessions: string,
  token: string,
  domain: TokenDomain,
  auth: TransferAuthorization,
): Call {
  return {
    target: getAddress(sessions),
    data: reserveAbi.encodeFunctionData("reserveTransferAuthorization", [
      getAddress(token),
      getAddress(auth.to),
      auth.value,
      auth.validAfter,
      auth.validBefore,
      auth.nonce,
      id(domain.name),
      id(domain.version),
    ]),
  };
}

/**
 * The signature the account's ERC-1271 accepts for a reserved authorization of session `sessionId`:
 * `sessions (20) ‖ marker (32) ‖ sessionId (32)` — 84 bytes, so EIP-3009 tokens take their `bytes` (ERC-1271) path.
 */
export function reservedAuthorizationSignature(sessions: string, sessionId: string): string {
  return concat([getAddress(sessions), RESERVED_AUTHORIZATION_MARKER, sessionId]);
}
