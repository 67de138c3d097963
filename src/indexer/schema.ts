/**
 * The SQLite schema of the event index (`node:sqlite`, Node 22): followed accounts with their own cursor, the
 * hashes of the blocks the index has seen (for reorg detection), the decoded events, and a key/value table for
 * the chain id and the last indexed block. One database per chain.
 */
import { createRequire } from "node:module";
import type { DatabaseSync as Database } from "node:sqlite";

/**
 * `node:sqlite`, loaded without its one-time "SQLite is an experimental feature" warning on stderr (the CLI keeps
 * stderr to one line per error; the module is stable enough for this use on Node 22.13+).
 */
function loadSqlite(): typeof import("node:sqlite") {
  const original = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === "string" ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    return (original as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");
  } finally {
    process.emitWarning = original;
  }
}

const { DatabaseSync } = loadSqlite();
type DatabaseSync = Database;

/** Version of the schema below; a database written by another version is refused ({@link IndexSchemaError}). */
export const SCHEMA_VERSION = 1;

/** The database was written by another schema version or for another chain. */
export class IndexSchemaError extends Error {
  override readonly name = "IndexSchemaError" as const;
}

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  address TEXT PRIMARY KEY,           -- checksummed
  from_block INTEGER NOT NULL,        -- first block followed
  next_block INTEGER NOT NULL         -- first block not indexed yet for this account
);
CREATE TABLE IF NOT EXISTS blocks (
  number INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  block INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  account TEXT NOT NULL,
  tx_hash TEXT NOT NULL,
  time INTEGER NOT NULL,
  contract TEXT NOT NULL,
  kind TEXT NOT NULL,
  session_id TEXT,
  token TEXT,
  amount TEXT,
  recipient TEXT,
  request_id TEXT,
  intent_hash TEXT,
  args TEXT NOT NULL,
  PRIMARY KEY (block, log_index)
);
CREATE INDEX IF NOT EXISTS events_account ON events (account, block, log_index);
CREATE INDEX IF NOT EXISTS events_kind ON events (account, kind, block);
CREATE INDEX IF NOT EXISTS events_request ON events (account, request_id);
`;

/** Open (creating when missing) the index database at `path` (`":memory:"` works) and check its version. */
export function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  db.exec(DDL);
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
  if (!row) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
  else if (Number(row.value) !== SCHEMA_VERSION) {
    db.close();
    throw new IndexSchemaError(`index ${path} has schema version ${row.value}, this code reads ${SCHEMA_VERSION}`);
  }
  return db;
}

/** Read one `meta` value. */
export function getMeta(db: DatabaseSync, key: string): string | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
  return row?.value;
}

/** Write one `meta` value. */
export function setMeta(db: DatabaseSync, key: string, value: string): void {
  db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
    key,
    value,
  );
}

/** Run `fn` in one transaction (rolled back when it throws). */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}
