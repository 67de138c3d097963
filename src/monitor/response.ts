/**
 * Pure response selection of the Reins monitor: what to do when a rule fires.
 *
 * Every rule has a `response` in the rules config:
 * - `"pause"` (default): `pause(account, true)` from the watchdog key, as before.
 * - `"tighten"`: shrink the alerted session's budget for the alerted token through the risk-engine key
 *   (`RiskEngineEnvelope.tighten`), every field scaled by the tighten factor, same period; the account keeps
 *   running.
 * - `"tighten-then-pause"`: tighten on the first alert for a session; pause when the same session already had a
 *   tightening alert within the rule's `escalateWithinSec` (block-time seconds, so a replay decides the same).
 *
 * Only rules that point at one session and one token can tighten (`spend-spike`, `new-recipient`); the others
 * (`queue-burst`, `approval-burst` count events across the whole account) always pause. Nothing here does I/O.
 */
import type { Alert, MonitorEvent, RuleName } from "./rules.js";

/** Every response a rule can be configured with. */
export const RESPONSE_KINDS = ["pause", "tighten", "tighten-then-pause"] as const;

/** What a rule asks for when it fires. */
export type ResponseKind = (typeof RESPONSE_KINDS)[number];

/** Rules whose alert is about the current `SpendRecorded` event's session and token. */
export const SESSION_BOUND_RULES: ReadonlySet<RuleName> = new Set<RuleName>(["spend-spike", "new-recipient"]);

/** One session budget for one token (`IAgentSessions.TokenBudget`). */
export interface TokenBudget {
  token: string;
  instantThreshold: bigint;
  ceiling: bigint;
  periodCap: bigint;
  lifetimeCap: bigint;
  period: bigint;
}

/** A {@link TokenBudget} without the token, amounts as decimal strings: how budgets are logged and stored. */
export interface BudgetNumbers {
  instantThreshold: string;
  ceiling: string;
  periodCap: string;
  lifetimeCap: string;
  period: string;
}

/** The session and token an alert is about. */
export interface SessionTarget {
  sessionId: string;
  token: string;
}

/** A previous tightening of the account (from the state's alert records). */
export interface PriorTighten {
  sessionId: string;
  /** Block timestamp of the event that triggered it. */
  eventTs: number;
}

/** The monitor's decision for one alert. */
export type Decision =
  | { action: "pause"; reason: "configured" | "not-session-bound" | "escalated" }
  | { action: "tighten"; target: SessionTarget };

/** Default multiplier applied to every budget field when tightening. */
export const DEFAULT_TIGHTEN_FACTOR = 0.5;

const FACTOR_SCALE = 10_000n;

/** Raised for a tighten factor outside (0, 1). */
export class TightenFactorError extends Error {
  override readonly name = "TightenFactorError" as const;
}

/** Check a tighten factor: a finite number strictly between 0 and 1 (4 decimal places are used). */
export function checkTightenFactor(factor: number): number {
  const scaled = Math.round(factor * Number(FACTOR_SCALE));
  if (!Number.isFinite(factor) || scaled <= 0 || scaled >= Number(FACTOR_SCALE)) {
    throw new TightenFactorError(`tighten factor must be > 0 and < 1 (4 decimal places), got ${factor}`);
  }
  return factor;
}

/** The session and token of an alert, or `null` when the rule is not about one session and token. */
export function sessionTarget(alert: Alert, ev: MonitorEvent): SessionTarget | null {
  if (!SESSION_BOUND_RULES.has(alert.rule) || ev.kind !== "SpendRecorded") return null;
  return { sessionId: ev.sessionId, token: ev.token };
}

/**
 * Choose between pausing and tightening. `priorTightens` are the account's earlier tightenings; only those of
 * the same session with `eventTs` in `[eventTs - escalateWithinSec, eventTs]` escalate a `tighten-then-pause`.
 */
export function chooseResponse(
  response: ResponseKind,
  target: SessionTarget | null,
  eventTs: number,
  priorTightens: readonly PriorTighten[],
  escalateWithinSec: number,
): Decision {
  if (response === "pause") return { action: "pause", reason: "configured" };
  if (target === null) return { action: "pause", reason: "not-session-bound" };
  if (response === "tighten-then-pause") {
    const since = eventTs - escalateWithinSec;
    const again = priorTightens.some(
      (p) => p.sessionId === target.sessionId && p.eventTs >= since && p.eventTs <= eventTs,
    );
    if (again) return { action: "pause", reason: "escalated" };
  }
  return { action: "tighten", target };
}

/**
 * Every amount field of `budget` times `factor` (rounded down, integer arithmetic with 4 decimal places), same
 * token and period. Rounding down every field by the same factor keeps `instantThreshold ≤ ceiling`, and no field
 * ever grows, so the result is always accepted by `tightenBudgetFor`.
 */
export function scaleBudget(budget: TokenBudget, factor: number): TokenBudget {
  const f = BigInt(Math.round(checkTightenFactor(factor) * Number(FACTOR_SCALE)));
  const scale = (v: bigint) => (v * f) / FACTOR_SCALE;
  return {
    token: budget.token,
    instantThreshold: scale(budget.instantThreshold),
    ceiling: scale(budget.ceiling),
    periodCap: scale(budget.periodCap),
    lifetimeCap: scale(budget.lifetimeCap),
    period: budget.period,
  };
}

/** Whether every amount field of `a` is ≤ the same field of `b` (same period): `a` is at least as tight. */
export function atMost(a: TokenBudget, b: TokenBudget): boolean {
  return (
    a.period === b.period &&
    a.instantThreshold <= b.instantThreshold &&
    a.ceiling <= b.ceiling &&
    a.periodCap <= b.periodCap &&
    a.lifetimeCap <= b.lifetimeCap
  );
}

/** Whether tightening `budget` by `factor` would change anything (false for a budget that is all zeros). */
export function canShrink(budget: TokenBudget, factor: number): boolean {
  return !atMost(budget, scaleBudget(budget, factor));
}

/** Budget → decimal strings (for log lines and the state file). */
export function budgetNumbers(b: TokenBudget): BudgetNumbers {
  return {
    instantThreshold: b.instantThreshold.toString(),
    ceiling: b.ceiling.toString(),
    periodCap: b.periodCap.toString(),
    lifetimeCap: b.lifetimeCap.toString(),
    period: b.period.toString(),
  };
}

/** Decimal strings → budget. */
export function budgetFromNumbers(token: string, n: BudgetNumbers): TokenBudget {
  return {
    token,
    instantThreshold: BigInt(n.instantThreshold),
    ceiling: BigInt(n.ceiling),
    periodCap: BigInt(n.periodCap),
    lifetimeCap: BigInt(n.lifetimeCap),
    period: BigInt(n.period),
  };
}
