/**
 * {@link ConsoleData}: what the console's Activity and Inbox pages read about an account's history (its events,
 * spend per day, queued requests). One small interface so the source can change in one file: today
 * `IndexedConsoleData` (`indexData.ts`) reads them from the shared SQLite event index; another source implements the same three
 * methods.
 */
import type { QueuedOperation } from "../client/actions/queue.js";

/** Kinds of activity the timeline shows. */
export type ActivityKind =
  | "executed"
  | "queued"
  | "approved"
  | "queue-executed"
  | "cancelled"
  | "breaker-tripped"
  | "paused"
  | "unpaused"
  | "granted"
  | "revoked"
  | "spend";

/** One entry of the Activity timeline (decoded from one log). */
export interface ActivityEvent {
  kind: ActivityKind;
  blockNumber: number;
  /** Unix seconds of the block. */
  timestamp: number;
  txHash: string;
  logIndex: number;
  /** The session concerned, when the event names one. */
  sessionId?: string;
  /** The queued request concerned (`OperationQueued`, timelock events). */
  requestId?: string;
  /** The agent's intent hash (zero when none was given). */
  intentHash?: string;
  /** Token and amount in base units (spend, queued requests, breaker trips). */
  token?: string;
  amount?: bigint;
  /** The limit a queued request or a breaker trip hit, in base units. */
  limit?: bigint;
  /** `instant`, `delayed` or `approval` for executed / queued agent operations. */
  tier?: "instant" | "delayed" | "approval";
  /** The breaker rule that tripped: `spend velocity` (token amounts), `operations` or `new recipients` (counts). */
  rule?: "spend velocity" | "operations" | "new recipients";
  /** Who did it (pauses, revocations, cancellations), when the event says. */
  by?: string;
}

/** Spend of one token on one UTC day. */
export interface SpendDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  token: string;
  /** Base units. */
  amount: bigint;
}

/** The console's source of account history. */
export interface ConsoleData {
  /** The account's activity, oldest first. */
  events(account: string): Promise<ActivityEvent[]>;
  /** Spend per token per UTC day (from `SpendRecorded`), oldest day first. */
  spendPerDay(account: string): Promise<SpendDay[]>;
  /** Every operation the account ever queued, with its live state. */
  requests(account: string): Promise<QueuedOperation[]>;
  /** The security-delayed AgentSessions changes still pending (the latest proposal per hash). */
  pendingChanges(account: string): Promise<PendingChange[]>;
}

/** A proposed loosening change (`ChangeProposed`) not applied, cancelled or voided yet. */
export interface PendingChange {
  changeHash: string;
  /** Unix seconds from which it can be applied. */
  readyAt: bigint;
  /** The AgentSessions call data `applyChange` takes. */
  data: string;
}

/** Tier index of the contracts' `Tier` enum → name. */
export const TIER_NAMES = ["instant", "delayed", "approval"] as const;

/** `YYYY-MM-DD` of a Unix time in seconds (UTC). */
export function utcDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
