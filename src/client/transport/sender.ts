/**
 * The transport seam of the Reins client: an {@link OperationSender} takes a signed UserOperation to the chain
 * (directly through `EntryPoint.handleOps`, or through an ERC-4337 bundler) and reports what happened.
 * {@link submitOperation} is the one pipeline both clients use: fill gas → estimate → sign → send → decode.
 */
import { getUserOpHash, type UserOperation } from "../../userop/userop.js";
import { ReinsError, decodeReinsError } from "../errors.js";

/** A log entry, as both `eth_getTransactionReceipt` and `eth_getUserOperationReceipt` carry it. */
export interface OperationLog {
  address: string;
  topics: readonly string[];
  data: string;
}

/** What a sender reports about an operation that was included on chain. */
export interface OperationResultRaw {
  userOpHash: string;
  txHash: string;
  /** `UserOperationEvent.success`: whether the execution phase succeeded. */
  success: boolean;
  actualGasUsed: bigint;
  actualGasCost: bigint;
  /** `UserOperationRevertReason.revertReason` when the execution reverted. */
  revertReason?: string;
  /** Logs of the operation (the whole bundle transaction's for {@link DirectSender}). */
  logs: readonly OperationLog[];
}

/** Gas limits an estimate suggests. */
export interface GasEstimate {
  callGasLimit: bigint;
  verificationGasLimit: bigint;
  preVerificationGas: bigint;
}

/** Takes signed UserOperations to the chain. Senders throw {@link ReinsError}s for refused operations. */
export interface OperationSender {
  /** The EntryPoint the sender submits to. */
  readonly entryPoint: string;
  /** Chain id (for the userOpHash). */
  chainId(): Promise<bigint>;
  /** Submit a signed operation and wait until it is included. Throws a {@link ReinsError} when refused. */
  send(op: UserOperation): Promise<OperationResultRaw>;
  /** Suggest gas limits for an operation signed with a well-formed stub signature. */
  estimate?(op: UserOperation): Promise<GasEstimate>;
}

/** Gas limits and fees to use when building an operation; unspecified ones come from defaults / the sender. */
export interface GasOverrides {
  callGasLimit?: bigint;
  verificationGasLimit?: bigint;
  preVerificationGas?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
}

/** Default limits when the sender cannot estimate (local chains): generous for every Reins operation. */
export const DEFAULT_GAS_LIMITS = {
  owner: { callGasLimit: 1_000_000n, verificationGasLimit: 1_500_000n, preVerificationGas: 60_000n },
  agent: { callGasLimit: 600_000n, verificationGasLimit: 400_000n, preVerificationGas: 60_000n },
} as const;

/** A fee source: anything with ethers' `getFeeData`. */
export interface FeeSource {
  /** Current fee data (EIP-1559 fields, or the legacy gas price). */
  getFeeData(): Promise<{ maxFeePerGas: bigint | null; maxPriorityFeePerGas: bigint | null; gasPrice: bigint | null }>;
}

/** EIP-1559 fees for an operation: the provider's suggestion, unless overridden. */
export async function operationFees(
  provider: FeeSource,
  overrides: GasOverrides = {},
): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
  if (overrides.maxFeePerGas !== undefined && overrides.maxPriorityFeePerGas !== undefined) {
    return { maxFeePerGas: overrides.maxFeePerGas, maxPriorityFeePerGas: overrides.maxPriorityFeePerGas };
  }
  const fee = await provider.getFeeData();
  const priority = overrides.maxPriorityFeePerGas ?? fee.maxPriorityFeePerGas ?? 1_000_000_000n;
  const max = overrides.maxFeePerGas ?? fee.maxFeePerGas ?? fee.gasPrice ?? 2_000_000_000n;
  return { maxFeePerGas: max < priority ? priority : max, maxPriorityFeePerGas: priority };
}

/** Everything {@link submitOperation} needs to turn an unsigned draft into an included operation. */
export interface SubmitRequest {
  sender: OperationSender;
  /** The operation with its final call data, nonce and fees; gas limits may still change. */
  draft: UserOperation;
  /** A well-formed stub signature for estimation. */
  stubSignature: string;
  /** Produce the real signature over the userOpHash of `op` (the final operation, gas limits included). */
  sign(userOpHash: string, op: UserOperation): Promise<string> | string;
  /** Limits the caller fixed: they are never replaced by the estimate. */
  fixed?: GasOverrides;
}

/**
 * The pipeline of every Reins operation: estimate (when the sender can), sign the final userOpHash, send,
 * and throw the decoded {@link ReinsError} when the execution phase reverted.
 */
export async function submitOperation(req: SubmitRequest): Promise<OperationResultRaw> {
  let op = req.draft;
  if (req.sender.estimate) {
    const estimate = await req.sender.estimate({ ...op, signature: req.stubSignature });
    op = {
      ...op,
      callGasLimit: req.fixed?.callGasLimit ?? estimate.callGasLimit,
      verificationGasLimit: req.fixed?.verificationGasLimit ?? estimate.verificationGasLimit,
      preVerificationGas: req.fixed?.preVerificationGas ?? estimate.preVerificationGas,
    };
  }
  const userOpHash = getUserOpHash(op, req.sender.entryPoint, await req.sender.chainId());
  op = { ...op, signature: await req.sign(userOpHash, op) };
  const result = await req.sender.send(op);
  if (!result.success) {
    const error: ReinsError = result.revertReason
      ? decodeReinsError(result.revertReason)
      : new ReinsError("execution", "the operation's execution phase failed without a reason");
    error.included = { userOpHash: result.userOpHash, txHash: result.txHash };
    throw error;
  }
  return result;
}
