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
  /** Added to every estimated limit, in percent (default 10). */
  gasMarginPercent?: bigint;
  /** Called after every successful estimate with the bundler's answer and the limits the client will use. */
  onEstimate?: (op: UserOperation, bundler: UserOperationGasEstimate, used: GasEstimate) => void;
}

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
    const margin = 100n + (this.options.gasMarginPercent ?? 10n);
    try {
      const e = await this.bundler.estimateUserOperationGas(op, this.entryPoint);
      const used: GasEstimate = {
        callGasLimit: (e.callGasLimit * margin) / 100n,
        verificationGasLimit: (e.verificationGasLimit * margin) / 100n,
        preVerificationGas: (e.preVerificationGas * margin) / 100n,
      };
      this.options.onEstimate?.(op, e, used);
      return used;
    } catch (e) {
      throw decodeReinsError(e);
    }
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
