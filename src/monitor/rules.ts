/**
 * Pure anomaly rules of the Reins monitor.
 *
 * Every rule looks at a window of decoded events that ends with the event just seen (the *current* event) and
 * answers either `null` or an {@link Alert}. Rules never do I/O, never read the clock and never mutate their
 * input, so they are unit-tested directly and behave the same when the monitor replays a range after a restart.
 *
 * Thresholds are inclusive: a rule with threshold `n` fires when the measured value reaches `n`, not one step
 * below it.
 */

import { RESPONSE_KINDS, type ResponseKind } from "./response.js";

/** Tier values of `IAgentSessions.Tier`. */
export const TIER = { Instant: 0, Delayed: 1, Approval: 2 } as const;

/** Where an event sits on chain; `(blockNumber, logIndex)` orders events, `txHash:logIndex` identifies one. */
export interface EventPosition {
  blockNumber: number;
  logIndex: number;
  txHash: string;
  /** Block timestamp, seconds. */
  timestamp: number;
}

/** An ERC-20 `Transfer` out of the account in the same transaction, attributed to one `SpendRecorded`. */
export interface Outflow {
  token: string;
  to: string;
  amount: bigint;
}

/** `SpendRecorded(account, sessionId, token, amount, tier, intentHash)`, plus the recipients it paid. */
export interface SpendEvent extends EventPosition {
  kind: "SpendRecorded";
  sessionId: string;
  token: string;
  amount: bigint;
  tier: number;
  intentHash: string;
  /** ERC-20 transfers from the account attributed to this spend (empty for native value; see README). */
  outflows: Outflow[];
}

/** `OperationQueued(account, sessionId, requestId, tier, token, amount, limit, intentHash)`. */
export interface QueuedEvent extends EventPosition {
  kind: "OperationQueued";
  sessionId: string;
  requestId: string;
  tier: number;
  token: string;
  amount: bigint;
  limit: bigint;
  intentHash: string;
}

/** Any other event of the sessions module or the timelock about the account (logged, not used by rules). */
export interface OtherEvent extends EventPosition {
  kind: "Other";
  name: string;
  args: Record<string, string>;
}

/** A decoded event the monitor saw. */
export type MonitorEvent = SpendEvent | QueuedEvent | OtherEvent;

export type Severity = "warning" | "critical";

/** What a rule reports when it fires. `numbers` are decimal strings (bigint-safe JSON). */
export interface Alert {
  rule: RuleName;
  severity: Severity;
  message: string;
  numbers: Record<string, string>;
}

export type RuleName = "spend-spike" | "queue-burst" | "new-recipient" | "approval-burst";

/**
 * What the monitor does when a rule fires (see `response.ts`): `"pause"` the account (default), `"tighten"` the
 * alerted session's budget through the risk-engine key, or `"tighten-then-pause"` (tighten first; pause when the
 * same session alerts again within `escalateWithinSec`). Rules not tied to one session and token always pause.
 */
export interface ResponseConfig {
  response: ResponseKind;
  /** `tighten-then-pause`: a session already tightened within this many seconds (block time) is paused. */
  escalateWithinSec: number;
}

/** Rule thresholds. Every field has a default ({@link DEFAULT_RULES}); a JSON config overrides any subset. */
export interface RulesConfig {
  /** (a) A spend of at least `factor` × the mean of the session's last `lookback` spends of the same token. */
  spendSpike: ResponseConfig & {
    enabled: boolean;
    /** Multiplier of the rolling mean (decimal allowed, 4 decimal places of precision). */
    factor: number;
    /** How many previous spends (same session and token) form the mean. */
    lookback: number;
    /** Fewer previous spends than this: no judgement yet. */
    minHistory: number;
  };
  /** (b) At least `count` `OperationQueued` (any tier) for the account within `windowSec` seconds. */
  queueBurst: ResponseConfig & { enabled: boolean; count: number; windowSec: number };
  /** (c) An ERC-20 transfer out of the account to an address never paid before. */
  newRecipient: ResponseConfig & {
    enabled: boolean;
    /** Recipients known from the start (lower- or mixed-case addresses). */
    allowlist: string[];
    /** The rule arms itself after this many distinct recipients were seen (learning phase). */
    minKnown: number;
  };
  /** (d) At least `count` approval-tier (tier 2) `OperationQueued` within `windowSec` seconds. */
  approvalBurst: ResponseConfig & { enabled: boolean; count: number; windowSec: number };
}

/** Default response of every rule: pause, escalation window one day. */
const PAUSE: ResponseConfig = { response: "pause", escalateWithinSec: 86_400 };

/** A rule's thresholds: its config without the response fields (what the pure rule functions read). */
export type Thresholds<K extends keyof RulesConfig> = Omit<RulesConfig[K], keyof ResponseConfig>;

/** Defaults, chosen for an agent that pays a handful of known recipients small, regular amounts. */
export const DEFAULT_RULES: RulesConfig = {
  spendSpike: { enabled: true, factor: 5, lookback: 10, minHistory: 3, ...PAUSE },
  queueBurst: { enabled: true, count: 5, windowSec: 600, ...PAUSE },
  newRecipient: { enabled: true, allowlist: [], minKnown: 1, ...PAUSE },
  approvalBurst: { enabled: true, count: 3, windowSec: 3600, ...PAUSE },
};

/** Context a rule sees: the window (oldest first, current event last) and the recipients paid before it. */
export interface RuleContext {
  window: readonly MonitorEvent[];
  /** Lower-case addresses the account paid before the current event (plus the allowlist). */
  knownRecipients: ReadonlySet<string>;
}

const FACTOR_SCALE = 10_000n;

function current(ctx: RuleContext): MonitorEvent | undefined {
  return ctx.window[ctx.window.length - 1];
}

/**
 * (a) Spend spike: the current `SpendRecorded` amount is ≥ `factor` × the mean of the previous `lookback` spends
 * of the same session and token, given at least `minHistory` of them. Compared in integers:
 * `amount × n × 10⁴ ≥ round(factor × 10⁴) × Σ previous`.
 */
export function spendSpike(ctx: RuleContext, cfg: Thresholds<"spendSpike">): Alert | null {
  const ev = current(ctx);
  if (!cfg.enabled || ev?.kind !== "SpendRecorded") return null;
  const token = ev.token.toLowerCase();
  const previous: bigint[] = [];
  for (let i = ctx.window.length - 2; i >= 0 && previous.length < cfg.lookback; i--) {
    const e = ctx.window[i];
    if (e.kind === "SpendRecorded" && e.sessionId === ev.sessionId && e.token.toLowerCase() === token) {
      previous.push(e.amount);
    }
  }
  if (previous.length === 0 || previous.length < cfg.minHistory) return null;
  const sum = previous.reduce((a, b) => a + b, 0n);
  const n = BigInt(previous.length);
  const factorScaled = BigInt(Math.round(cfg.factor * Number(FACTOR_SCALE)));
  if (ev.amount * n * FACTOR_SCALE < factorScaled * sum) return null;
  const mean = sum / n;
  return {
    rule: "spend-spike",
    severity: "critical",
    message: `session ${ev.sessionId.slice(0, 10)}… spent ${ev.amount} of ${ev.token}, ≥ ${cfg.factor}× its mean ${mean} over the last ${n} spends`,
    numbers: {
      amount: ev.amount.toString(),
      mean: mean.toString(),
      factor: String(cfg.factor),
      history: n.toString(),
      threshold: ((factorScaled * sum) / (n * FACTOR_SCALE)).toString(),
    },
  };
}

/** Queued events of the window within `windowSec` seconds before (and including) the current one. */
function recentQueued(ctx: RuleContext, windowSec: number, tier?: number): QueuedEvent[] {
  const ev = current(ctx);
  if (ev?.kind !== "OperationQueued") return [];
  const since = ev.timestamp - windowSec;
  return ctx.window.filter(
    (e): e is QueuedEvent =>
      e.kind === "OperationQueued" &&
      e.timestamp > since &&
      e.timestamp <= ev.timestamp &&
      (tier === undefined || e.tier === tier),
  );
}

/**
 * (b) Queue burst: ≥ `count` `OperationQueued` within the last `windowSec` seconds (timestamps in
 * `(now - windowSec, now]`). Refused operations leave no trace on chain (bundlers drop validation reverts), so a
 * burst of operations pushed above the instant tier is the visible sign of an agent probing its limits.
 */
export function queueBurst(ctx: RuleContext, cfg: Thresholds<"queueBurst">): Alert | null {
  if (!cfg.enabled) return null;
  const hits = recentQueued(ctx, cfg.windowSec);
  if (hits.length === 0 || hits.length < cfg.count) return null;
  return {
    rule: "queue-burst",
    severity: "warning",
    message: `${hits.length} operations queued within ${cfg.windowSec} s (threshold ${cfg.count})`,
    numbers: { queued: String(hits.length), count: String(cfg.count), windowSec: String(cfg.windowSec) },
  };
}

/**
 * (d) Approval burst: ≥ `count` approval-tier (tier 2) `OperationQueued` within the last `windowSec` seconds.
 * Each is an attempt to move more than the session may on its own.
 */
export function approvalBurst(ctx: RuleContext, cfg: Thresholds<"approvalBurst">): Alert | null {
  const ev = current(ctx);
  if (!cfg.enabled || ev?.kind !== "OperationQueued" || ev.tier !== TIER.Approval) return null;
  const hits = recentQueued(ctx, cfg.windowSec, TIER.Approval);
  if (hits.length < cfg.count) return null;
  return {
    rule: "approval-burst",
    severity: "critical",
    message: `${hits.length} approval-tier requests within ${cfg.windowSec} s (threshold ${cfg.count})`,
    numbers: {
      approvalRequests: String(hits.length),
      count: String(cfg.count),
      windowSec: String(cfg.windowSec),
      amount: ev.amount.toString(),
      limit: ev.limit.toString(),
    },
  };
}

/**
 * (c) New recipient: the current spend paid an address that is neither allow-listed nor paid before. Armed only
 * once `minKnown` distinct recipients are known, so the very first payments of a fresh account teach the
 * monitor instead of pausing it.
 */
export function newRecipient(ctx: RuleContext, cfg: Thresholds<"newRecipient">): Alert | null {
  const ev = current(ctx);
  if (!cfg.enabled || ev?.kind !== "SpendRecorded") return null;
  const known = knownWithAllowlist(ctx.knownRecipients, cfg.allowlist);
  if (known.size < cfg.minKnown) return null;
  const fresh = ev.outflows.find((o) => !known.has(o.to.toLowerCase()));
  if (!fresh) return null;
  return {
    rule: "new-recipient",
    severity: "critical",
    message: `session ${ev.sessionId.slice(0, 10)}… paid ${fresh.amount} of ${fresh.token} to never-seen ${fresh.to}`,
    numbers: { recipient: fresh.to, token: fresh.token, amount: fresh.amount.toString(), known: String(known.size) },
  };
}

function knownWithAllowlist(known: ReadonlySet<string>, allowlist: readonly string[]): ReadonlySet<string> {
  if (allowlist.length === 0) return known;
  const out = new Set(known);
  for (const a of allowlist) out.add(a.toLowerCase());
  return out;
}

/** Every rule, in evaluation order. */
export const RULES = [spendSpike, queueBurst, newRecipient, approvalBurst] as const;

/** Apply every rule to the window ending with the current event; returns the alerts that fired. */
export function evaluate(ctx: RuleContext, cfg: RulesConfig): Alert[] {
  const out: Alert[] = [];
  const a = spendSpike(ctx, cfg.spendSpike);
  if (a) out.push(a);
  const b = queueBurst(ctx, cfg.queueBurst);
  if (b) out.push(b);
  const c = newRecipient(ctx, cfg.newRecipient);
  if (c) out.push(c);
  const d = approvalBurst(ctx, cfg.approvalBurst);
  if (d) out.push(d);
  return out;
}

/** Raised for an invalid rules configuration; `path` names the offending field. */
export class RulesConfigError extends Error {
  override readonly name = "RulesConfigError" as const;
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`rules config: ${path}: ${message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Merge a parsed JSON config (any subset of {@link RulesConfig}) over the defaults, checking types and ranges.
 * Unknown keys are errors (a typo must not silently keep a default).
 */
export function resolveRules(input: unknown, base: RulesConfig = DEFAULT_RULES): RulesConfig {
  if (input === undefined || input === null) return structuredClone(base);
  if (!isObject(input)) throw new RulesConfigError("(root)", "must be an object");
  const out = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
  for (const [ruleKey, ruleValue] of Object.entries(input)) {
    const target = out[ruleKey];
    if (!target) throw new RulesConfigError(ruleKey, `unknown rule (known: ${Object.keys(base).join(", ")})`);
    if (!isObject(ruleValue)) throw new RulesConfigError(ruleKey, "must be an object");
    for (const [field, value] of Object.entries(ruleValue)) {
      const path = `${ruleKey}.${field}`;
      const current = target[field];
      if (current === undefined) throw new RulesConfigError(path, "unknown field");
      if (typeof current === "boolean") {
        if (typeof value !== "boolean") throw new RulesConfigError(path, "must be a boolean");
      } else if (typeof current === "number") {
        if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
          throw new RulesConfigError(path, "must be a non-negative number");
        }
        if (field !== "factor" && !Number.isInteger(value)) throw new RulesConfigError(path, "must be an integer");
      } else if (field === "response") {
        if (typeof value !== "string" || !(RESPONSE_KINDS as readonly string[]).includes(value)) {
          throw new RulesConfigError(path, `must be one of ${RESPONSE_KINDS.join(", ")}`);
        }
      } else if (Array.isArray(current)) {
        if (!Array.isArray(value) || !value.every((x) => typeof x === "string" && /^0x[0-9a-fA-F]{40}$/.test(x))) {
          throw new RulesConfigError(path, "must be an array of addresses");
        }
      }
      target[field] = value;
    }
  }
  return out as unknown as RulesConfig;
}
