/**
 * RPC plumbing for the Reins monitor: exponential backoff, interruptible sleep, and a JSON-RPC provider that
 * waits (with backoff, never crashing) until the endpoint answers `eth_chainId`.
 */
import { JsonRpcProvider, Network } from "ethers";
import type { JsonLogger } from "./log.js";

/** Backoff schedule: `baseMs × 2^(attempt-1)`, capped at `capMs`. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, capMs: 10_000 };

/** Delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, { baseMs, capMs }: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(capMs, baseMs * 2 ** exp);
}

/** Sleep `ms`, returning early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A short, single-line description of an RPC failure. */
export function describeError(e: unknown): string {
  const err = e as {
    shortMessage?: string;
    message?: string;
    code?: string;
    cause?: { code?: string; message?: string };
  };
  const base = err?.shortMessage ?? err?.message ?? String(e);
  const detail = err?.cause?.code ?? err?.cause?.message ?? err?.code;
  return (detail && !base.includes(detail) ? `${base} (${detail})` : base).split("\n")[0];
}

async function rawChainId(url: string, timeoutMs: number): Promise<bigint> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: string; error?: { message: string } };
  if (body.error || typeof body.result !== "string") throw new Error(body.error?.message ?? "no eth_chainId result");
  return BigInt(body.result);
}

/**
 * Wait until `url` answers `eth_chainId`, retrying with backoff and logging `rpc-error` lines, then return a
 * provider pinned to that chain (no background network detection, so later outages surface as request errors
 * that the monitor's loop retries). Returns `null` when `signal` aborts first.
 */
export async function connectProvider(
  url: string,
  log: JsonLogger,
  signal?: AbortSignal,
  backoff: BackoffOptions = DEFAULT_BACKOFF,
): Promise<JsonRpcProvider | null> {
  for (let attempt = 1; !signal?.aborted; attempt++) {
    try {
      const chainId = await rawChainId(url, 5_000);
      log.info("rpc-connected", { url, chainId: chainId.toString() });
      return new JsonRpcProvider(url, Network.from(chainId), {
        staticNetwork: true,
        batchMaxCount: 1,
        cacheTimeout: -1,
      });
    } catch (e) {
      const delayMs = backoffDelay(attempt, backoff);
      log.warn("rpc-error", { phase: "connect", attempt, delayMs, error: describeError(e) });
      await sleep(delayMs, signal);
    }
  }
  return null;
}
