/**
 * {@link ReinsMonitor}: follows one Reins account's AgentSessions and ReinsTimelock events, applies the anomaly
 * rules of `rules.ts`, and pauses the account's agent sessions through a watchdog key when a rule fires.
 *
 * Loop: `eth_getLogs` from the block after the last processed one up to `head - confirmations` (in chunks of
 * `maxRange` blocks), decode, evaluate every event against the window that ends with it, act, then persist the
 * state atomically. Acting is idempotent across restarts: an alert is identified by `rule:txHash:logIndex` and
 * recorded (and the state saved) right after its pause transaction is mined; a replayed alert is skipped, and a
 * pause is only sent when `isPaused(account)` is false. RPC failures are retried with capped exponential backoff.
 */
import { getAddress, isAddress, type JsonRpcProvider, type Provider, type Wallet } from "ethers";
import { AgentSessions__factory, type AgentSessions } from "../../types/ethers-contracts/index.js";
import { addressTopic, attributeOutflows, decodeLog, rawLog, type RawLog } from "./decode.js";
import { JsonLogger } from "./log.js";
import { DEFAULT_BACKOFF, backoffDelay, describeError, sleep, type BackoffOptions } from "./rpc.js";
import { DEFAULT_RULES, evaluate, type Alert, type MonitorEvent, type RulesConfig } from "./rules.js";
import { loadState, saveState, type AlertRecord, type MonitorState } from "./state.js";

/** Raised for invalid monitor options (bad address, negative interval, ...). */
export class MonitorConfigError extends Error {
  override readonly name = "MonitorConfigError" as const;
}

export interface MonitorOptions {
  provider: Provider | JsonRpcProvider;
  /** The Reins account to watch. */
  account: string;
  /** AgentSessions module address. */
  sessions: string;
  /** ReinsTimelock module address. */
  timelock: string;
  /** Watchdog key (the account must have called `setWatchdog(watchdog, true)`); connected to `provider` here. */
  watchdog: Wallet;
  rules?: RulesConfig;
  /** JSON state file (created when missing). */
  statePath: string;
  /** Poll interval when caught up (default 500 ms). */
  pollMs?: number;
  /** Blocks to wait before processing (default 0, fine for a local chain). */
  confirmations?: number;
  /** First block to process when the state file has none: a number, or "latest" (default: the current head). */
  fromBlock?: number | "latest";
  /** Largest `eth_getLogs` range (default 2,000 blocks). */
  maxRange?: number;
  /** Events kept in the rule window (default 1,000). */
  maxWindow?: number;
  backoff?: BackoffOptions;
  logger?: JsonLogger;
}

/** One processed range's outcome, for callers that drive the monitor step by step. */
export interface PollResult {
  fromBlock: number;
  toBlock: number;
  events: number;
  alerts: number;
}

export class ReinsMonitor {
  readonly account: string;
  readonly sessionsAddress: string;
  readonly timelockAddress: string;
  private readonly provider: Provider;
  private readonly sessions: AgentSessions;
  private readonly watchdog: Wallet;
  private readonly rules: RulesConfig;
  private readonly statePath: string;
  private readonly pollMs: number;
  private readonly confirmations: number;
  private readonly fromBlock: number | "latest";
  private readonly maxRange: number;
  private readonly maxWindow: number;
  private readonly backoff: BackoffOptions;
  private readonly log: JsonLogger;
  private state: MonitorState;
  private readonly abort = new AbortController();
  private watchdogChecked = false;

  constructor(opts: MonitorOptions) {
    for (const [name, value] of [
      ["account", opts.account],
      ["sessions", opts.sessions],
      ["timelock", opts.timelock],
    ] as const) {
      if (!isAddress(value)) throw new MonitorConfigError(`${name}: not an address: ${value}`);
    }
    const positive = (name: string, v: number | undefined, dflt: number, min = 1): number => {
      const out = v ?? dflt;
      if (!Number.isInteger(out) || out < min) throw new MonitorConfigError(`${name}: must be an integer ≥ ${min}`);
      return out;
    };
    this.account = getAddress(opts.account);
    this.sessionsAddress = getAddress(opts.sessions);
    this.timelockAddress = getAddress(opts.timelock);
    this.provider = opts.provider;
    this.watchdog = opts.watchdog.connect(opts.provider);
    this.sessions = AgentSessions__factory.connect(this.sessionsAddress, this.watchdog);
    this.rules = opts.rules ?? DEFAULT_RULES;
    this.statePath = opts.statePath;
    this.pollMs = positive("pollMs", opts.pollMs, 500, 10);
    this.confirmations = positive("confirmations", opts.confirmations, 0, 0);
    this.fromBlock = opts.fromBlock ?? "latest";
    if (this.fromBlock !== "latest") positive("fromBlock", this.fromBlock, 0, 0);
    this.maxRange = positive("maxRange", opts.maxRange, 2_000);
    this.maxWindow = positive("maxWindow", opts.maxWindow, 1_000);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.log = opts.logger ?? new JsonLogger();
    this.state = loadState(this.statePath, this.account);
  }

  /** A copy of the current state. */
  snapshot(): MonitorState {
    return structuredClone(this.state);
  }

  /** Persist the state now (also done after every processed range and every pause). */
  persist(): void {
    saveState(this.statePath, this.state);
  }

  /** Ask {@link run} to return after the current step. */
  stop(): void {
    this.abort.abort();
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /**
   * Poll until {@link stop}: process new ranges, sleep `pollMs` when caught up, back off on RPC errors (logging
   * `rpc-error` with the attempt and delay). Never throws for RPC failures; persists the state before returning.
   */
  async run(): Promise<void> {
    this.log.info("start", {
      account: this.account,
      sessions: this.sessionsAddress,
      timelock: this.timelockAddress,
      watchdog: this.watchdog.address,
      statePath: this.statePath,
      resumeFrom: this.state.lastBlock,
      knownAlerts: this.state.alerts.length,
      rules: this.rules,
    });
    let attempt = 0;
    while (!this.stopped) {
      try {
        const progressed = await this.pollOnce();
        attempt = 0;
        if (!progressed) await sleep(this.pollMs, this.abort.signal);
      } catch (e) {
        if (this.stopped) break;
        attempt++;
        const delayMs = backoffDelay(attempt, this.backoff);
        this.log.warn("rpc-error", { attempt, delayMs, error: describeError(e) });
        await sleep(delayMs, this.abort.signal);
      }
    }
    this.persist();
    this.log.info("stopped", { lastBlock: this.state.lastBlock });
  }

  /**
   * Process at most one range up to `head - confirmations`. Returns whether a range was processed (false when
   * caught up). Throws on RPC errors; the state then still reflects the last complete range.
   */
  async pollOnce(): Promise<PollResult | null> {
    const head = await this.provider.getBlockNumber();
    const target = head - this.confirmations;
    if (!this.watchdogChecked) await this.checkWatchdog();
    if (this.state.lastBlock === null) {
      this.state.lastBlock = this.fromBlock === "latest" ? target : this.fromBlock - 1;
      this.persist();
      this.log.info("cursor-initialised", { lastBlock: this.state.lastBlock });
    }
    if (this.state.lastBlock >= target) return null;
    const fromBlock = this.state.lastBlock + 1;
    const toBlock = Math.min(target, fromBlock + this.maxRange - 1);
    // On failure mid-range, forget the range's partial window so the retry re-evaluates every event; alerts
    // already acted on stay recorded (and are skipped by id), and a pause is only re-sent if `isPaused` is false.
    const window = [...this.state.window];
    const known = [...this.state.knownRecipients];
    let result: PollResult;
    try {
      result = await this.processRange(fromBlock, toBlock);
    } catch (e) {
      this.state.window = window;
      this.state.knownRecipients = known;
      throw e;
    }
    this.state.lastBlock = toBlock;
    this.persist();
    if (result.events > 0) this.log.info("range", { ...result });
    return result;
  }

  private async checkWatchdog(): Promise<void> {
    const ok = await this.sessions.isWatchdog(this.watchdog.address, this.account);
    this.watchdogChecked = true;
    if (!ok) {
      this.log.warn("not-watchdog", {
        watchdog: this.watchdog.address,
        message: "the account has not set this key as its watchdog: alerts will be logged, pauses will fail",
      });
    }
  }

  private async processRange(fromBlock: number, toBlock: number): Promise<PollResult> {
    const logs = (
      await this.provider.getLogs({
        address: [this.sessionsAddress, this.timelockAddress],
        topics: [null, addressTopic(this.account)],
        fromBlock,
        toBlock,
      })
    )
      .map(rawLog)
      .sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);

    const timestamps = new Map<number, number>();
    for (const n of new Set(logs.map((l) => l.blockNumber))) {
      const block = await this.provider.getBlock(n);
      if (!block) throw new Error(`block ${n} not found`);
      timestamps.set(n, block.timestamp);
    }
    const receipts = new Map<string, RawLog[]>();
    let events = 0;
    let alerts = 0;
    for (const log of logs) {
      const ev = decodeLog(log, timestamps.get(log.blockNumber)!);
      if (!ev) continue;
      events++;
      if (ev.kind === "SpendRecorded") {
        let receiptLogs = receipts.get(log.transactionHash);
        if (!receiptLogs) {
          const receipt = await this.provider.getTransactionReceipt(log.transactionHash);
          if (!receipt) throw new Error(`receipt of ${log.transactionHash} not found`);
          receiptLogs = receipt.logs.map(rawLog);
          receipts.set(log.transactionHash, receiptLogs);
        }
        ev.outflows = attributeOutflows(receiptLogs, this.account, ev.token, log.index);
      }
      alerts += await this.handleEvent(ev);
    }
    return { fromBlock, toBlock, events, alerts };
  }

  /** Log, add to the window, evaluate and act on one event; returns the number of new alerts. */
  private async handleEvent(ev: MonitorEvent): Promise<number> {
    const replay = this.state.window.some((e) => e.txHash === ev.txHash && e.logIndex === ev.logIndex);
    this.log.info("saw", { name: ev.kind === "Other" ? ev.name : ev.kind, replay, ...ev, kind: undefined });
    if (ev.kind === "Other") {
      if (ev.name === "Paused") this.log.info("account-paused", { by: ev.args.by, block: ev.blockNumber });
      if (ev.name === "Unpaused") this.log.info("account-unpaused", { block: ev.blockNumber });
      return 0;
    }
    if (replay) return 0; // already evaluated (and acted on) before a restart
    const knownRecipients = new Set(this.state.knownRecipients);
    this.state.window.push(ev);
    if (this.state.window.length > this.maxWindow)
      this.state.window.splice(0, this.state.window.length - this.maxWindow);
    const fired = evaluate({ window: this.state.window, knownRecipients }, this.rules);
    if (ev.kind === "SpendRecorded") {
      for (const o of ev.outflows) knownRecipients.add(o.to.toLowerCase());
      this.state.knownRecipients = [...knownRecipients];
    }
    let fresh = 0;
    for (const alert of fired) {
      const id = `${alert.rule}:${ev.txHash}:${ev.logIndex}`;
      if (this.state.alerts.some((a) => a.id === id)) {
        this.log.info("alert-skipped", { id, reason: "already handled before a restart" });
        continue;
      }
      fresh++;
      await this.act(id, alert, ev);
    }
    return fresh;
  }

  /** Pause the account unless it already is; record and persist the decision. */
  private async act(id: string, alert: Alert, ev: MonitorEvent): Promise<void> {
    this.log.log({
      level: "warn",
      event: "alert",
      id,
      rule: alert.rule,
      severity: alert.severity,
      message: alert.message,
      numbers: alert.numbers,
    });
    const record = (action: AlertRecord["action"], pauseTx?: string): AlertRecord => ({
      ...alert,
      id,
      blockNumber: ev.blockNumber,
      txHash: ev.txHash,
      action,
      pauseTx,
      ts: new Date().toISOString(),
    });
    if (await this.sessions.isPaused(this.account)) {
      this.state.alerts.push(record("already-paused"));
      this.persist();
      this.log.info("already-paused", { id, rule: alert.rule });
      return;
    }
    let txHash: string;
    let block: number;
    try {
      const tx = await this.sessions.pause(this.account, true);
      const receipt = await tx.wait();
      txHash = tx.hash;
      block = receipt?.blockNumber ?? ev.blockNumber;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "CALL_EXCEPTION") throw e; // network trouble: the range is retried, isPaused re-checked
      this.state.alerts.push(record("pause-failed"));
      this.persist();
      this.log.error("pause-failed", { id, rule: alert.rule, error: describeError(e) });
      return;
    }
    this.state.alerts.push(record("paused", txHash));
    this.state.pausedAt = { block, txHash, rule: alert.rule, ts: new Date().toISOString() };
    this.persist();
    this.log.log({ level: "warn", event: "paused", rule: alert.rule, numbers: alert.numbers, txHash, alertId: id });
  }
}
