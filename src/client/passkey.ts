/**
 * Passkey (WebAuthn P-256) owner signatures for an account whose root validator is `PasskeyValidator`: encode a
 * WebAuthn assertion (what `navigator.credentials.get` returns) into the validator's signature format, with low-s
 * normalisation, and sign owner UserOperations and ERC-1271 messages with a {@link PasskeySigner}.
 */
import {
  AbiCoder,
  concat,
  decodeBase64,
  getBytes,
  hexlify,
  keccak256,
  toUtf8Bytes,
  toUtf8String,
  type BytesLike,
} from "ethers";
import { getUserOpHash, type UserOperation } from "../userop/userop.js";

/** Order of the P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A P-256 signature as two integers. */
export interface P256Signature {
  /** The signature's r (1..n-1). */
  r: bigint;
  /** The signature's s (1..n-1; normalised to at most n/2 before encoding). */
  s: bigint;
}

/**
 * A WebAuthn assertion as an authenticator returns it (`AuthenticatorAssertionResponse`): the raw authenticator
 * data, the client data JSON (bytes or text), and the signature, either DER (as browsers return it) or `{r, s}`.
 */
export interface PasskeyAssertion {
  /** `rpIdHash (32) ‖ flags (1) ‖ signCount (4) ‖ …`, as the authenticator returned it. */
  authenticatorData: BytesLike;
  /** The client data JSON, as bytes (`response.clientDataJSON`) or as text. */
  clientDataJSON: BytesLike | string;
  /** DER (browsers), raw 64-byte `r ‖ s`, or `{r, s}`. */
  signature: BytesLike | P256Signature;
}

/**
 * Signs a WebAuthn challenge with a passkey: in a browser, a wrapper around
 * `navigator.credentials.get({ publicKey: { challenge, allowCredentials, userVerification: "required" } })`.
 * The challenge is the 32 raw bytes the validator expects (the userOpHash, or {@link passkeyMessageDigest}).
 */
export type PasskeySigner = (challenge: Uint8Array) => Promise<PasskeyAssertion>;

/** The assertion cannot be encoded: `reason` says what is wrong. */
export class PasskeyAssertionError extends Error {
  override readonly name = "PasskeyAssertionError" as const;
  constructor(
    /** What is wrong with the assertion. */
    readonly reason: string,
  ) {
    super(`invalid passkey assertion: ${reason}`);
  }
}

/** Parse a DER-encoded ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`) into `{r, s}`. */
export function parseDerSignature(der: BytesLike): P256Signature {
  const b = getBytes(der);
  let i = 0;
  const expect = (tag: number) => {
    if (b[i++] !== tag) throw new PasskeyAssertionError(`DER: expected tag 0x${tag.toString(16)} at byte ${i - 1}`);
  };
  const length = () => {
    const first = b[i++];
    if (first === undefined) throw new PasskeyAssertionError("DER: truncated");
    if (first < 0x80) return first;
    if (first !== 0x81) throw new PasskeyAssertionError(`DER: unsupported length form 0x${first.toString(16)}`);
    const n = b[i++];
    if (n === undefined) throw new PasskeyAssertionError("DER: truncated");
    return n;
  };
  const integer = () => {
    expect(0x02);
    const n = length();
    if (n === 0 || n > 33 || i + n > b.length) throw new PasskeyAssertionError(`DER: bad integer length ${n}`);
    const value = BigInt(hexlify(b.slice(i, i + n)));
    i += n;
    return value;
  };
  expect(0x30);
  const total = length();
  if (i + total !== b.length) throw new PasskeyAssertionError(`DER: sequence length ${total}, ${b.length - i} left`);
  const r = integer();
  const s = integer();
  if (i !== b.length) throw new PasskeyAssertionError(`DER: ${b.length - i} trailing bytes`);
  return { r, s };
}

/** Low-s normalisation: `s > n/2` becomes `n - s` (the validator, like OpenZeppelin's `P256`, rejects high s). */
export function normalizeP256Signature(sig: P256Signature): P256Signature {
  if (sig.r <= 0n || sig.r >= P256_N || sig.s <= 0n || sig.s >= P256_N) {
    throw new PasskeyAssertionError(`r or s out of range (1..n-1)`);
  }
  return { r: sig.r, s: sig.s > P256_N / 2n ? P256_N - sig.s : sig.s };
}

function signatureOf(signature: PasskeyAssertion["signature"]): P256Signature {
  if (typeof signature === "object" && "r" in signature && "s" in signature) return signature;
  const bytes = getBytes(signature);
  // 64 bytes: raw r ‖ s (IEEE P1363), as some authenticator libraries return it; otherwise DER.
  if (bytes.length === 64) {
    return { r: BigInt(hexlify(bytes.slice(0, 32))), s: BigInt(hexlify(bytes.slice(32))) };
  }
  return parseDerSignature(bytes);
}

function clientDataText(clientDataJSON: PasskeyAssertion["clientDataJSON"]): string {
  if (typeof clientDataJSON === "string" && !/^0x([0-9a-fA-F]{2})*$/.test(clientDataJSON)) return clientDataJSON;
  return toUtf8String(getBytes(clientDataJSON));
}

/**
 * Encode an assertion as the `PasskeyValidator` signature:
 * `abi.encode(r, s, challengeIndex, typeIndex, authenticatorData, clientDataJSON)` with a low `s`.
 * @throws PasskeyAssertionError when the client data has no `"challenge":"` or `"type":"` entry or the
 * signature cannot be parsed.
 */
export function encodePasskeySignature(assertion: PasskeyAssertion): string {
  const json = clientDataText(assertion.clientDataJSON);
  const bytes = toUtf8Bytes(json);
  // Indices are byte offsets in the UTF-8 client data, as the contract reads them.
  const indexOf = (needle: string) => {
    const n = toUtf8Bytes(needle);
    outer: for (let i = 0; i + n.length <= bytes.length; i++) {
      for (let j = 0; j < n.length; j++) if (bytes[i + j] !== n[j]) continue outer;
      return i;
    }
    throw new PasskeyAssertionError(`clientDataJSON has no ${needle} entry`);
  };
  const challengeIndex = indexOf('"challenge":"');
  const typeIndex = indexOf('"type":"');
  const { r, s } = normalizeP256Signature(signatureOf(assertion.signature));
  return AbiCoder.defaultAbiCoder().encode(
    ["bytes32", "bytes32", "uint256", "uint256", "bytes", "string"],
    [toWord(r), toWord(s), challengeIndex, typeIndex, hexlify(assertion.authenticatorData), json],
  );
}

function toWord(v: bigint): string {
  return "0x" + v.toString(16).padStart(64, "0");
}

/**
 * `PasskeyValidator.messageDigest(account, hash)` computed off chain: the ERC-1271 challenge, bound to the account
 * and the chain (the same digest as the ECDSA `OwnerValidator`).
 */
export function passkeyMessageDigest(account: string, hash: BytesLike, chainId: bigint): string {
  const abi = AbiCoder.defaultAbiCoder();
  const domain = keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "address"],
      [
        keccak256(toUtf8Bytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")),
        keccak256(toUtf8Bytes("Reins")),
        keccak256(toUtf8Bytes("1")),
        chainId,
        account,
      ],
    ),
  );
  const struct = keccak256(
    abi.encode(["bytes32", "bytes32"], [keccak256(toUtf8Bytes("ReinsMessage(bytes32 hash)")), hexlify(hash)]),
  );
  return keccak256(concat(["0x1901", domain, struct]));
}

/**
 * Sign an owner UserOperation of an account whose root validator is `PasskeyValidator`: the challenge is the
 * EntryPoint v0.8 userOpHash. The operation's nonce key must name the passkey validator (top 20 bytes of the key).
 * @returns The operation with `signature` set.
 */
export async function signUserOpWithPasskey(
  op: UserOperation,
  signer: PasskeySigner,
  entryPoint: string,
  chainId: bigint,
): Promise<UserOperation> {
  const challenge = getBytes(getUserOpHash(op, entryPoint, chainId));
  return { ...op, signature: encodePasskeySignature(await signer(challenge)) };
}

/**
 * An ERC-1271 signature for `account.isValidSignature(hash, signature)`: the validator address followed by the
 * encoded assertion over {@link passkeyMessageDigest}.
 */
export async function signMessageWithPasskey(
  account: string,
  validator: string,
  hash: BytesLike,
  chainId: bigint,
  signer: PasskeySigner,
): Promise<string> {
  const challenge = getBytes(passkeyMessageDigest(account, hash, chainId));
  return concat([validator, encodePasskeySignature(await signer(challenge))]);
}

/** What the client data of an assertion says it signed: its `type` and the challenge as hex bytes. */
export interface AssertionClientData {
  /** `"webauthn.get"` for an assertion. */
  type: string;
  /** The decoded (base64url) challenge, `0x`-hex. */
  challenge: string;
  /** The origin the browser reports (not checked on chain). */
  origin: string;
}

/**
 * Read the client data JSON of an assertion (to check, before sending anything, that the passkey signed the
 * challenge it was asked to sign).
 * @throws PasskeyAssertionError when it is not JSON or has no string `type` / `challenge`.
 */
export function assertionClientData(clientDataJSON: PasskeyAssertion["clientDataJSON"]): AssertionClientData {
  let parsed: { type?: unknown; challenge?: unknown; origin?: unknown };
  try {
    parsed = JSON.parse(clientDataText(clientDataJSON)) as typeof parsed;
  } catch {
    throw new PasskeyAssertionError("clientDataJSON is not JSON");
  }
  if (typeof parsed.type !== "string" || typeof parsed.challenge !== "string") {
    throw new PasskeyAssertionError("clientDataJSON has no string type or challenge");
  }
  if (!/^[A-Za-z0-9_-]*$/.test(parsed.challenge)) throw new PasskeyAssertionError("challenge is not base64url");
  return {
    type: parsed.type,
    challenge: hexlify(base64urlBytes(parsed.challenge)),
    origin: typeof parsed.origin === "string" ? parsed.origin : "",
  };
}

function base64urlBytes(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return decodeBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
}
