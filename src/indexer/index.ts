/**
 * {@link EventIndex}: the Reins event index of one chain in an embedded SQLite database (`node:sqlite`). It
 * follows many accounts at once (one `eth_getLogs` per block range for all of them), indexes the events of
 * AgentSessions, ReinsTimelock, CircuitBreaker, GuardianRecovery, RiskEngineEnvelope and the ERC-20 transfers out
 * of the accounts, resumes from its last block after a restart and rolls back reorgs of a few blocks.
 *
 * ```ts
 * const index = EventIndex.open({ path: "reins-index.db", provider, deployment: loadDeployment(chainId) });
 * index.follow(account, deployBlock);
 * await index.sync();                       // call again (e.g. every few seconds) to follow the chain
 * index.events(account, { kinds: ["queued", "executed"], limit: 50 });
 * index.requests(account).filter((r) => r.status === "queued");
 * index.close();
 * ```
 */
import { getAddress, isAddress, type Provider } from "ethers";
import type { DatabaseSync } from "node:sqlite";
import type { ReinsDeployment } from "../client/owner.js";
import type { DeploymentRecord } from "../deploy/records.js";
import type { IndexedEvent, ModuleName } from "./decode.js";
import {
  queryChanges,
  queryEvents,
  queryRequests,
  spendPerDay,
  type ChangeRow,
  type DaySpend,
  type EventQuery,
  type RequestRow,
} from "./queries.js";
import { getMeta, openDatabase, setMeta } from "./schema.js";
import { indexedTip, syncIndex, type SyncResult } from "./sync.js";

export type { IndexedEvent, ModuleName } from "./decode.js";
export type { ChangeRow, ChangeStatus, DaySpend, EventQuery, RequestRow, RequestStatus } from "./queries.js";
export { IndexSchemaError } from "./schema.js";
export { IndexReorgTooDeepError, type SyncResult } from "./sync.js";

/**
 * The module addresses an index follows: a deployment record (from `loadDeployment`), the client's
 * {@link ReinsDeployment}, or that plus the optional modules by name.
 */
export type IndexDeployment =
  DeploymentRecord | (ReinsDeployment & { breaker?: string; envelope?: string; recovery?: string });

/** Options of {@link EventIndex.open}. */
export interface EventIndexOptions {
  /** SQLite file (created when missing); `":memory:"` for a throw-away index. */
  path: string;
  provider: Provider;
  deployment: IndexDeployment;
  /** Blocks per `eth_getLogs` call (default 2,000). */
  chunkSize?: number;
  /** Followed accounts per `eth_getLogs` call (default 1,000; more accounts → more calls per range). */
  accountsPerCall?: number;
  /** Blocks left unindexed below the head (default 0: index the head, roll back on reorg). */
  confirmations?: number;
  /** How far below its tip the index looks for a fork point (default 64 blocks). */
  maxReorgDepth?: number;
  /** First block of an account followed without one (default 0). */
  defaultFromBlock?: bigint;
}

/** Options that are not valid (a bad address, a chunk size below 1, ...). */
export class EventIndexConfigError extends Error {
  override readonly name = "EventIndexConfigError" as const;
}

function modulesOf(d: IndexDeployment): Map<string, ModuleName> {
  const pairs: [ModuleName, string | undefined][] =
    "contracts" in d
      ? [
          ["AgentSessions", d.contracts.AgentSessions],
          ["ReinsTimelock", d.contracts.ReinsTimelock],
          ["CircuitBreaker", d.contracts.CircuitBreaker],
          ["GuardianRecovery", d.contracts.GuardianRecovery],
          ["RiskEngineEnvelope", d.contracts.RiskEngineEnvelope],
        ]
      : [
          ["AgentSessions", d.sessions],
          ["ReinsTimelock", d.timelock],
          ["CircuitBreaker", d.breaker],
          ["GuardianRecovery", d.recovery],
          ["RiskEngineEnvelope", d.envelope],
        ];
  const out = new Map<string, ModuleName>();
  for (const [name, address] of pairs) {
    if (address === undefined || address === "") continue;
    if (!isAddress(address)) throw new EventIndexConfigError(`deployment: ${name} is not an address: ${address}`);
    out.set(address.toLowerCase(), name);
  }
  if (![...out.values()].includes("AgentSessions") || ![...out.values()].includes("ReinsTimelock"))
    throw new EventIndexConfigError("deployment: AgentSessions and ReinsTimelock addresses are required");
  return out;
}

function positiveInt(name: string, v: number | undefined, dflt: number, min: number): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || x < min)
    throw new EventIndexConfigError(`${name}: expected an integer ≥ ${min}, got ${x}`);
  return x;
}

/** The event index of one chain (see the file comment). Not safe for two processes on one file at once. */
export class EventIndex {
  /** The SQLite database (read-only use is fine, e.g. for custom queries; the tables are in `schema.ts`). */
  readonly db: DatabaseSync;
  private readonly provider: Provider;
  private readonly modules: Map<string, ModuleName>;
  private readonly chunkSize: number;
  private readonly accountsPerCall: number;
  private readonly confirmations: number;
  private readonly maxReorgDepth: number;
  private readonly defaultFromBlock: bigint;
  private running: Promise<unknown> = Promise.resolve();

  private constructor(db: DatabaseSync, o: EventIndexOptions) {
    this.db = db;
    this.provider = o.provider;
    this.modules = modulesOf(o.deployment);
    this.chunkSize = positiveInt("chunkSize", o.chunkSize, 2_000, 1);
    this.accountsPerCall = positiveInt("accountsPerCall", o.accountsPerCall, 1_000, 1);
    this.confirmations = positiveInt("confirmations", o.confirmations, 0, 0);
    this.maxReorgDepth = positiveInt("maxReorgDepth", o.maxReorgDepth, 64, 1);
    this.defaultFromBlock = o.defaultFromBlock ?? 0n;
    const recorded = getMeta(db, "modules");
    const now = [...this.modules.entries()]
      .sort()
      .map(([a, n]) => `${n}=${a}`)
      .join(",");
    if (recorded !== undefined && recorded !== now)
      throw new EventIndexConfigError(`index ${o.path} was built for modules ${recorded}, not ${now}`);
    if (recorded === undefined) setMeta(db, "modules", now);
  }

  /** Open (or create) the index at `options.path`. Throws {@link EventIndexConfigError} on bad options. */
  static open(options: EventIndexOptions): EventIndex {
    const db = openDatabase(options.path);
    try {
      return new EventIndex(db, options);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /**
   * Follow `account` from `fromBlock` (default `defaultFromBlock`); persisted. Following an account already
   * followed changes nothing. The next {@link sync} indexes it from there.
   */
  follow(account: string, fromBlock?: bigint): void {
    if (!isAddress(account)) throw new EventIndexConfigError(`follow: not an address: ${account}`);
    const from = fromBlock ?? this.defaultFromBlock;
    if (from < 0n) throw new EventIndexConfigError(`follow: fromBlock ${from} is negative`);
    this.db
      .prepare("INSERT OR IGNORE INTO accounts (address, from_block, next_block) VALUES (?, ?, ?)")
      .run(getAddress(account), Number(from), Number(from));
  }

  /** The followed accounts (checksummed), in address order. */
  followed(): string[] {
    return (this.db.prepare("SELECT address FROM accounts ORDER BY address").all() as { address: string }[]).map(
      (r) => r.address,
    );
  }

  /** Newest block indexed (for every account whose cursor reached it), or `undefined` before the first sync. */
  tip(): bigint | undefined {
    return indexedTip(this.db);
  }

  /**
   * Index up to the head (minus `confirmations`) after checking for a reorg. Calls are serialised: a call made
   * while another runs waits for it.
   */
  sync(): Promise<SyncResult> {
    const next = this.running.then(() =>
      syncIndex(this.db, {
        provider: this.provider,
        modules: this.modules,
        chunkSize: this.chunkSize,
        accountsPerCall: this.accountsPerCall,
        confirmations: this.confirmations,
        maxReorgDepth: this.maxReorgDepth,
      }),
    );
    this.running = next.catch(() => undefined);
    return next;
  }

  /** The events of `account`, oldest first; `limit` keeps the newest ones. */
  events(account: string, q?: EventQuery): IndexedEvent[] {
    return queryEvents(this.db, account, q);
  }

  /** ERC-20 outflows of `account` per UTC day and token. */
  spendPerDay(account: string): DaySpend[] {
    return spendPerDay(this.db, account);
  }

  /** The timelock requests of `account` with their status (queued / approved / executed / cancelled). */
  requests(account: string): RequestRow[] {
    return queryRequests(this.db, account);
  }

  /** The security-delayed AgentSessions changes of `account` (pending / applied / cancelled / voided). */
  changes(account: string): ChangeRow[] {
    return queryChanges(this.db, account);
  }

  /** Close the database. */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
