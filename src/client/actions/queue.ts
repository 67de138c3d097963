/**
 * Reading and running the account's timelock queue: {@link listQueue} rebuilds the queue from
 * `OperationScheduled` logs plus each operation's live `state`; {@link executeQueued} runs a Ready one.
 */
import type { ReinsTimelock } from "../../../types/ethers-contracts/index.js";
import { QUEUE_STATES, ReinsError, decodeReinsError, type QueueStateName } from "../errors.js";

/** One operation of the timelock queue, with what is needed to execute it. */
export interface QueuedOperation {
  id: string;
  state: QueueStateName;
  /** "approval" when it waits for the owner, else "delayed". */
  tier: "delayed" | "approval";
  approved: boolean;
  guard: string;
  /** The session id for agent operations (the guard's context). */
  sessionId: string;
  mode: string;
  executionCalldata: string;
  readyAt: bigint;
  expiresAt: bigint;
  /** Transaction that scheduled it. */
  txHash: string;
}

/** Every operation `account` ever scheduled (oldest first), with its current state. */
export async function listQueue(
  timelock: ReinsTimelock,
  account: string,
  options: { fromBlock?: number; states?: QueueStateName[] } = {},
): Promise<QueuedOperation[]> {
  const logs = await timelock.queryFilter(timelock.filters.OperationScheduled(account), options.fromBlock ?? 0);
  const out: QueuedOperation[] = [];
  for (const log of logs) {
    const view = await timelock.getOperation(account, log.args.id);
    const state = QUEUE_STATES[Number(view.state)];
    if (options.states && !options.states.includes(state)) continue;
    out.push({
      id: log.args.id,
      state,
      tier: log.args.approvalRequired ? "approval" : "delayed",
      approved: view.approved,
      guard: log.args.guard,
      sessionId: log.args.context,
      mode: log.args.mode,
      executionCalldata: log.args.executionCalldata,
      readyAt: log.args.readyAt,
      expiresAt: log.args.expiresAt,
      txHash: log.transactionHash,
    });
  }
  return out;
}

/** One queued operation by id; throws {@link ReinsError} ("unknown request") when `account` never scheduled it. */
export async function findQueued(timelock: ReinsTimelock, account: string, id: string): Promise<QueuedOperation> {
  const found = (await listQueue(timelock, account)).find((q) => q.id === id);
  if (!found) throw new ReinsError("unknown request", `no queued operation ${id} for ${account}`, { id, account });
  return found;
}

/** Execute a Ready queued operation of `account` (permissionless) from the timelock's runner; returns the tx hash. */
export async function executeQueued(
  timelock: ReinsTimelock,
  account: string,
  queued: QueuedOperation,
): Promise<string> {
  try {
    const tx = await timelock.execute(account, queued.id, queued.mode, queued.executionCalldata);
    return (await tx.wait())!.hash;
  } catch (e) {
    throw decodeReinsError(e);
  }
}
