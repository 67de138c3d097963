/**
 * A small ERC-4337 bundler client (EntryPoint v0.7/v0.8 JSON-RPC) over `fetch`.
 *
 * Each request has its own timeout. Transport failures (network errors, timeouts, HTTP 5xx/429) are retried
 * with exponential backoff; a JSON-RPC error answer is never retried, because resending a rejected
 * UserOperation cannot change the verdict. Rejections are parsed into typed errors (see `errors.ts`).
 */
import { toRpcUserOp, type UserOperation } from "../userop/userop.js";
import {
  BundlerTransportError,
  UserOperationTimeout,
  parseBundlerError,
  type JsonRpcErrorObject,
  type RevertDecoder,
} from "./errors.js";

/** Options for {@link BundlerClient}. */
export interface BundlerClientOptions {
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Extra attempts after a transport failure (default 2). */
  retries?: number;
  /** First backoff delay; doubles on each retry (default 200 ms). */
  retryDelayMs?: number;
  /** Turns revert bytes into domain errors; attached to `UserOperationRejected.decoded`. */
  decodeRevert?: RevertDecoder;
  /** `fetch` implementation (defaults to the global one). */
  fetch?: typeof fetch;
}

/** Gas limits suggested by `eth_estimateUserOperationGas`. */
export interface UserOperationGasEstimate {
  preVerificationGas: bigint;
  verificationGasLimit: bigint;
  callGasLimit: bigint;
  paymasterVerificationGasLimit?: bigint;
  paymasterPostOpGasLimit?: bigint;
}

/** A log entry as bundlers return it inside receipts (hex strings, as in `eth_getTransactionReceipt`). */
export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: string;
  [key: string]: unknown;
}

/** `eth_getUserOperationReceipt` result, with quantities as bigints. */
export interface UserOperationReceipt {
  userOpHash: string;
  entryPoint: string;
  sender: string;
  nonce: bigint;
  paymaster?: string;
  actualGasCost: bigint;
  actualGasUsed: bigint;
  success: boolean;
  reason?: string;
  logs: RpcLog[];
  receipt: {
    transactionHash: string;
    blockHash: string;
    blockNumber: bigint;
    gasUsed: bigint;
    effectiveGasPrice?: bigint;
    status: string;
    [key: string]: unknown;
  };
}

/** `eth_getUserOperationByHash` result. `userOperation` keeps the bundler's JSON-RPC (hex) form. */
export interface UserOperationByHash {
  userOperation: Record<string, string>;
  entryPoint: string;
  transactionHash: string;
  blockHash: string;
  blockNumber: bigint;
}

/** Retry only what a resend can fix: no answer, a timeout, or a server-side HTTP failure. */
class Retryable extends Error {
  override readonly name = "Retryable" as const;
  constructor(readonly failure: BundlerTransportError) {
    super(failure.message);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const big = (v: unknown): bigint => BigInt(v as string);
const optBig = (v: unknown): bigint | undefined => (v === undefined || v === null ? undefined : BigInt(v as string));

/** JSON-RPC client for an ERC-4337 bundler. */
export class BundlerClient {
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly fetchImpl: typeof fetch;
  readonly decodeRevert?: RevertDecoder;

  constructor(
    readonly url: string,
    options: BundlerClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.decodeRevert = options.decodeRevert;
  }

  /**
   * Send one JSON-RPC request. Throws {@link BundlerTransportError} after the retries are spent,
   * {@link UserOperationRejected} or {@link BundlerRpcError} when the bundler answers with an error.
   */
  async request<T>(method: string, params: unknown[] = []): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(method, params);
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        if (attempt >= this.retries) throw e.failure;
        await sleep(this.retryDelayMs * 2 ** attempt);
      }
    }
  }

  private async attempt<T>(method: string, params: unknown[]): Promise<T> {
    const body = JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: controller.signal,
      });
      text = await res.text();
    } catch (e) {
      const why = controller.signal.aborted ? `timed out after ${this.timeoutMs} ms` : (e as Error).message;
      throw new Retryable(new BundlerTransportError(`${method}: ${why}`, method, undefined, { cause: e }));
    } finally {
      clearTimeout(timer);
    }

    let payload: { result?: T; error?: JsonRpcErrorObject } | undefined;
    try {
      payload = JSON.parse(text) as typeof payload;
    } catch {
      payload = undefined;
    }
    // A JSON-RPC error is an answer, whatever the HTTP status (some bundlers send 400/500 with it): never retry.
    if (payload?.error) throw parseBundlerError(method, payload.error, this.decodeRevert);
    if (res.status >= 500 || res.status === 429) {
      throw new Retryable(new BundlerTransportError(`${method}: HTTP ${res.status}`, method, res.status));
    }
    if (!res.ok || payload === undefined || !("result" in payload)) {
      throw new BundlerTransportError(
        `${method}: unexpected answer (HTTP ${res.status}): ${text.slice(0, 200)}`,
        method,
        res.status,
      );
    }
    return payload.result as T;
  }

  /** `eth_supportedEntryPoints`. */
  async supportedEntryPoints(): Promise<string[]> {
    return this.request<string[]>("eth_supportedEntryPoints");
  }

  /** `eth_chainId` as seen by the bundler. */
  async chainId(): Promise<bigint> {
    return big(await this.request<string>("eth_chainId"));
  }

  /**
   * `eth_estimateUserOperationGas`. The signature must be well-formed for the account (a stub of the right
   * length); the bundler simulates with it.
   */
  async estimateUserOperationGas(op: UserOperation, entryPoint: string): Promise<UserOperationGasEstimate> {
    const r = await this.request<Record<string, string | null | undefined>>("eth_estimateUserOperationGas", [
      toRpcUserOp(op),
      entryPoint,
    ]);
    const estimate: UserOperationGasEstimate = {
      preVerificationGas: big(r.preVerificationGas),
      verificationGasLimit: big(r.verificationGasLimit),
      callGasLimit: big(r.callGasLimit),
    };
    const pmv = optBig(r.paymasterVerificationGasLimit);
    const pmp = optBig(r.paymasterPostOpGasLimit);
    if (pmv !== undefined) estimate.paymasterVerificationGasLimit = pmv;
    if (pmp !== undefined) estimate.paymasterPostOpGasLimit = pmp;
    return estimate;
  }

  /** `eth_sendUserOperation`; returns the userOpHash the bundler computed. */
  async sendUserOperation(op: UserOperation, entryPoint: string): Promise<string> {
    return this.request<string>("eth_sendUserOperation", [toRpcUserOp(op), entryPoint]);
  }

  /** `eth_getUserOperationReceipt`; `null` while the operation is not yet included. */
  async getUserOperationReceipt(userOpHash: string): Promise<UserOperationReceipt | null> {
    const r = await this.request<Record<string, unknown> | null>("eth_getUserOperationReceipt", [userOpHash]);
    if (!r) return null;
    const rc = r.receipt as Record<string, unknown>;
    return {
      ...(r as object),
      userOpHash: r.userOpHash as string,
      entryPoint: r.entryPoint as string,
      sender: r.sender as string,
      nonce: big(r.nonce),
      paymaster: (r.paymaster as string | undefined) ?? undefined,
      actualGasCost: big(r.actualGasCost),
      actualGasUsed: big(r.actualGasUsed),
      success: r.success === true || r.success === "true",
      reason: (r.reason as string | undefined) ?? undefined,
      logs: (r.logs as RpcLog[]) ?? [],
      receipt: {
        ...rc,
        transactionHash: rc.transactionHash as string,
        blockHash: rc.blockHash as string,
        blockNumber: big(rc.blockNumber),
        gasUsed: big(rc.gasUsed),
        effectiveGasPrice: optBig(rc.effectiveGasPrice),
        status: String(rc.status),
      },
    };
  }

  /** `eth_getUserOperationByHash`; `null` when the bundler does not know the hash. */
  async getUserOperationByHash(userOpHash: string): Promise<UserOperationByHash | null> {
    const r = await this.request<Record<string, unknown> | null>("eth_getUserOperationByHash", [userOpHash]);
    if (!r) return null;
    return {
      userOperation: r.userOperation as Record<string, string>,
      entryPoint: r.entryPoint as string,
      transactionHash: r.transactionHash as string,
      blockHash: r.blockHash as string,
      blockNumber: big(r.blockNumber),
    };
  }

  /** Poll `eth_getUserOperationReceipt` until it is non-null; throws {@link UserOperationTimeout} at the deadline. */
  async waitForUserOperationReceipt(
    userOpHash: string,
    { timeoutMs = 30_000, pollMs = 100 }: { timeoutMs?: number; pollMs?: number } = {},
  ): Promise<UserOperationReceipt> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const receipt = await this.getUserOperationReceipt(userOpHash);
      if (receipt) return receipt;
      const left = deadline - Date.now();
      if (left <= 0) throw new UserOperationTimeout(userOpHash, timeoutMs);
      await sleep(Math.min(pollMs, left));
    }
  }

  /** `debug_bundler_setBundlingMode` ("auto" bundles on its own; "manual" waits for {@link sendBundleNow}). */
  async setBundlingMode(mode: "auto" | "manual"): Promise<void> {
    await this.request<unknown>("debug_bundler_setBundlingMode", [mode]);
  }

  /** `debug_bundler_sendBundleNow`: bundle what the mempool holds right away. Returns what the bundler returns. */
  async sendBundleNow(): Promise<unknown> {
    return this.request<unknown>("debug_bundler_sendBundleNow");
  }
}
