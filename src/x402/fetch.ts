/**
 * `fetch` that pays x402 (HTTP 402) endpoints from an agent session, through the x402 packages' own client
 * (`@x402/fetch`, `@x402/core`, `@x402/evm` exact scheme) with {@link reinsX402Signer} as its signer.
 */
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { AgentSession } from "../client/agent.js";
import { reinsX402Signer, type X402SignerOptions } from "./signer.js";

/** Options of {@link reinsPaymentFetch}. */
export interface PaymentFetchOptions extends X402SignerOptions {
  /** The underlying fetch (default `globalThis.fetch`). */
  fetch?: typeof globalThis.fetch;
}

/**
 * A `fetch` that answers an x402 `exact` payment request on the session's chain by paying for the EIP-3009
 * authorization on chain first (see {@link reinsX402Signer}); a refused or queued payment rejects the fetch
 * before any payment reaches the server.
 *
 * @example
 * ```ts
 * const paidFetch = await reinsPaymentFetch(session, { intent: "weather for Paris" });
 * const res = await paidFetch("https://api.example/weather?city=Paris");
 * ```
 */
export async function reinsPaymentFetch(
  session: AgentSession,
  options: PaymentFetchOptions = {},
): Promise<typeof globalThis.fetch> {
  const chainId = await session.sender.chainId();
  // The x402 client's own spend controls (default assets only, $1 per payment) are off: the session's on-chain
  // scope and budgets are the authority, and they are checked before anything is signed.
  const client = x402Client.fromConfig({
    schemes: [{ network: `eip155:${chainId}`, client: new ExactEvmScheme(reinsX402Signer(session, options)) }],
    spendControls: false,
  });
  return wrapFetchWithPayment(options.fetch ?? globalThis.fetch, client) as typeof globalThis.fetch;
}
