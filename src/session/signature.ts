/**
 * Agent session signatures: `sessionId (32) ‖ intentHash (32) ‖ ECDSA (65)`, where the agent signs the EIP-712
 * `SessionOperation(bytes32 userOpHash, bytes32 sessionId, bytes32 intentHash)` of the AgentSessions module
 * (domain "Reins AgentSessions", version "1", the chain, the module's address). Typed data lets any ethers `Signer`
 * (KMS, hardware, browser wallets) sign it, and shows the wallet what it signs.
 */
import { TypedDataEncoder, ZeroHash, concat, getAddress, type SigningKey, type TypedDataDomain } from "ethers";

/** Where a session signature is valid: the chain and the AgentSessions module. */
export interface SessionDomain {
  chainId: bigint;
  /** The AgentSessions module's address. */
  sessions: string;
}

/** EIP-712 types of what a session key signs. */
export const SESSION_OPERATION_TYPES = {
  SessionOperation: [
    { name: "userOpHash", type: "bytes32" },
    { name: "sessionId", type: "bytes32" },
    { name: "intentHash", type: "bytes32" },
  ],
} as const;

/** The EIP-712 domain of the AgentSessions module at `domain.sessions` on `domain.chainId`. */
export function sessionTypedDomain(domain: SessionDomain): TypedDataDomain {
  return {
    name: "Reins AgentSessions",
    version: "1",
    chainId: domain.chainId,
    verifyingContract: getAddress(domain.sessions),
  };
}

/** The message a session key signs for one operation. */
export function sessionOperationMessage(userOpHash: string, sessionId: string, intentHash: string = ZeroHash) {
  return { userOpHash, sessionId, intentHash };
}

/** The digest an agent signs: the EIP-712 hash of {@link sessionOperationMessage} in {@link sessionTypedDomain}. */
export function sessionDigest(
  domain: SessionDomain,
  userOpHash: string,
  sessionId: string,
  intentHash: string = ZeroHash,
): string {
  return TypedDataEncoder.hash(
    sessionTypedDomain(domain),
    { SessionOperation: [...SESSION_OPERATION_TYPES.SessionOperation] },
    sessionOperationMessage(userOpHash, sessionId, intentHash),
  );
}

/** The session signature AgentSessions validates: `sessionId ‖ intentHash ‖ ecdsa` (32 + 32 + 65 bytes). */
export function encodeSessionSignature(sessionId: string, intentHash: string, ecdsa: string): string {
  return concat([sessionId, intentHash, ecdsa]);
}

/** Sign an operation's hash for a session with the agent's raw key (tests, tools; the client takes any Signer). */
export function signSessionOp(
  key: SigningKey,
  domain: SessionDomain,
  userOpHash: string,
  sessionId: string,
  intentHash: string = ZeroHash,
) {
  return encodeSessionSignature(
    sessionId,
    intentHash,
    key.sign(sessionDigest(domain, userOpHash, sessionId, intentHash)).serialized,
  );
}

/**
 * Well-formed stub for gas estimation: a 65-byte signature that recovers to some address (not the agent), so
 * validation runs every policy check at full cost and returns SIG_VALIDATION_FAILED instead of reverting.
 */
export function stubSessionSignature(sessionId: string, intentHash: string = ZeroHash): string {
  const r = "0x" + "11".repeat(32);
  const s = "0x" + "22".repeat(32);
  return encodeSessionSignature(sessionId, intentHash, concat([r, s, "0x1b"]));
}
