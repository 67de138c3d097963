/**
 * Agent session signatures: `sessionId (32) ‖ intentHash (32) ‖ ECDSA (65)`, where the agent signs
 * `keccak256(abi.encode(userOpHash, sessionId, intentHash))` with its session key (raw digest, no prefix).
 */
import { AbiCoder, ZeroHash, concat, keccak256, type SigningKey } from "ethers";

/** The digest an agent signs: `keccak256(abi.encode(userOpHash, sessionId, intentHash))`. */
export function sessionDigest(userOpHash: string, sessionId: string, intentHash: string = ZeroHash): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "bytes32"], [userOpHash, sessionId, intentHash]),
  );
}

/** The session signature AgentSessions validates: `sessionId ‖ intentHash ‖ ecdsa` (32 + 32 + 65 bytes). */
export function encodeSessionSignature(sessionId: string, intentHash: string, ecdsa: string): string {
  return concat([sessionId, intentHash, ecdsa]);
}

/** Sign an operation's hash for a session with the agent's key. */
export function signSessionOp(key: SigningKey, userOpHash: string, sessionId: string, intentHash: string = ZeroHash) {
  return encodeSessionSignature(
    sessionId,
    intentHash,
    key.sign(sessionDigest(userOpHash, sessionId, intentHash)).serialized,
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
