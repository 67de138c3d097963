/**
 * {@link ReinsMonitor}: follows one Reins account's AgentSessions and ReinsTimelock events, applies the anomaly
 * rules of `rules.ts`, and pauses the account's agent sessions through a watchdog key when a rule fires — or,
 * for rules configured with `response: "tighten"` / `"tighten-then-pause"`, first shrinks the alerted session's
 * budget through a risk-engine key and a `RiskEngineEnvelope` (see `response.ts`).
 *
 * Loop: `eth_getLogs` from the block after the last processed one up to `head - confirmations` (in chunks of
 * `maxRange` blocks), decode, evaluate every event against the window that ends with it, act, then persist the
 * state atomically. Acting is idempotent across restarts: an alert is identified by `rule:txHash:logIndex` and
 * recorded (and the state saved) right after its pause transaction is mined; a replayed alert is skipped, and a
 * pause is only sent when `isPaused(account)` is false. A tightening is recorded as `tighten-pending` (with the
 * budget it sets) before its transaction is sent, and finished on restart only if the chain does not show it yet.
 * RPC failures are retried with capped exponential backoff.
 */
import { getAddress, isAddress, type JsonRpcProvider, type Provider, type Wallet } from "ethers";
import {
  AgentSessions__factory,
  RiskEngineEnvelope__factory,
  type AgentSessions,
  type RiskEngineEnvelope,
} from "../../types/ethers-contracts/index.js";
import { addressTopic, attributeOutflows, decodeLog, rawLog, type RawLog } from "./decode.js";
import { JsonLogger } from "./log.js";
import { DEFAULT_BACKOFF, backoffDelay, describeError, sleep, type BackoffOptions } from "./rpc.js";
import {
  DEFAULT_TIGHTEN_FACTOR,
  TightenFactorError,
  atMost,
  budgetFromNumbers,
  budgetNumbers,
  canShrink,
  checkTightenFactor,
  chooseResponse,
  scaleBudget,
  sessionTarget,
  type PriorTighten,
  type SessionTarget,
  type TokenBudget,
} from "./response.js";
import {
  DEFAULT_RULES,
  evaluate,
  type Alert,
  type MonitorEvent,
  type ResponseConfig,
  type RuleName,
  type RulesConfig,
} from "./rules.js";
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
  /** Risk-engine key and envelope, required when a rule's response is `tighten` or `tighten-then-pause`. */
  engine?: EngineOptions;
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

/** How the monitor tightens budgets. */
export interface EngineOptions {
  /** Risk-engine key: the account gave it an active envelope in `envelope`; connected to `provider` here. */
  key: Wallet;
  /** `RiskEngineEnvelope` address (the account must have it as grant delegate in AgentSessions). */
  envelope: string;
  /** Multiplier applied to every budget field, in (0, 1) (default {@link DEFAULT_TIGHTEN_FACTOR}). */
  tightenFactor?: number;
}

const RULE_KEYS: Record<RuleName, keyof RulesConfig> = {
  "spend-spike": "spendSpike",
  "queue-burst": "queueBurst",
  "new-recipient": "newRecipient",
  "approval-burst": "approvalBurst",
};

/** Fields of a pause decision that came from a tightening that could not be done. */
type TightenFallback = Pick<
  AlertRecord,
  "sessionId" | "token" | "eventTs" | "before" | "after" | "tightenTx" | "tightenError"
>;

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
  private readonly engine?: { key: Wallet; envelope: RiskEngineEnvelope; address: string; factor: number };
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
  private engineChecked = false;

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
    if (opts.engine) {
      if (!isAddress(opts.engine.envelope)) {
        throw new MonitorConfigError(`envelope: not an address: ${opts.engine.envelope}`);
      }
      let factor: number;
      try {
        factor = checkTightenFactor(opts.engine.tightenFactor ?? DEFAULT_TIGHTEN_FACTOR);
      } catch (e) {
        if (e instanceof TightenFactorError) throw new MonitorConfigError(e.message);
        throw e;
      }
      const key = opts.engine.key.connect(opts.provider);
      const address = getAddress(opts.engine.envelope);
      this.engine = { key, address, factor, envelope: RiskEngineEnvelope__factory.connect(address, key) };
    }
    const tightening = (Object.keys(RULE_KEYS) as RuleName[]).filter((r) => {
      const c = this.responseOf(r);
      return c.response !== "pause" && (this.rules[RULE_KEYS[r]] as { enabled: boolean }).enabled;
    });
    if (tightening.length > 0 && !this.engine) {
      throw new MonitorConfigError(
        `rules ${tightening.join(", ")} respond by tightening: a risk-engine key and an envelope address are required`,
      );
    }
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
      engine: this.engine?.key.address,
      envelope: this.engine?.address,
      tightenFactor: this.engine?.factor,
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
    if (!this.engineChecked) await this.checkEngine();
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

  private async checkEngine(): Promise<void> {
    if (!this.engine) {
      this.engineChecked = true;
      return;
    }
    const [delegate, [, activeFrom], block] = await Promise.all([
      this.sessions.isGrantDelegate(this.engine.address, this.account),
      this.engine.envelope.envelopeOf(this.engine.key.address, this.account),
      this.provider.getBlock("latest"),
    ]);
    this.engineChecked = true;
    const now = block?.timestamp ?? 0;
    if (!delegate || activeFrom === 0n || activeFrom > BigInt(now)) {
      this.log.warn("not-engine", {
        engine: this.engine.key.address,
        envelope: this.engine.address,
        grantDelegate: delegate,
        envelopeActiveFrom: Number(activeFrom),
        message:
          "the envelope is not the account's grant delegate or has no active envelope for this key yet: tightening will fail and fall back to pausing",
      });
    }
  }

  private responseOf(rule: RuleName): ResponseConfig {
    return this.rules[RULE_KEYS[rule]];
  }

  /** Earlier tightenings of the account (done or pending), for `tighten-then-pause`. */
  private priorTightens(): PriorTighten[] {
    const out: PriorTighten[] = [];
    for (const a of this.state.alerts) {
      if ((a.action === "tightened" || a.action === "tighten-pending") && a.sessionId && a.eventTs !== undefined) {
        out.push({ sessionId: a.sessionId, eventTs: a.eventTs });
      }
    }
    return out;
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
    // A tightening sent (or about to be) when the monitor stopped: finish it without tightening twice.
    for (const pending of this.state.alerts.filter(
      (a) => a.action === "tighten-pending" && a.txHash === ev.txHash && a.id.endsWith(`:${ev.txHash}:${ev.logIndex}`),
    )) {
      this.log.info("alert-resumed", { id: pending.id, reason: "tightening pending before a restart" });
      if (!(await this.tighten(pending, pending))) await this.pauseFor(pending.id, pending, ev, this.fallback(pending));
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
        // includes a pending tightening, finished above
        this.log.info("alert-skipped", { id, reason: "already handled before a restart" });
        continue;
      }
      fresh++;
      await this.act(id, alert, ev);
    }
    return fresh;
  }

  /** Log the alert, then tighten the session or pause the account as the rule's response says. */
  private async act(id: string, alert: Alert, ev: MonitorEvent): Promise<void> {
    const cfg = this.responseOf(alert.rule);
    this.log.log({
      level: "warn",
      event: "alert",
      id,
      rule: alert.rule,
      severity: alert.severity,
      message: alert.message,
      numbers: alert.numbers,
      response: cfg.response,
    });
    const decision = chooseResponse(
      cfg.response,
      sessionTarget(alert, ev),
      ev.timestamp,
      this.priorTightens(),
      cfg.escalateWithinSec,
    );
    if (decision.action === "pause") {
      if (decision.reason !== "configured") {
        this.log.info("response", { id, rule: alert.rule, action: "pause", reason: decision.reason });
      }
      await this.pauseFor(id, alert, ev);
      return;
    }
    const pending = this.newTightening(id, alert, ev, decision.target);
    if (!(await this.tighten(pending))) await this.pauseFor(id, alert, ev, this.fallback(pending));
  }

  private newTightening(id: string, alert: Alert, ev: MonitorEvent, target: SessionTarget): AlertRecord {
    return {
      ...alert,
      id,
      blockNumber: ev.blockNumber,
      txHash: ev.txHash,
      action: "tighten-pending",
      sessionId: target.sessionId,
      token: target.token,
      eventTs: ev.timestamp,
      ts: new Date().toISOString(),
    };
  }

  private fallback(r: AlertRecord): TightenFallback {
    return {
      sessionId: r.sessionId,
      token: r.token,
      eventTs: r.eventTs,
      before: r.before,
      after: r.after,
      tightenTx: r.tightenTx,
      tightenError: r.tightenError,
    };
  }

  /**
   * Tighten `record.sessionId`'s budget for `record.token` through the envelope, recording `tighten-pending`
   * (persisted) before sending and `tightened` once mined. `resumed` is a pending record from before a restart:
   * if the chain already shows a budget at least as tight as the one it meant to set, it is only marked done.
   * Returns false (with `record.tightenError` set and the record removed) when tightening is not possible, so
   * the caller pauses instead; throws on network errors (the range is retried and the pending record resumed).
   */
  private async tighten(record: AlertRecord, resumed?: AlertRecord): Promise<boolean> {
    const sessionId = record.sessionId!;
    const token = record.token!;
    const unavailable = (reason: string, extra: Record<string, unknown> = {}): false => {
      record.tightenError = reason;
      this.state.alerts = this.state.alerts.filter((a) => a !== record);
      this.persist();
      this.log.error("tighten-failed", { id: record.id, rule: record.rule, sessionId, token, reason, ...extra });
      return false;
    };
    if (!this.engine) return unavailable("no risk-engine key configured");
    const [onChain] = await this.sessions.budgetOf(sessionId, this.account, token);
    const before: TokenBudget = {
      token,
      instantThreshold: onChain.instantThreshold,
      ceiling: onChain.ceiling,
      periodCap: onChain.periodCap,
      lifetimeCap: onChain.lifetimeCap,
      period: onChain.period,
    };
    if (before.period === 0n) return unavailable("the session has no budget for this token");
    let after: TokenBudget;
    if (resumed?.after) {
      const meant = budgetFromNumbers(token, resumed.after);
      if (atMost(before, meant)) {
        resumed.action = "tightened";
        this.persist();
        this.log.warn("tightened", {
          rule: record.rule,
          sessionId,
          token,
          before: resumed.before,
          after: resumed.after,
          txHash: resumed.tightenTx ?? null,
          alertId: record.id,
          recovered: true,
        });
        return true;
      }
      // Not applied (the transaction never made it): set what was meant, never above what the chain has now.
      const min = (a: bigint, b: bigint) => (a < b ? a : b);
      after = {
        token,
        instantThreshold: min(meant.instantThreshold, before.instantThreshold),
        ceiling: min(meant.ceiling, before.ceiling),
        periodCap: min(meant.periodCap, before.periodCap),
        lifetimeCap: min(meant.lifetimeCap, before.lifetimeCap),
        period: before.period,
      };
    } else {
      if (!canShrink(before, this.engine.factor)) return unavailable("the budget is already zero");
      after = scaleBudget(before, this.engine.factor);
      record.before = budgetNumbers(before);
    }
    record.after = budgetNumbers(after);
    if (!this.state.alerts.includes(record)) this.state.alerts.push(record);
    this.persist(); // tighten-pending, with the budget it sets, before anything is sent
    try {
      const tx = await this.engine.envelope.tighten(this.account, sessionId, after);
      record.tightenTx = tx.hash;
      this.persist();
      await tx.wait();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "CALL_EXCEPTION") throw e; // network trouble: the range is retried, the pending record resumed
      return unavailable(describeError(e), { tightenTx: record.tightenTx });
    }
    record.action = "tightened";
    record.ts = new Date().toISOString();
    this.persist();
    this.log.warn("tightened", {
      rule: record.rule,
      sessionId,
      token,
      before: record.before,
      after: record.after,
      txHash: record.tightenTx,
      alertId: record.id,
    });
    return true;
  }

  /** Pause the account unless it already is; record and persist the decision. */
  private async pauseFor(id: string, alert: Alert, ev: MonitorEvent, extra: TightenFallback = {}): Promise<void> {
    const record = (action: AlertRecord["action"], pauseTx?: string): AlertRecord => ({
      ...alert,
      ...extra,
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
