/**
 * {@link IndexedConsoleData}: the console's {@link ConsoleData} read from the shared SQLite event index
 * (`src/indexer`, {@link EventIndex}) instead of scanning logs from block 0. Every read first brings the index up
 * to the chain head (`sync`, incremental); pending requests get their live state from the timelock (expiry and
 * approval are not all events).
 */
import { getAddress, type Provider } from "ethers";
import { ReinsTimelock__factory } from "../../types/ethers-contracts/index.js";
import { QUEUE_STATES } from "../client/errors.js";
import type { QueuedOperation } from "../client/actions/queue.js";
import type { EventIndex, IndexedEvent } from "../indexer/index.js";
import {
  TIER_NAMES,
  type ActivityEvent,
  type ActivityKind,
  type ConsoleData,
  type PendingChange,
  type SpendDay,
} from "./data.js";

const KINDS: Record<string, ActivityKind> = {
  executed: "executed",
  spend: "spend",
  queued: "queued",
  approved: "approved",
  requestExecuted: "queue-executed",
  cancelled: "cancelled",
  breakerTripped: "breaker-tripped",
  paused: "paused",
  unpaused: "unpaused",
  sessionGranted: "granted",
  sessionRevoked: "revoked",
};

const BREAKER_RULES = ["spend velocity", "operations", "new recipients"] as const;

const tierOf = (v: string | undefined) => (v === undefined ? undefined : (TIER_NAMES[Number(v)] ?? "instant"));
const big = (v: string | undefined) => (v === undefined ? undefined : BigInt(v));

/** One indexed event as a timeline entry (`null` for kinds the console does not show). */
export function activityOf(e: IndexedEvent): ActivityEvent | null {
  const kind = KINDS[e.kind];
  if (!kind) return null;
  const a = e.args;
  const out: ActivityEvent = {
    kind,
    blockNumber: Number(e.block),
    timestamp: Number(e.time),
    txHash: e.txHash,
    logIndex: e.logIndex,
  };
  if (e.sessionId) out.sessionId = e.sessionId;
  if (e.requestId) out.requestId = e.requestId;
  if (e.intentHash) out.intentHash = e.intentHash;
  if (e.token) out.token = getAddress(e.token);
  if (e.amount !== undefined) out.amount = e.amount;
  const tier = tierOf(a.tier);
  if (tier) out.tier = tier;
  if (kind === "queued") out.limit = big(a.limit);
  if (kind === "breaker-tripped") {
    out.rule = BREAKER_RULES[Number(a.rule)] ?? "operations";
    out.token = getAddress(a.token);
    out.amount = big(a.value);
    out.limit = big(a.limit);
  }
  if (kind === "granted" && a.agent) out.by = getAddress(a.agent);
  if ((kind === "paused" || kind === "revoked" || kind === "cancelled") && a.by) out.by = getAddress(a.by);
  return out;
}

/** {@link ConsoleData} over an {@link EventIndex} that follows the account. */
export class IndexedConsoleData implements ConsoleData {
  constructor(
    private readonly index: EventIndex,
    private readonly provider: Provider,
    private readonly timelock: string,
  ) {}

  async events(account: string): Promise<ActivityEvent[]> {
    await this.index.sync();
    const out: ActivityEvent[] = [];
    for (const e of this.index.events(account)) {
      const a = activityOf(e);
      if (a) out.push(a);
    }
    return out;
  }

  /** Outflows of the account per token per UTC day (the index's ERC-20 `Transfer`s from the account). */
  async spendPerDay(account: string): Promise<SpendDay[]> {
    await this.index.sync();
    return this.index.spendPerDay(account).map((d) => ({ day: d.day, token: getAddress(d.token), amount: d.amount }));
  }

  async requests(account: string): Promise<QueuedOperation[]> {
    await this.index.sync();
    const timelock = ReinsTimelock__factory.connect(this.timelock, this.provider);
    const out: QueuedOperation[] = [];
    for (const r of this.index.requests(account)) {
      let state: QueuedOperation["state"] = r.status === "executed" ? "executed" : "cancelled";
      let approved = r.status === "approved";
      if (r.status === "queued" || r.status === "approved") {
        const view = await timelock.getOperation(account, r.requestId);
        state = QUEUE_STATES[Number(view.state)];
        approved = view.approved;
      }
      out.push({
        id: r.requestId,
        state,
        tier: r.tier,
        approved,
        guard: r.guard,
        sessionId: r.sessionId ?? "0x" + "0".repeat(64),
        mode: r.mode,
        executionCalldata: r.executionCalldata,
        readyAt: r.readyAt,
        expiresAt: r.expiresAt,
        txHash: r.txHash,
      });
    }
    return out;
  }

  async pendingChanges(account: string): Promise<PendingChange[]> {
    await this.index.sync();
    return this.index
      .changes(account)
      .filter((c) => c.status === "pending")
      .map((c) => ({ changeHash: c.changeHash.toLowerCase(), readyAt: c.readyAt, data: c.data }));
  }
}
