/**
 * {@link Notifier}: turns the event index into webhook notifications (see `detect.ts` for which), keeps them in a
 * persistent outbox (see `outbox.ts` for the at-most-once rule) and delivers them in order with exponential
 * backoff while the receiver fails. Nothing here throws into the caller's loop: a failing webhook or RPC is logged
 * and retried, so indexing and monitoring go on.
 *
 * ```ts
 * const notifier = new Notifier({ index, provider, sessions: deployment.sessions,
 *   webhook: { url, secret }, consoleUrl: "http://127.0.0.1:43370" });
 * await runNotifyLoop({ index, notifier, pollMs: 2_000, signal });
 * ```
 */
import type { Provider } from "ethers";
import { AgentSessions__factory } from "../../types/ethers-contracts/index.js";
import type { EventIndex } from "../indexer/index.js";
import { getMeta, setMeta } from "../indexer/schema.js";
import { JsonLogger } from "../monitor/log.js";
import { backoffDelay, describeError, sleep, type BackoffOptions } from "../monitor/rpc.js";
import { NOTIFYING_KINDS, decideExpiring, decideForEvent, type Decided, type DetectContext } from "./detect.js";
import { TokenBook } from "./facts.js";
import { Outbox, type OutboxRow } from "./outbox.js";
import { deliver, type WebhookTarget } from "./webhook.js";

/** Options of {@link Notifier}. */
export interface NotifierOptions {
  /** The index it reads (its database also holds the outbox). */
  index: EventIndex;
  provider: Provider;
  /** AgentSessions address (budgets are read from it). */
  sessions: string;
  webhook: WebhookTarget;
  /** Base URL of the console for links (default `http://127.0.0.1:43370`). */
  consoleUrl?: string;
  /** Notify a session this long before its end of validity (default 86,400 s). */
  expiryLeadSeconds?: number;
  /** Budget marks in percent (default [80, 100]). */
  thresholds?: number[];
  /** Receiver backoff after failures (default 1 s doubling to 60 s). */
  backoff?: BackoffOptions;
  /** Blocks below the last looked-at one that are looked at again (reorged events; default 64). */
  reorgWindow?: number;
  /** Token metadata known in advance (lower-case address → symbol, decimals). */
  knownTokens?: ReadonlyMap<string, { symbol: string; decimals: number }>;
  logger?: JsonLogger;
}

/** What one {@link Notifier.deliverDue} did. */
export interface DeliveryRound {
  delivered: number;
  failed: number;
}

/** Turns indexed events into delivered webhooks (see the file comment). */
export class Notifier {
  /** The persistent outbox. */
  readonly outbox: Outbox;
  /** Notifications a previous process left in flight, now abandoned (never resent). */
  readonly abandonedAtStart: number;
  private readonly o: NotifierOptions;
  private readonly log: JsonLogger;
  private readonly tokens: TokenBook;
  private readonly backoff: BackoffOptions;
  private chainId: bigint | undefined;
  private failures = 0;
  private pausedUntil = 0;

  constructor(options: NotifierOptions) {
    this.o = options;
    this.log = options.logger ?? new JsonLogger(() => undefined);
    this.tokens = new TokenBook(options.provider, options.knownTokens);
    this.backoff = options.backoff ?? { baseMs: 1_000, capMs: 60_000 };
    this.outbox = new Outbox(options.index.db);
    this.abandonedAtStart = this.outbox.abandonInFlight();
    if (this.abandonedAtStart > 0)
      this.log.warn("notify-abandoned", {
        count: this.abandonedAtStart,
        reason: "in flight when the last process stopped",
      });
  }

  private async context(): Promise<DetectContext> {
    this.chainId ??= (await this.o.provider.getNetwork()).chainId;
    return {
      chainId: this.chainId,
      consoleUrl: this.o.consoleUrl ?? "http://127.0.0.1:43370",
      index: this.o.index,
      sessions: AgentSessions__factory.connect(this.o.sessions, this.o.provider),
      tokens: this.tokens,
      thresholds: this.o.thresholds ?? [80, 100],
    };
  }

  private enqueue(list: Decided[]): number {
    let added = 0;
    const now = Date.now();
    for (const d of list) {
      if (this.outbox.add({ id: d.id, type: d.type, account: d.account, body: JSON.stringify(d.body) }, now)) {
        added++;
        this.log.info("notify-queued", { id: d.id, type: d.type, account: d.account });
      }
    }
    return added;
  }

  /**
   * Decide the notifications of the events indexed since the last call (and of sessions near their end), and add
   * them to the outbox. Returns how many were added. An event whose decision fails (RPC) is retried next call.
   */
  async collect(): Promise<number> {
    const ctx = await this.context();
    const index = this.o.index;
    const tip = index.tip();
    if (tip === undefined) return 0;
    const cursor = BigInt(getMeta(index.db, "notify.cursor") ?? "0");
    const window = BigInt(this.o.reorgWindow ?? 64);
    const since = cursor > window ? cursor - window : 0n;
    let next = tip + 1n;
    let added = 0;
    for (const account of index.followed()) {
      for (const e of index.events(account, { kinds: NOTIFYING_KINDS, sinceBlock: since })) {
        const key = `${e.txHash}:${e.logIndex}`;
        if (this.outbox.seen(key)) continue;
        try {
          added += this.enqueue(await decideForEvent(ctx, e));
          this.outbox.markSeen(key);
        } catch (err) {
          this.log.warn("notify-decide-error", {
            account,
            block: e.block,
            txHash: e.txHash,
            error: describeError(err),
          });
          if (e.block < next) next = e.block;
          break;
        }
      }
    }
    setMeta(index.db, "notify.cursor", next.toString());
    const head = await this.o.provider.getBlock("latest");
    if (head) {
      const lead = BigInt(this.o.expiryLeadSeconds ?? 86_400);
      for (const account of index.followed())
        added += this.enqueue(decideExpiring(ctx, account, BigInt(head.timestamp), lead));
    }
    return added;
  }

  /**
   * Deliver the due notifications in order. After a failure the receiver gets a rest (exponential backoff) before
   * the next attempt; the failed notification stays first in line.
   */
  async deliverDue(): Promise<DeliveryRound> {
    const round: DeliveryRound = { delivered: 0, failed: 0 };
    if (Date.now() < this.pausedUntil) return round;
    for (const row of this.outbox.due(Date.now())) {
      this.outbox.markSending(row.id);
      try {
        await deliver(this.o.webhook, row.id, row.body);
        this.outbox.markDelivered(row.id, Date.now());
        this.failures = 0;
        round.delivered++;
        this.log.info("notify-delivered", { id: row.id, type: row.type, attempt: row.attempts + 1 });
      } catch (e) {
        this.failures++;
        const delayMs = backoffDelay(this.failures, this.backoff);
        this.pausedUntil = Date.now() + delayMs;
        this.outbox.markFailed(row.id, describeError(e), this.pausedUntil);
        round.failed++;
        this.log.warn("notify-error", { id: row.id, attempt: row.attempts + 1, delayMs, error: describeError(e) });
        break;
      }
    }
    return round;
  }

  /** When the next delivery attempt is due (ms since epoch), or `undefined` when nothing waits. */
  nextAttemptAt(): number | undefined {
    const due = this.outbox.nextDue();
    return due === undefined ? undefined : Math.max(due, this.pausedUntil);
  }

  /** Every notification of the outbox. */
  notifications(): OutboxRow[] {
    return this.outbox.all();
  }
}

/** Options of {@link runNotifyLoop}. */
export interface NotifyLoopOptions {
  index: EventIndex;
  notifier: Notifier;
  /** Pause between rounds (default 2,000 ms). */
  pollMs?: number;
  /** Stops the loop. */
  signal?: AbortSignal;
  /** Whether the loop syncs the index itself (default true; false when another loop does). */
  syncIndex?: boolean;
  logger?: JsonLogger;
}

/**
 * Sync, collect, deliver, sleep, until `signal` aborts. Each step's failure is logged and the loop goes on, so a
 * dead webhook or a flaky RPC never stops it.
 */
export async function runNotifyLoop(o: NotifyLoopOptions): Promise<void> {
  const log = o.logger ?? new JsonLogger(() => undefined);
  const pollMs = o.pollMs ?? 2_000;
  while (!o.signal?.aborted) {
    if (o.syncIndex !== false) {
      try {
        const r = await o.index.sync();
        if (r.events > 0 || r.reorged > 0)
          log.info("index-synced", {
            fromBlock: r.fromBlock,
            toBlock: r.toBlock,
            events: r.events,
            reorged: r.reorged,
          });
      } catch (e) {
        log.warn("index-error", { error: describeError(e) });
      }
    }
    try {
      await o.notifier.collect();
    } catch (e) {
      log.warn("notify-collect-error", { error: describeError(e) });
    }
    try {
      await o.notifier.deliverDue();
    } catch (e) {
      log.warn("notify-deliver-error", { error: describeError(e) });
    }
    await sleep(pollMs, o.signal);
  }
}
