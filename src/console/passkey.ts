/**
 * The console's check of a passkey owner's signature: the page posts the WebAuthn assertion that
 * `navigator.credentials.get` returned for the operation's userOpHash; the server encodes it for PasskeyValidator
 * (src/client/passkey.ts) and, before anything is sent, checks that it signed this operation and that the account's
 * root validator accepts it (an `eth_call` of `validateUserOp` as the account: exactly what the EntryPoint runs).
 */
import { getBytes, hexlify, isHexString, type Provider } from "ethers";
import { PasskeyValidator__factory } from "../../types/ethers-contracts/index.js";
import {
  PasskeyAssertionError,
  assertionClientData,
  encodePasskeySignature,
  type PasskeyAssertion,
} from "../client/passkey.js";
import { packUserOp, type UserOperation } from "../userop/userop.js";
import { ActionRefused } from "./actions.js";

/** An assertion as the page posts it: every field `0x`-hex of the authenticator's bytes. */
export interface AssertionBody {
  /** `AuthenticatorAssertionResponse.authenticatorData`. */
  authenticatorData: string;
  /** `AuthenticatorAssertionResponse.clientDataJSON` (the UTF-8 bytes). */
  clientDataJSON: string;
  /** DER, as `AuthenticatorAssertionResponse.signature` gives it. */
  signature: string;
}

/** Parse the page's `assertion` (throws {@link ActionRefused} 400 when a field is missing or not hex). */
export function parseAssertion(body: unknown): PasskeyAssertion {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const field = (name: keyof AssertionBody) => {
    const v = b[name];
    if (typeof v !== "string" || !isHexString(v) || v.length < 4 || v.length > 2 + 2 * 4096) {
      throw new ActionRefused(400, "bad input", `assertion.${name}: expected 0x-hex bytes; nothing was sent`);
    }
    return getBytes(v);
  };
  return {
    authenticatorData: field("authenticatorData"),
    clientDataJSON: field("clientDataJSON"),
    signature: field("signature"),
  };
}

/**
 * The PasskeyValidator signature of `op` from `assertion`, once checked: the client data is a `webauthn.get` over
 * `userOpHash`, and the root validator `validator` returns success for it when called as `op.sender`.
 * @throws ActionRefused 400 "bad signature" (malformed assertion), 403 "wrong challenge" (another operation's
 * assertion) or 403 "not owner" (another passkey, or flags the validator refuses); nothing was sent.
 */
export async function checkedPasskeySignature(
  provider: Provider,
  validator: string,
  op: UserOperation,
  userOpHash: string,
  assertion: PasskeyAssertion,
): Promise<string> {
  let signature: string;
  let client: ReturnType<typeof assertionClientData>;
  try {
    client = assertionClientData(assertion.clientDataJSON);
    signature = encodePasskeySignature(assertion);
  } catch (e) {
    if (!(e instanceof PasskeyAssertionError)) throw e;
    throw new ActionRefused(400, "bad signature", `${e.message}; nothing was sent`);
  }
  if (client.type !== "webauthn.get") {
    throw new ActionRefused(
      403,
      "wrong challenge",
      `the passkey made a ${client.type}, not an assertion; nothing was sent`,
    );
  }
  if (client.challenge.toLowerCase() !== hexlify(userOpHash).toLowerCase()) {
    throw new ActionRefused(
      403,
      "wrong challenge",
      `the passkey signed challenge ${client.challenge.slice(0, 10)}…, not this operation's hash ` +
        `${userOpHash.slice(0, 10)}…; nothing was sent`,
    );
  }
  const v = PasskeyValidator__factory.createInterface();
  const data = v.encodeFunctionData("validateUserOp", [packUserOp({ ...op, signature }), userOpHash]);
  let result: bigint;
  try {
    result = BigInt(await provider.call({ to: validator, from: op.sender, data }));
  } catch (e) {
    throw new ActionRefused(
      403,
      "not owner",
      `the account's PasskeyValidator refuses the operation (${(e as Error).message.split("\n")[0]}); nothing was sent`,
    );
  }
  // validationData = validAfter (48 bits) ‖ validUntil (48 bits) ‖ aggregator (160 bits; 1 = signature failure)
  const failed = (result & ((1n << 160n) - 1n)) !== 0n;
  const validUntil = (result >> 160n) & ((1n << 48n) - 1n);
  const validAfter = result >> 208n;
  if (failed) {
    throw new ActionRefused(
      403,
      "not owner",
      "the passkey's assertion does not validate for this account (another passkey, or user verification " +
        "missing); nothing was sent",
    );
  }
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  if (now < validAfter || (validUntil !== 0n && now > validUntil)) {
    throw new ActionRefused(
      409,
      "locked",
      `the account's PasskeyValidator accepts owner operations only from ${validAfter} (chain time ${now}): ` +
        "the guardians locked the account; nothing was sent",
    );
  }
  return signature;
}
