/**
 * {@link DirectSender}: submits operations straight to `EntryPoint.handleOps` from an ethers Signer acting as the
 * bundler. Meant for local chains (Hardhat, anvil) and tests; validation failures come back as typed errors
 * decoded from `FailedOp` / `FailedOpWithRevert`.
 */
import { getAddress, type Signer } from "ethers";
import { ENTRYPOINT_V08 } from "../../infra/singletons.js";
import { getUserOpHash, packUserOp, type UserOperation } from "../../userop/userop.js";
import { IEntryPoint__factory, type IEntryPoint } from "../../../types/ethers-contracts/index.js";
import { ReinsError, decodeReinsError } from "../errors.js";
import type { OperationLog, OperationResultRaw, OperationSender } from "./sender.js";

/** Options for {@link DirectSender}. */
export interface DirectSenderOptions {
  /** EntryPoint address (default: canonical v0.8). */
  entryPoint?: string;
  /** Who receives the gas refund (default: the signer). */
  beneficiary?: string;
  /** Transaction gas limit (default: the operation's limits plus a margin). */
  gasLimit?: bigint;
}

/** Parse the EntryPoint events of one operation out of a bundle's logs. */
export function parseOperationLogs(
  entryPoint: IEntryPoint,
  logs: readonly OperationLog[],
  userOpHash: string,
): { success: boolean; actualGasUsed: bigint; actualGasCost: bigint; revertReason?: string } | undefined {
  let revertReason: string | undefined;
  let event: { success: boolean; actualGasUsed: bigint; actualGasCost: bigint } | undefined;
  for (const log of logs) {
    if (getAddress(log.address) !== getAddress(entryPoint.target as string)) continue;
    const parsed = entryPoint.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed || parsed.args.userOpHash !== userOpHash) continue;
    if (parsed.name === "UserOperationRevertReason") revertReason = parsed.args.revertReason;
    if (parsed.name === "UserOperationEvent") {
      event = {
        success: parsed.args.success,
        actualGasUsed: parsed.args.actualGasUsed,
        actualGasCost: parsed.args.actualGasCost,
      };
    }
  }
  return event && { ...event, revertReason };
}

/** Sends each operation in its own `handleOps` transaction from `signer`. */
export class DirectSender implements OperationSender {
  readonly entryPoint: string;
  private readonly contract: IEntryPoint;
  private chain?: bigint;

  constructor(
    readonly signer: Signer,
    private readonly options: DirectSenderOptions = {},
  ) {
    this.entryPoint = options.entryPoint ?? ENTRYPOINT_V08;
    this.contract = IEntryPoint__factory.connect(this.entryPoint, signer);
  }

  /** Chain id of the signer's provider (cached). */
  async chainId(): Promise<bigint> {
    if (this.chain === undefined) {
      if (!this.signer.provider) throw new ReinsError("transport", "DirectSender: the signer has no provider");
      this.chain = (await this.signer.provider.getNetwork()).chainId;
    }
    return this.chain;
  }

  /**
   * Simulate `handleOps` (so validation failures surface with their revert data), then send it and decode the
   * operation's `UserOperationEvent` / `UserOperationRevertReason`.
   */
  async send(op: UserOperation): Promise<OperationResultRaw> {
    const packed = packUserOp(op);
    const beneficiary = this.options.beneficiary ?? (await this.signer.getAddress());
    const userOpHash = getUserOpHash(op, this.entryPoint, await this.chainId());
    // An EIP-7702 first operation carries the EOA's authorisation: the bundle transaction sets the delegation
    // (type 4). Its simulation needs the delegation in place, so it is skipped until the delegation exists.
    const authorizationList = op.eip7702Auth ? [op.eip7702Auth] : undefined;
    if (!authorizationList || (await this.delegated(op.sender, op.eip7702Auth!.address))) {
      try {
        await this.contract.handleOps.staticCall([packed], beneficiary);
      } catch (e) {
        throw decodeReinsError(e);
      }
    }
    const gasLimit =
      this.options.gasLimit ??
      ((op.verificationGasLimit +
        op.callGasLimit +
        (op.paymasterVerificationGasLimit ?? 0n) +
        (op.paymasterPostOpGasLimit ?? 0n)) *
        11n) /
        10n +
        300_000n;
    const tx = await this.contract.handleOps([packed], beneficiary, {
      gasLimit,
      ...(authorizationList ? { authorizationList } : {}),
    });
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new ReinsError("transport", `handleOps transaction ${tx.hash} failed`);
    const parsed = parseOperationLogs(this.contract, receipt.logs, userOpHash);
    if (!parsed) throw new ReinsError("transport", `no UserOperationEvent for ${userOpHash} in ${tx.hash}`);
    return { userOpHash, txHash: receipt.hash, logs: receipt.logs, ...parsed };
  }

  /** Whether `account`'s code is already the EIP-7702 delegation to `delegate`. */
  private async delegated(account: string, delegate: string): Promise<boolean> {
    const code = await this.signer.provider!.getCode(account);
    return code.toLowerCase() === "0xef0100" + delegate.slice(2).toLowerCase();
  }
}
