/**
 * {@link BundlerSender}: submits operations through an ERC-4337 bundler ({@link BundlerClient}): gas estimate,
 * `eth_sendUserOperation`, then the receipt. Rejections are decoded into typed Reins errors.
 */
import { IEntryPoint__factory } from "../../../types/ethers-contracts/index.js";
import { BundlerClient, type BundlerClientOptions, type UserOperationGasEstimate } from "../../bundler/client.js";
import { ENTRYPOINT_V08 } from "../../infra/singletons.js";
import type { UserOperation } from "../../userop/userop.js";
import { decodeReinsError, reinsRevertDecoder } from "../errors.js";
import { parseOperationLogs } from "./direct.js";
import type { GasEstimate, OperationResultRaw, OperationSender } from "./sender.js";

/** Options for {@link BundlerSender}. */
export interface BundlerSenderOptions {
  /** EntryPoint address (default: canonical v0.8). */
  entryPoint?: string;
  /** Receipt wait (default 60 s) and poll interval (default 250 ms). */
  receiptTimeoutMs?: number;
  pollMs?: number;
  /**
   * Added to the estimated limits, in percent: one number for all three, or per limit. Default: 10 % on
   * `callGasLimit` only. Bundlers pad verification and preVerificationGas themselves (Alto: ×1.3 and ×1.1), but
   * return the call gas as measured, and an agent operation's call gas can grow between estimate and inclusion
   * (e.g. a fresh budget bucket). Padding everything again is waste that counts: AgentSessions charges the session's
   * gas budget with Σ limits × maxFeePerGas, and EntryPoint v0.8 bills 10 % of unused call gas above 40k.
   */
  gasMarginPercent?: bigint | Partial<Record<keyof GasEstimate, bigint>>;
  /**
   * Upper bound of the gas the margin adds to `callGasLimit` (default 20,000): EntryPoint v0.8 bills 10 % of the
   * unused call gas once it exceeds 40,000, so a 10 % margin on a 400k call would cost ~4k gas on every operation.
   */
  maxCallGasMargin?: bigint;
  /** Called after every successful estimate with the bundler's answer and the limits the client will use. */
  onEstimate?: (op: UserOperation, bundler: UserOperationGasEstimate, used: GasEstimate) => void;
}

/** Default {@link BundlerSenderOptions.gasMarginPercent}: 10 % on the call gas, nothing on what bundlers pad. */
export const DEFAULT_GAS_MARGIN_PERCENT: Readonly<Record<keyof GasEstimate, bigint>> = {
  callGasLimit: 10n,
  verificationGasLimit: 0n,
  preVerificationGas: 0n,
};

/**
 * Default {@link BundlerSenderOptions.maxCallGasMargin}. A bundler's estimate of a deep call (an owner grant runs
 * account → AgentSessions → delegatecall AgentSessionsAdmin) already leaves ~22k gas for the 63/64 rule; 15k on top
 * keeps the unused call gas under the 40k the EntryPoint v0.8 starts billing 10 % of.
 */
export const DEFAULT_MAX_CALL_GAS_MARGIN = 15_000n;

/** Sends operations through an ERC-4337 bundler. */
export class BundlerSender implements OperationSender {
  readonly entryPoint: string;
  readonly bundler: BundlerClient;
  private chain?: bigint;

  /** Wrap an existing {@link BundlerClient}, or pass a URL (the client gets the Reins revert decoder). */
  constructor(
    bundler: BundlerClient | string,
    private readonly options: BundlerSenderOptions & { client?: BundlerClientOptions } = {},
  ) {
    this.bundler =
      typeof bundler === "string"
        ? new BundlerClient(bundler, { decodeRevert: reinsRevertDecoder, ...options.client })
        : bundler;
    this.entryPoint = options.entryPoint ?? ENTRYPOINT_V08;
  }

  /** Chain id as the bundler reports it (cached). */
  async chainId(): Promise<bigint> {
    if (this.chain === undefined) this.chain = await this.bundler.chainId();
    return this.chain;
  }

  /** `eth_estimateUserOperationGas` with a margin; rejections become typed errors. */
  async estimate(op: UserOperation): Promise<GasEstimate> {
    const m = this.options.gasMarginPercent ?? DEFAULT_GAS_MARGIN_PERCENT;
    const pad = (v: bigint, key: keyof GasEstimate) =>
      (v * (100n + (typeof m === "bigint" ? m : (m[key] ?? 0n)))) / 100n;
    let e: UserOperationGasEstimate;
    try {
      e = await this.bundler.estimateUserOperationGas(op, this.entryPoint);
    } catch (err) {
      throw decodeReinsError(err);
    }
    const callMargin = pad(e.callGasLimit, "callGasLimit") - e.callGasLimit;
    const maxCallMargin = this.options.maxCallGasMargin ?? DEFAULT_MAX_CALL_GAS_MARGIN;
    const used: GasEstimate = {
      callGasLimit: e.callGasLimit + (callMargin < maxCallMargin ? callMargin : maxCallMargin),
      verificationGasLimit: pad(e.verificationGasLimit, "verificationGasLimit"),
      preVerificationGas: pad(e.preVerificationGas, "preVerificationGas"),
    };
    this.options.onEstimate?.(op, e, used);
    return used;
  }

  /** `eth_sendUserOperation`, then wait for the receipt. */
  async send(op: UserOperation): Promise<OperationResultRaw> {
    let userOpHash: string;
    try {
      userOpHash = await this.bundler.sendUserOperation(op, this.entryPoint);
    } catch (e) {
      throw decodeReinsError(e);
    }
    const receipt = await this.bundler.waitForUserOperationReceipt(userOpHash, {
      timeoutMs: this.options.receiptTimeoutMs ?? 60_000,
      pollMs: this.options.pollMs ?? 250,
    });
    const parsed = parseOperationLogs(IEntryPoint__factory.connect(this.entryPoint), receipt.logs, userOpHash);
    return {
      userOpHash,
      txHash: receipt.receipt.transactionHash,
      success: receipt.success,
      actualGasUsed: receipt.actualGasUsed,
      actualGasCost: receipt.actualGasCost,
      revertReason: parsed?.revertReason ?? receipt.reason,
      logs: receipt.logs,
    };
  }
}
