/**
 * Actions through the owner's browser wallet (EIP-1193): check the wallet's network and account, get the unsigned
 * owner operation from the server, have the wallet sign its EIP-712 typed data (`eth_signTypedData_v4`), and
 * submit the signature. Every refusal is a sentence for the person that says whether anything was sent.
 */
import { ApiError, postJson, type Info } from "./api.js";
import { runPasskeyAction } from "./passkey.js";

/** An EIP-1193 provider (MetaMask-class wallets inject one as `window.ethereum`). */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

declare global {
  interface Window {
    ethereum?: Eip1193;
  }
}

/** A refusal to show as is. */
export class UserMessage extends Error {}

/** What the page asks the server for (see the server's `ConsoleAction`). */
export type Action =
  | { kind: "approve"; id: string }
  | { kind: "cancel"; id: string }
  | { kind: "pause" }
  | { kind: "unpause" }
  | { kind: "revoke"; sessionId: string }
  | { kind: "renew"; sessionId: string; validUntil: number }
  | { kind: "applyChange"; changeHash: string }
  | { kind: "cancelChange"; changeHash: string };

/** What `/api/prepare` answers. */
export interface Prepared {
  id: string;
  summary: string;
  owner: string;
  chainId: string;
  typedData: string;
  /** The EntryPoint v0.8 userOpHash: the passkey's WebAuthn challenge. */
  userOpHash: string;
}

/** What a sent action returns. */
export interface Sent {
  txHash: string;
  userOpHash: string;
}

/**
 * Run `action` as an owner operation signed by the wallet (ECDSA owner) or by the passkey (passkey owner, see
 * passkey.ts). Throws {@link UserMessage} with the reason.
 */
export async function runAction(action: Action, info: Info): Promise<Sent & { summary: string }> {
  if (info.ownerKind === "passkey") return runPasskeyAction(action);
  const eth = window.ethereum;
  if (!eth) throw new UserMessage("No browser wallet found (EIP-1193 window.ethereum); nothing was sent.");
  const chainHex = String(await eth.request({ method: "eth_chainId" }));
  if (BigInt(chainHex) !== BigInt(info.chainId)) {
    throw new UserMessage(
      `Wrong network: the wallet is on chain ${BigInt(chainHex)}, this account is on chain ${info.chainId}. ` +
        `Switch the wallet to chain ${info.chainId}; nothing was sent.`,
    );
  }
  const accounts = ((await eth.request({ method: "eth_requestAccounts" })) as string[]) ?? [];
  const from = accounts.find((a) => a.toLowerCase() === info.owner.toLowerCase());
  if (!from) {
    throw new UserMessage(
      `The wallet's account ${accounts[0] ?? "(none)"} is not the owner ${info.owner} of this account; nothing was sent.`,
    );
  }
  let prepared: Prepared;
  try {
    prepared = await postJson<Prepared>("prepare", { action });
  } catch (e) {
    throw new UserMessage(e instanceof ApiError ? e.message : `The console did not answer: ${String(e)}`);
  }
  let signature: string;
  try {
    signature = String(await eth.request({ method: "eth_signTypedData_v4", params: [from, prepared.typedData] }));
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === 4001) throw new UserMessage("You rejected the signature in the wallet; nothing was sent.");
    throw new UserMessage(`The wallet could not sign (${(e as Error).message ?? String(e)}); nothing was sent.`);
  }
  try {
    const sent = await postJson<Sent>("submit", { id: prepared.id, signature });
    return { ...sent, summary: prepared.summary };
  } catch (e) {
    throw new UserMessage(e instanceof ApiError ? e.message : `The console did not answer: ${String(e)}`);
  }
}
