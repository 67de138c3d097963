/**
 * Read side of the event index: an account's events, its outflows per token per UTC day, and its timelock
 * requests with their status, all from the SQLite tables written by `sync.ts` (no RPC).
 */
import { Interface, getAddress } from "ethers";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { decodeExecution } from "../cli/commands/ops.js";
import { sessionsInterface } from "../monitor/decode.js";
import type { IndexedEvent, ModuleName } from "./decode.js";

/** Filter of {@link queryEvents}. */
export interface EventQuery {
  /** Only these kinds (see {@link IndexedEvent.kind}). */
  kinds?: string[];
  /** Only events in this block or later. */
  sinceBlock?: bigint;
  /** At most this many, the newest (the result stays oldest first). */
  limit?: number;
}

interface EventRow {
  block: number;
  log_index: number;
  account: string;
  tx_hash: string;
  time: number;
  contract: string;
  kind: string;
  session_id: string | null;
  token: string | null;
  amount: string | null;
  recipient: string | null;
  request_id: string | null;
  intent_hash: string | null;
  args: string;
}

function toEvent(r: EventRow): IndexedEvent {
  const e: IndexedEvent = {
    account: r.account,
    block: BigInt(r.block),
    logIndex: r.log_index,
    txHash: r.tx_hash,
    time: BigInt(r.time),
    contract: r.contract as ModuleName | "ERC20",
    kind: r.kind,
    args: JSON.parse(r.args) as Record<string, string>,
  };
  if (r.session_id !== null) e.sessionId = r.session_id;
  if (r.token !== null) e.token = r.token;
  if (r.amount !== null) e.amount = BigInt(r.amount);
  if (r.recipient !== null) e.recipient = r.recipient;
  if (r.request_id !== null) e.requestId = r.request_id;
  if (r.intent_hash !== null) e.intentHash = r.intent_hash;
  return e;
}

/** The indexed events of `account`, oldest first (block, then log index). */
export function queryEvents(db: DatabaseSync, account: string, q: EventQuery = {}): IndexedEvent[] {
  const where = ["account = ?"];
  const params: SQLInputValue[] = [getAddress(account)];
  if (q.kinds && q.kinds.length > 0) {
    where.push(`kind IN (${q.kinds.map(() => "?").join(", ")})`);
    params.push(...q.kinds);
  }
  if (q.sinceBlock !== undefined) {
    where.push("block >= ?");
    params.push(Number(q.sinceBlock));
  }
  let sql = `SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY block DESC, log_index DESC`;
  if (q.limit !== undefined) {
    sql += " LIMIT ?";
    params.push(Math.max(0, Math.floor(q.limit)));
  }
  const rows = db.prepare(sql).all(...params) as unknown as EventRow[];
  return rows.reverse().map(toEvent);
}

/** Outflow of one token on one UTC day. */
export interface DaySpend {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  /** Token (checksummed). */
  token: string;
  /** Sum of the transfers out of the account that day, base units. */
  amount: bigint;
}

/**
 * ERC-20 outflows of `account` per UTC day and token (every indexed `Transfer` from the account, agent or owner),
 * oldest day first, tokens in address order within a day.
 */
export function spendPerDay(db: DatabaseSync, account: string): DaySpend[] {
  const rows = db
    .prepare("SELECT time, token, amount FROM events WHERE account = ? AND kind = 'transfer' ORDER BY block, log_index")
    .all(getAddress(account)) as { time: number; token: string; amount: string }[];
  const sums = new Map<string, DaySpend>();
  for (const r of rows) {
    const day = new Date(r.time * 1000).toISOString().slice(0, 10);
    const key = `${day} ${r.token.toLowerCase()}`;
    const cur = sums.get(key);
    if (cur) cur.amount += BigInt(r.amount);
    else sums.set(key, { day, token: r.token, amount: BigInt(r.amount) });
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** Status of a timelock request, from its events (expiry is not an event: compare `expiresAt` with the time). */
export type RequestStatus = "queued" | "approved" | "executed" | "cancelled";

/** One timelock request of an account, as its events tell it. */
export interface RequestRow {
  account: string;
  requestId: string;
  status: RequestStatus;
  /** "approval" when it waits for the owner, else "delayed". */
  tier: "delayed" | "approval";
  approvalRequired: boolean;
  /** The module that runs it (AgentSessions for agent requests; zero for the owner's own delayed operations). */
  guard: string;
  /** Agent requests: the session, and what `OperationQueued` said. */
  sessionId?: string;
  token?: string;
  amount?: bigint;
  /** The limit the request hit (base units). */
  limit?: bigint;
  intentHash?: string;
  /** The receiver of a single ERC-20 `transfer` or ETH payment, when the operation is one. */
  recipient?: string;
  mode: string;
  executionCalldata: string;
  readyAt: bigint;
  expiresAt: bigint;
  /** Block, time and transaction of the scheduling. */
  queuedBlock: bigint;
  queuedTime: bigint;
  txHash: string;
  /** Block and time of the last status change. */
  updatedBlock: bigint;
  updatedTime: bigint;
}

const erc20Transfer = new Interface(["function transfer(address to, uint256 amount)"]);

function recipientOf(mode: string, payload: string): string | undefined {
  try {
    const calls = decodeExecution(mode, payload);
    if (calls.length !== 1) return undefined;
    const [c] = calls;
    if (c.data === "0x" || c.data === undefined) return getAddress(c.target);
    const parsed = erc20Transfer.parseTransaction({ data: c.data });
    return parsed ? getAddress(parsed.args[0] as string) : undefined;
  } catch {
    return undefined;
  }
}

/** Every timelock request of `account` (oldest first) with the status its events give. */
export function queryRequests(db: DatabaseSync, account: string): RequestRow[] {
  const rows = db
    .prepare(
      `SELECT * FROM events WHERE account = ? AND kind IN
        ('scheduled', 'queued', 'approved', 'requestExecuted', 'cancelled', 'queueCleared', 'guardedQueueCleared')
       ORDER BY block, log_index`,
    )
    .all(getAddress(account)) as unknown as EventRow[];
  const byId = new Map<string, RequestRow>();
  const setStatus = (r: RequestRow, status: RequestStatus, e: EventRow) => {
    r.status = status;
    r.updatedBlock = BigInt(e.block);
    r.updatedTime = BigInt(e.time);
  };
  for (const e of rows) {
    const args = JSON.parse(e.args) as Record<string, string>;
    const id = e.request_id ?? "";
    const r = byId.get(id);
    if (e.kind === "scheduled") {
      const approvalRequired = args.approvalRequired === "true";
      const row: RequestRow = {
        account: e.account,
        requestId: id,
        status: "queued",
        tier: approvalRequired ? "approval" : "delayed",
        approvalRequired,
        guard: getAddress(args.guard),
        mode: args.mode,
        executionCalldata: args.executionCalldata,
        readyAt: BigInt(args.readyAt),
        expiresAt: BigInt(args.expiresAt),
        queuedBlock: BigInt(e.block),
        queuedTime: BigInt(e.time),
        txHash: e.tx_hash,
        updatedBlock: BigInt(e.block),
        updatedTime: BigInt(e.time),
      };
      if (e.session_id) row.sessionId = e.session_id;
      const to = recipientOf(args.mode, args.executionCalldata);
      if (to) row.recipient = to;
      byId.set(id, row);
    } else if (e.kind === "queued" && r) {
      if (e.session_id) r.sessionId = e.session_id;
      if (e.token) r.token = e.token;
      if (e.amount !== null) r.amount = BigInt(e.amount);
      if (args.limit !== undefined) r.limit = BigInt(args.limit);
      if (e.intent_hash) r.intentHash = e.intent_hash;
    } else if (e.kind === "approved" && r) setStatus(r, "approved", e);
    else if (e.kind === "requestExecuted" && r) setStatus(r, "executed", e);
    else if (e.kind === "cancelled" && r) setStatus(r, "cancelled", e);
    else if (e.kind === "queueCleared" || e.kind === "guardedQueueCleared") {
      for (const p of byId.values()) {
        if (p.status !== "queued" && p.status !== "approved") continue;
        if (e.kind === "guardedQueueCleared" && p.guard.toLowerCase() !== args.guard.toLowerCase()) continue;
        setStatus(p, "cancelled", e);
      }
    }
  }
  return [...byId.values()];
}

/** Status of a security-delayed AgentSessions change (`voided`: a revoke-all came after it, it can never apply). */
export type ChangeStatus = "pending" | "applied" | "cancelled" | "voided";

/** One loosening change the account proposed (it applies after `readyAt`, through `applyChange(account, data)`). */
export interface ChangeRow {
  account: string;
  changeHash: string;
  status: ChangeStatus;
  readyAt: bigint;
  /** The AgentSessions call data that applies it. */
  data: string;
  /** The AgentSessions function it calls (`grantSession`, `renewSession`, `setBudget`, ...), when decodable. */
  call?: string;
  proposedBlock: bigint;
  proposedTime: bigint;
  txHash: string;
  updatedBlock: bigint;
  updatedTime: bigint;
}

/** Every security-delayed change of `account` (oldest first; a hash proposed again keeps its latest proposal). */
export function queryChanges(db: DatabaseSync, account: string): ChangeRow[] {
  const rows = db
    .prepare(
      `SELECT * FROM events WHERE account = ? AND contract = 'AgentSessions' AND kind IN
        ('changeProposed', 'changeApplied', 'changeCancelled', 'allSessionsRevoked') ORDER BY block, log_index`,
    )
    .all(getAddress(account)) as unknown as EventRow[];
  const byHash = new Map<string, ChangeRow>();
  for (const e of rows) {
    const args = JSON.parse(e.args) as Record<string, string>;
    const update = (r: ChangeRow, status: ChangeStatus) => {
      r.status = status;
      r.updatedBlock = BigInt(e.block);
      r.updatedTime = BigInt(e.time);
    };
    if (e.kind === "changeProposed") {
      const row: ChangeRow = {
        account: e.account,
        changeHash: args.changeHash,
        status: "pending",
        readyAt: BigInt(args.readyAt),
        data: args.data,
        proposedBlock: BigInt(e.block),
        proposedTime: BigInt(e.time),
        txHash: e.tx_hash,
        updatedBlock: BigInt(e.block),
        updatedTime: BigInt(e.time),
      };
      try {
        const call = sessionsInterface.parseTransaction({ data: args.data })?.name;
        if (call) row.call = call;
      } catch {
        /* not an AgentSessions call */
      }
      byHash.delete(args.changeHash); // re-proposed: the latest proposal, at the end
      byHash.set(args.changeHash, row);
      continue;
    }
    if (e.kind === "allSessionsRevoked") {
      for (const r of byHash.values()) if (r.status === "pending") update(r, "voided");
      continue;
    }
    const r = byHash.get(args.changeHash);
    if (r) update(r, e.kind === "changeApplied" ? "applied" : "cancelled");
  }
  return [...byHash.values()];
}
