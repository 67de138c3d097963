/**
 * Persistent state of the Reins monitor: the last fully processed block, the alerts already acted on, the recent
 * event window (so rules spanning a restart still see their history) and the recipients already paid.
 * Written atomically (temporary file + fsync + rename) so a crash leaves either the old or the new state.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import type { BudgetNumbers } from "./response.js";
import type { Alert, MonitorEvent } from "./rules.js";

/**
 * What the monitor decided about one alert. `tighten-pending` is written before the tighten transaction is sent
 * (with the budget it sets), so a restart finishes it instead of tightening twice. A tightening that cannot be
 * done (no budget for the token, reverted, ...) falls back to a pause: the record then says `paused` (or
 * `already-paused`, `pause-failed`) and keeps `tightenError`.
 */
export type AlertAction = "paused" | "already-paused" | "pause-failed" | "tighten-pending" | "tightened";

/** One alert, identified by `rule:txHash:logIndex` of the event that triggered it. */
export interface AlertRecord extends Alert {
  id: string;
  blockNumber: number;
  txHash: string;
  action: AlertAction;
  /** Hash of the `pause` transaction the monitor sent for it. */
  pauseTx?: string;
  /** Tightening: the session and token, the triggering event's block timestamp, budgets before and after. */
  sessionId?: string;
  token?: string;
  eventTs?: number;
  before?: BudgetNumbers;
  after?: BudgetNumbers;
  /** Hash of the `RiskEngineEnvelope.tighten` transaction (set as soon as it is sent). */
  tightenTx?: string;
  /** Why a tightening fell back to a pause. */
  tightenError?: string;
  /** ISO time the decision was made. */
  ts: string;
}

export interface PausedAt {
  block: number;
  txHash: string;
  rule: string;
  ts: string;
}

export interface MonitorState {
  version: 1;
  /** Account the state belongs to (a state file is never reused for another account). */
  account: string;
  /** Last block whose logs were fully processed; `null` before the first range. */
  lastBlock: number | null;
  pausedAt?: PausedAt;
  alerts: AlertRecord[];
  /** Recent events, oldest first (bounded by the monitor). */
  window: MonitorEvent[];
  /** Lower-case recipients the account paid. */
  knownRecipients: string[];
}

/** Raised when the state file cannot be read or belongs to another account. */
export class MonitorStateError extends Error {
  override readonly name = "MonitorStateError" as const;
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`state file ${path}: ${message}`);
  }
}

export function emptyState(account: string): MonitorState {
  return { version: 1, account: account.toLowerCase(), lastBlock: null, alerts: [], window: [], knownRecipients: [] };
}

/* bigint ↔ JSON: bigints are written as {"$bigint": "123"} and read back. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? { $bigint: value.toString() } : value;
}
function reviver(_key: string, value: unknown): unknown {
  if (typeof value === "object" && value !== null && "$bigint" in value) {
    return BigInt((value as { $bigint: string }).$bigint);
  }
  return value;
}

/** Load the state at `path`, or a fresh one when the file does not exist. */
export function loadState(path: string, account: string): MonitorState {
  if (!existsSync(path)) return emptyState(account);
  let parsed: MonitorState;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"), reviver) as MonitorState;
  } catch (e) {
    throw new MonitorStateError(path, `unreadable (${(e as Error).message})`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.alerts) || !Array.isArray(parsed.window)) {
    throw new MonitorStateError(path, "not a Reins monitor state (version 1)");
  }
  if (parsed.account !== account.toLowerCase()) {
    throw new MonitorStateError(path, `belongs to account ${parsed.account}, not ${account.toLowerCase()}`);
  }
  parsed.knownRecipients ??= [];
  return parsed;
}

/** Write `state` to `path` atomically: `path.tmp-<pid>`, fsync, rename over `path`. */
export function saveState(path: string, state: MonitorState): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(state, replacer, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
