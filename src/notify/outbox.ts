/**
 * The notifier's persistent outbox, in the index's SQLite database: one row per notification (id, body, status),
 * plus the events already looked at. At most once across restarts, eventually while the process lives:
 *
 * - a row is written `pending` when the notification is decided (same id → ignored, so a replay adds nothing);
 * - it is set to `sending` (committed) **before** the HTTP request, and to `delivered` after a 2xx answer, or back
 *   to `pending` with a later `next_at` after a failure that proves it was not accepted (no answer, non-2xx);
 * - on open, rows left `sending` by a crash are set to `abandoned`: the receiver may have them, so they are never
 *   sent again.
 */
import type { DatabaseSync } from "node:sqlite";

/** State of one notification. */
export type OutboxStatus = "pending" | "sending" | "delivered" | "abandoned";

/** One notification in the outbox. */
export interface OutboxRow {
  id: string;
  type: string;
  account: string;
  /** The exact JSON body sent (and signed). */
  body: string;
  status: OutboxStatus;
  attempts: number;
  /** When the next attempt is due (ms since epoch). */
  nextAt: number;
  lastError?: string;
}

const DDL = `
CREATE TABLE IF NOT EXISTS notify_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  account TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox (status, next_at);
CREATE TABLE IF NOT EXISTS notify_seen (key TEXT PRIMARY KEY);
`;

/** The outbox tables of one database. */
export class Outbox {
  constructor(private readonly db: DatabaseSync) {
    db.exec(DDL);
  }

  /** Mark rows a previous process left `sending` as `abandoned`; returns how many. */
  abandonInFlight(): number {
    return Number(
      this.db
        .prepare(
          "UPDATE notify_outbox SET status = 'abandoned', last_error = 'in flight at restart' WHERE status = 'sending'",
        )
        .run().changes,
    );
  }

  /** Add a notification unless its id exists; returns whether it was added. */
  add(n: { id: string; type: string; account: string; body: string }, now: number): boolean {
    const r = this.db
      .prepare(
        "INSERT OR IGNORE INTO notify_outbox (id, type, account, body, status, next_at) VALUES (?, ?, ?, ?, 'pending', ?)",
      )
      .run(n.id, n.type, n.account, n.body, now);
    return Number(r.changes) > 0;
  }

  /** Whether a notification id exists (any status). */
  has(id: string): boolean {
    return this.db.prepare("SELECT 1 FROM notify_outbox WHERE id = ?").get(id) !== undefined;
  }

  /** The pending rows due at `now`, oldest first. */
  due(now: number, limit = 100): OutboxRow[] {
    const rows = this.db
      .prepare("SELECT * FROM notify_outbox WHERE status = 'pending' AND next_at <= ? ORDER BY seq LIMIT ?")
      .all(now, limit) as unknown as RawRow[];
    return rows.map(toRow);
  }

  /** Earliest `next_at` of a pending row, or `undefined`. */
  nextDue(): number | undefined {
    const r = this.db.prepare("SELECT MIN(next_at) AS t FROM notify_outbox WHERE status = 'pending'").get() as {
      t: number | null;
    };
    return r.t ?? undefined;
  }

  /** Set a row `sending` (before the request). */
  markSending(id: string): void {
    this.db
      .prepare(
        "UPDATE notify_outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
      )
      .run(id);
  }

  /** Set a row `delivered`. */
  markDelivered(id: string, now: number): void {
    this.db
      .prepare("UPDATE notify_outbox SET status = 'delivered', delivered_at = ?, last_error = NULL WHERE id = ?")
      .run(now, id);
  }

  /** Put a row back to `pending`, due at `nextAt`, after a failed attempt. */
  markFailed(id: string, error: string, nextAt: number): void {
    this.db
      .prepare(
        "UPDATE notify_outbox SET status = 'pending', last_error = ?, next_at = ? WHERE id = ? AND status = 'sending'",
      )
      .run(error, nextAt, id);
  }

  /** Every row (oldest first), for inspection and tests. */
  all(): OutboxRow[] {
    return (this.db.prepare("SELECT * FROM notify_outbox ORDER BY seq").all() as unknown as RawRow[]).map(toRow);
  }

  /** Whether an event key was already looked at. */
  seen(key: string): boolean {
    return this.db.prepare("SELECT 1 FROM notify_seen WHERE key = ?").get(key) !== undefined;
  }

  /** Remember that an event key was looked at. */
  markSeen(key: string): void {
    this.db.prepare("INSERT OR IGNORE INTO notify_seen (key) VALUES (?)").run(key);
  }
}

interface RawRow {
  id: string;
  type: string;
  account: string;
  body: string;
  status: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
}

function toRow(r: RawRow): OutboxRow {
  const row: OutboxRow = {
    id: r.id,
    type: r.type,
    account: r.account,
    body: r.body,
    status: r.status as OutboxStatus,
    attempts: r.attempts,
    nextAt: r.next_at,
  };
  if (r.last_error !== null) row.lastError = r.last_error;
  return row;
}
