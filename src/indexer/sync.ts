/**
 * Incremental sync of the event index: reorg check against the stored block hashes, then `eth_getLogs` over the
 * unindexed range in chunks, **one call per chunk for every followed account together** (topic 0: the Reins
 * module events and ERC-20 `Transfer`; topic 1: the followed accounts, which is the indexed `account` of every
 * module event and the `from` of a transfer). Each chunk is written in one SQLite transaction (events, block
 * hashes, account cursors), so a crash resumes at the first unwritten chunk.
 *
 * Reorgs: the index stores the hash (and time) of every block holding an indexed event and of the last block of
 * every chunk. Before syncing it compares the newest stored hash with the chain's; on a mismatch it walks down the
 * stored hashes (at most `maxReorgDepth` blocks) to the newest one the chain still has, deletes everything above
 * it and re-indexes from there. A chunk is only written when the last block's hash is the same before and after
 * its `eth_getLogs` and every event block's hash matches its logs, so nothing is confirmed that was not checked.
 * A failing call (a provider's range or result cap) is retried on half the range, down to one block; the smaller
 * range is kept for the rest of the sync.
 */
import { getAddress, type Log, type Provider } from "ethers";
import type { DatabaseSync } from "node:sqlite";
import { addressTopic, rawLog } from "../monitor/decode.js";
import { decodeIndexedLog, indexedTopics, type IndexedEvent, type ModuleName } from "./decode.js";
import { getMeta, setMeta, transaction } from "./schema.js";

/** The chain reorganised deeper than the index keeps block hashes for; re-create the index. */
export class IndexReorgTooDeepError extends Error {
  override readonly name = "IndexReorgTooDeepError" as const;
  constructor(
    /** Newest indexed block. */
    readonly tip: bigint,
    /** Blocks the index checks below its tip. */
    readonly maxReorgDepth: number,
  ) {
    super(`no stored block hash within ${maxReorgDepth} blocks below the indexed tip ${tip} matches the chain`);
  }
}

/** What one {@link syncIndex} call did. */
export interface SyncResult {
  /** First block scanned (the lowest account cursor). */
  fromBlock: bigint;
  /** Last block indexed (`fromBlock - 1` when there was nothing to do). */
  toBlock: bigint;
  /** Events written. */
  events: number;
  /** Blocks rolled back because of a reorg (0 when none). */
  reorged: number;
}

/** Settings of a sync. */
export interface SyncSettings {
  provider: Provider;
  /** Lower-case module address → role. */
  modules: ReadonlyMap<string, ModuleName>;
  /** Blocks per `eth_getLogs` call. */
  chunkSize: number;
  /** Followed accounts per `eth_getLogs` call (topic-1 list length). */
  accountsPerCall: number;
  /** Blocks left unindexed below the head. */
  confirmations: number;
  /** How far below its tip the index looks for the fork point. */
  maxReorgDepth: number;
}

interface AccountRow {
  address: string;
  next_block: number;
}

interface BlockInfo {
  hash: string;
  time: bigint;
}

async function blockInfo(provider: Provider, n: number): Promise<BlockInfo | null> {
  const b = await provider.getBlock(n);
  return b && b.hash ? { hash: b.hash, time: BigInt(b.timestamp) } : null;
}

/** Newest indexed block, or `undefined` for a new index. */
export function indexedTip(db: DatabaseSync): bigint | undefined {
  const v = getMeta(db, "tip");
  return v === undefined ? undefined : BigInt(v);
}

/**
 * Compare the stored hashes with the chain from the tip down; roll back to the newest block still on the chain.
 * Returns the number of blocks rolled back.
 */
export async function checkReorg(db: DatabaseSync, s: SyncSettings): Promise<number> {
  const tip = indexedTip(db);
  if (tip === undefined) return 0;
  const floor = Number(tip) - s.maxReorgDepth;
  const stored = db.prepare("SELECT number, hash FROM blocks WHERE number >= ? ORDER BY number DESC").all(floor) as {
    number: number;
    hash: string;
  }[];
  let fork: number | undefined;
  for (const row of stored) {
    const chain = await blockInfo(s.provider, row.number);
    if (chain?.hash === row.hash) {
      fork = row.number;
      break;
    }
  }
  if (fork === Number(tip)) return 0;
  if (fork === undefined) {
    const older = db.prepare("SELECT COUNT(*) AS n FROM blocks WHERE number < ?").get(floor) as { n: number };
    if (older.n > 0) throw new IndexReorgTooDeepError(tip, s.maxReorgDepth);
    const first = db.prepare("SELECT MIN(from_block) AS m FROM accounts").get() as { m: number | null };
    fork = (first.m ?? 0) - 1;
  }
  const f = fork;
  transaction(db, () => {
    db.prepare("DELETE FROM events WHERE block > ?").run(f);
    db.prepare("DELETE FROM blocks WHERE number > ?").run(f);
    db.prepare("UPDATE accounts SET next_block = MIN(next_block, ?)").run(f + 1);
    setMeta(db, "tip", String(f));
  });
  return Number(tip) - f;
}

function insertEvents(db: DatabaseSync, events: IndexedEvent[]): number {
  const stmt = db.prepare(
    `INSERT OR IGNORE INTO events (block, log_index, account, tx_hash, time, contract, kind, session_id, token,
       amount, recipient, request_id, intent_hash, args) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let n = 0;
  for (const e of events) {
    const r = stmt.run(
      Number(e.block),
      e.logIndex,
      e.account,
      e.txHash,
      Number(e.time),
      e.contract,
      e.kind,
      e.sessionId ?? null,
      e.token ?? null,
      e.amount === undefined ? null : e.amount.toString(),
      e.recipient ?? null,
      e.requestId ?? null,
      e.intentHash ?? null,
      JSON.stringify(e.args),
    );
    n += Number(r.changes);
  }
  return n;
}

/** Outcome of one chunk: written, or abandoned because the chain moved under it (the next sync checks). */
type ChunkOutcome = { events: number } | "moved";

async function syncChunk(
  db: DatabaseSync,
  s: SyncSettings,
  accounts: AccountRow[],
  from: number,
  to: number,
): Promise<ChunkOutcome> {
  const included = accounts.filter((a) => a.next_block <= to);
  const endBefore = await blockInfo(s.provider, to);
  if (!endBefore) return "moved";
  const topics0 = indexedTopics();
  const logs: Log[] = [];
  for (let i = 0; i < included.length; i += s.accountsPerCall) {
    const batch = included.slice(i, i + s.accountsPerCall).map((a) => addressTopic(a.address));
    logs.push(...(await s.provider.getLogs({ fromBlock: from, toBlock: to, topics: [topics0, batch] })));
  }
  const endAfter = await blockInfo(s.provider, to);
  if (endAfter?.hash !== endBefore.hash) return "moved";
  const cursor = new Map(included.map((a) => [a.address.toLowerCase(), a.next_block]));
  const followed = new Set(cursor.keys());
  const blocks = new Map<number, BlockInfo>([[to, endBefore]]);
  const events: IndexedEvent[] = [];
  for (const log of logs) {
    if (log.removed) continue;
    let info = blocks.get(log.blockNumber);
    if (!info) {
      const fetched = await blockInfo(s.provider, log.blockNumber);
      if (!fetched) return "moved";
      info = fetched;
      blocks.set(log.blockNumber, info);
    }
    if (info.hash !== log.blockHash) return "moved";
    const e = decodeIndexedLog(rawLog(log), { time: info.time }, s.modules, followed);
    if (!e) continue;
    // An account joining mid-range: only its blocks from its own cursor on.
    if (log.blockNumber < (cursor.get(e.account.toLowerCase()) ?? Infinity)) continue;
    events.push(e);
  }
  const written = transaction(db, () => {
    const n = insertEvents(db, events);
    const put = db.prepare(
      "INSERT INTO blocks (number, hash, time) VALUES (?, ?, ?) ON CONFLICT(number) DO UPDATE SET hash = excluded.hash, time = excluded.time",
    );
    for (const [number, b] of blocks) put.run(number, b.hash, Number(b.time));
    const adv = db.prepare("UPDATE accounts SET next_block = ? WHERE address = ? AND next_block <= ?");
    for (const a of included) adv.run(to + 1, a.address, to + 1);
    const tip = indexedTip(db);
    if (tip === undefined || BigInt(to) > tip) setMeta(db, "tip", String(to));
    return n;
  });
  return { events: written };
}

/** Drop the hashes of event-less blocks far below the tip (they only served the reorg check). */
function pruneBlocks(db: DatabaseSync, maxReorgDepth: number): void {
  const tip = indexedTip(db);
  if (tip === undefined) return;
  db.prepare(
    "DELETE FROM blocks WHERE number < ? AND NOT EXISTS (SELECT 1 FROM events WHERE events.block = blocks.number)",
  ).run(Number(tip) - maxReorgDepth);
}

/** One sync: reorg check, then every followed account up to `head - confirmations`. */
export async function syncIndex(db: DatabaseSync, s: SyncSettings): Promise<SyncResult> {
  const reorged = await checkReorg(db, s);
  const head = (await s.provider.getBlockNumber()) - s.confirmations;
  const accounts = (db.prepare("SELECT address, next_block FROM accounts").all() as unknown as AccountRow[]).map(
    (a) => ({ address: getAddress(a.address), next_block: a.next_block }),
  );
  if (accounts.length === 0) return { fromBlock: BigInt(head + 1), toBlock: BigInt(head), events: 0, reorged };
  const from = Math.min(...accounts.map((a) => a.next_block));
  let events = 0;
  let done = from - 1;
  let size = s.chunkSize;
  for (let start = from; start <= head;) {
    const end = Math.min(head, start + size - 1);
    let out: ChunkOutcome;
    try {
      out = await syncChunk(db, s, accounts, start, end);
    } catch (e) {
      // Providers cap eth_getLogs (block range, result count): halve the range and retry, down to one block.
      if (end === start) throw e;
      size = Math.max(1, Math.ceil((end - start + 1) / 2));
      continue;
    }
    if (out === "moved") break;
    events += out.events;
    for (const a of accounts) if (a.next_block <= end) a.next_block = end + 1;
    done = end;
    start = end + 1;
  }
  pruneBlocks(db, s.maxReorgDepth);
  return { fromBlock: BigInt(from), toBlock: BigInt(done), events, reorged };
}
