/**
 * Actions of a passkey owner (the account's root validator is PasskeyValidator): get the unsigned owner operation
 * from the server, have the browser's passkey sign its userOpHash (`navigator.credentials.get`, the hash's 32 bytes
 * as the challenge, user verification required, relying party = this page's host), and submit the assertion; the
 * server encodes and checks it before sending. Every refusal is a sentence that says whether anything was sent.
 */
import { ApiError, postJson } from "./api.js";
import { UserMessage, type Action, type Prepared, type Sent } from "./wallet.js";

function hex(buffer: ArrayBuffer): string {
  return "0x" + [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function bytes(hexText: string): Uint8Array<ArrayBuffer> {
  const clean = hexText.replace(/^0x/, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Run `action` as an owner operation signed by the passkey. Throws {@link UserMessage} with the reason. */
export async function runPasskeyAction(action: Action): Promise<Sent & { summary: string }> {
  if (!window.isSecureContext || !navigator.credentials || !window.PublicKeyCredential) {
    throw new UserMessage(
      "This page cannot use passkeys (WebAuthn needs a secure context: open it as http://localhost or https); " +
        "nothing was sent.",
    );
  }
  let prepared: Prepared;
  try {
    prepared = await postJson<Prepared>("prepare", { action });
  } catch (e) {
    throw new UserMessage(e instanceof ApiError ? e.message : `The console did not answer: ${String(e)}`);
  }
  let credential: PublicKeyCredential | null;
  try {
    credential = (await navigator.credentials.get({
      publicKey: {
        challenge: bytes(prepared.userOpHash),
        rpId: location.hostname,
        userVerification: "required",
        timeout: 120_000,
      },
    })) as PublicKeyCredential | null;
  } catch (e) {
    const name = (e as DOMException).name;
    if (name === "NotAllowedError") {
      throw new UserMessage(
        "The passkey prompt was cancelled or no passkey of this account is here; nothing was sent.",
      );
    }
    throw new UserMessage(`The passkey could not sign (${(e as Error).message ?? String(e)}); nothing was sent.`);
  }
  if (!credential) throw new UserMessage("No passkey answered; nothing was sent.");
  const response = credential.response as AuthenticatorAssertionResponse;
  const assertion = {
    authenticatorData: hex(response.authenticatorData),
    clientDataJSON: hex(response.clientDataJSON),
    signature: hex(response.signature),
  };
  try {
    const sent = await postJson<Sent>("submit", { id: prepared.id, assertion });
    return { ...sent, summary: prepared.summary };
  } catch (e) {
    throw new UserMessage(e instanceof ApiError ? e.message : `The console did not answer: ${String(e)}`);
  }
}
