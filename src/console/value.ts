/**
 * The console's value-budget reads (issue 19): a session's or the account's value budget with what is left now,
 * the price source of each budgeted token in words, and why a request was queued by a value budget (its
 * `ValueAssessed` event). The numbers come from the library's reads (`valueBudgetView`, `priceSourceViews`) and
 * from the event; nothing of the valuation rules is computed here or in the page.
 */
import { ZeroHash, getAddress, parseUnits, type LogDescription } from "ethers";
import { AgentSessions__factory, IEntryPoint__factory } from "../../types/ethers-contracts/index.js";
import { priceSourceViews, unitName, valueBudgetView, type ValueBudgetView } from "../client/actions/valueStatus.js";
import { PRICE_FAILURES, VALUE_LIMITS, VALUE_TIERS, formatUnitValue } from "../client/valueBudget.js";
import { duration } from "../cli/format.js";
import type { ActivityEvent } from "./data.js";
import type { ReadContext } from "./reads.js";

const UINT128_MAX = (1n << 128n) - 1n;

/** A value budget as the pages show it: {@link ValueBudgetView} plus what was spent and the raw numbers. */
export interface ValueBudgetShown extends ValueBudgetView {
  /** The window as a duration (`"24h"`). */
  periodText: string;
  /** Spent in the sliding window now (period cap − what is left), in whole units. */
  spentInWindow: string;
  /** Lifetime spent (lifetime cap − what is left), in whole units; `null` when the lifetime is unlimited. */
  lifetimeSpent: string | null;
  /** No lifetime cap (`2^128 − 1`). */
  lifetimeUnlimited: boolean;
  /** Unit base units as decimal strings (the bar's width). */
  raw: { periodCap: string; periodLeft: string; spentInWindow: string };
}

/** A token's price source as the pages show it. */
export interface PriceSourceShown {
  token: string;
  symbol: string;
  kind: "Unset" | "Fixed" | "Aggregator";
  tokenDecimals: number;
  /** `fixed 1 USD per TUSD`, `feed 0x… (stale after 3600 s)` or `none: spends need your approval`. */
  words: string;
  rate?: string;
  feed?: string;
  maxStaleness?: number;
  /** Sanity bounds of a feed's answer, in the feed's decimals (decimal strings). */
  minPrice?: string;
  maxPrice?: string;
}

/** One value verdict of a queued request (`ValueBudget.Verdict`), with the numbers in whole units. */
export interface ValueVerdictShown {
  scope: "session" | "account";
  tier: string;
  /** `ValueBudget.Limit` by name (`InstantThreshold`, `Ceiling`, `Period`, `Lifetime`, `Price`). */
  limit: string;
  value: string;
  bound: string;
  unit: string;
}

/** Why a value budget queued a request (its `ValueAssessed` event). */
export interface ValueReason {
  /** The stricter value tier (`instant`, `delayed` or `approval`). */
  tier: string;
  /** `ValuePricing.PriceFailure` by name; `null` when every token was priced. */
  failure: string | null;
  /** The token that could not be valued. */
  unpricedToken: { token: string; symbol: string } | null;
  /** The verdicts above instant (session's and account's budget). */
  verdicts: ValueVerdictShown[];
  /** One sentence per reason: `value $30 above the instant threshold $20 …`, `WETH price unavailable (Stale) …`. */
  words: string[];
}

const sessionsOf = (c: ReadContext) => AgentSessions__factory.connect(c.deployment.sessions, c.provider);

/** The value budget of `scope` (a session id, or `"account"`) with what is left now; `null` when none is set. */
export async function valueBudgetShown(c: ReadContext, scope: string | "account"): Promise<ValueBudgetShown | null> {
  const v = await valueBudgetView(sessionsOf(c), c.account, scope);
  if (!v) return null;
  const units = (s: string) => parseUnits(s, v.unitDecimals);
  const cap = units(v.periodCap);
  const left = units(v.periodLeft);
  const spent = cap > left ? cap - left : 0n;
  const lifetimeCap = units(v.lifetimeCap);
  const lifetimeLeft = units(v.lifetimeLeft);
  const unlimited = lifetimeCap >= UINT128_MAX;
  return {
    ...v,
    periodText: duration(v.period),
    spentInWindow: formatUnitValue(spent, v.unitDecimals),
    lifetimeSpent: unlimited
      ? null
      : formatUnitValue(lifetimeCap > lifetimeLeft ? lifetimeCap - lifetimeLeft : 0n, v.unitDecimals),
    lifetimeUnlimited: unlimited,
    raw: { periodCap: cap.toString(), periodLeft: left.toString(), spentInWindow: spent.toString() },
  };
}

/** The account's value unit (`"USD"`), or `""` before its first value budget. */
export async function valueUnit(c: ReadContext): Promise<string> {
  return unitName(await sessionsOf(c).valueUnitOf(c.account));
}

/** The price sources of `tokens` for the account, in words. */
export async function priceSourcesShown(c: ReadContext, tokens: string[]): Promise<PriceSourceShown[]> {
  if (!tokens.length) return [];
  const unit = await valueUnit(c);
  const out: PriceSourceShown[] = [];
  for (const p of await priceSourceViews(sessionsOf(c), c.account, tokens)) {
    const { symbol } = await c.tokens.meta(p.token);
    const shown: PriceSourceShown = {
      token: p.token,
      symbol,
      kind: p.kind,
      tokenDecimals: p.tokenDecimals,
      words: "none: spends need your approval",
    };
    if (p.kind === "Fixed") {
      shown.rate = p.rate;
      shown.words = `fixed ${p.rate}${unit ? ` ${unit} per ${symbol}` : ""}`;
    } else if (p.kind === "Aggregator") {
      Object.assign(shown, {
        feed: p.feed,
        maxStaleness: p.maxStaleness,
        minPrice: String(p.minPrice),
        maxPrice: String(p.maxPrice),
      });
      shown.words = `feed ${p.feed} (stale after ${p.maxStaleness} s)`;
    }
    out.push(shown);
  }
  return out;
}

/** An amount of the unit in words: `$30` for USD, `30 EUR` otherwise. */
export function money(value: string, unit: string): string {
  return unit === "USD" ? `$${value}` : `${value} ${unit}`.trim();
}

const LIMIT_WORDS: Record<string, (value: string, bound: string) => string> = {
  InstantThreshold: (v, b) => `value ${v} above the instant threshold ${b}: waits the session's queue delay`,
  Ceiling: (v, b) => `value ${v} above the ceiling ${b}: needs your approval`,
  Period: (v, b) => `value ${v} above what is left of the period cap (${b}): needs your approval`,
  Lifetime: (v, b) => `value ${v} above what is left of the lifetime cap (${b}): needs your approval`,
};

const USER_OPERATION_EVENT = IEntryPoint__factory.createInterface().getEvent("UserOperationEvent").topicHash;

/**
 * The `ValueAssessed` event of a queued request: in the transaction of its `OperationQueued` (`queued`), the last
 * one of the same account and session before it within the same UserOperation (the EntryPoint's
 * `UserOperationEvent` and the module's `SessionOperationExecuted` / `OperationQueued` end an operation's logs).
 */
async function valueAssessedOf(c: ReadContext, queued: ActivityEvent): Promise<LogDescription | null> {
  const receipt = await c.provider.getTransactionReceipt(queued.txHash);
  if (!receipt) return null;
  const iface = AgentSessions__factory.createInterface();
  const module = getAddress(c.deployment.sessions);
  const account = getAddress(c.account);
  let found: LogDescription | null = null;
  for (const log of receipt.logs) {
    if (log.index >= queued.logIndex) break;
    if (log.topics[0] === USER_OPERATION_EVENT) {
      found = null;
      continue;
    }
    if (getAddress(log.address) !== module) continue;
    const parsed = iface.parseLog(log);
    if (!parsed) continue;
    if (parsed.name === "SessionOperationExecuted" || parsed.name === "OperationQueued") found = null;
    else if (
      parsed.name === "ValueAssessed" &&
      getAddress(parsed.args.account as string) === account &&
      (parsed.args.sessionId as string).toLowerCase() === (queued.sessionId ?? ZeroHash).toLowerCase()
    )
      found = parsed;
  }
  return found;
}

/** Why the value budgets queued `queued` (its `ValueAssessed`), or `null` when they did not. */
export async function valueReason(c: ReadContext, queued: ActivityEvent): Promise<ValueReason | null> {
  const log = await valueAssessedOf(c, queued);
  if (!log) return null;
  const q = log.args.quote as unknown as {
    tier: bigint;
    failure: bigint;
    unpricedToken: string;
    session: { tier: bigint; limit: bigint; value: bigint; bound: bigint };
    account: { tier: bigint; limit: bigint; value: bigint; bound: bigint };
  };
  const unit = await valueUnit(c);
  const failure = PRICE_FAILURES[Number(q.failure)] ?? `failure ${q.failure}`;
  const priced = failure === "None";
  const unpriced = priced ? null : await c.tokens.meta(q.unpricedToken);
  const words: string[] = [];
  if (unpriced) words.push(`${unpriced.symbol} price unavailable (${failure}): needs your approval`);
  const verdicts: ValueVerdictShown[] = [];
  const scopes = [
    ["session", q.session, queued.sessionId ?? ZeroHash],
    ["account", q.account, "account"],
  ] as const;
  for (const [scope, v, id] of scopes) {
    const limit = VALUE_LIMITS[Number(v.limit)] ?? `limit ${v.limit}`;
    if (limit === "None") continue;
    // The numbers are in the budget's unit base units; its decimals are the budget's (fixed while it is set).
    const decimals = (await valueBudgetView(sessionsOf(c), c.account, id))?.unitDecimals;
    const f = (x: bigint) => (decimals === undefined ? `${x} base units` : formatUnitValue(x, decimals));
    const shown: ValueVerdictShown = {
      scope,
      tier: (VALUE_TIERS[Number(v.tier)] ?? String(v.tier)).toLowerCase(),
      limit,
      value: f(v.value),
      bound: limit === "Price" ? (PRICE_FAILURES[Number(v.bound)] ?? String(v.bound)) : f(v.bound),
      unit,
    };
    verdicts.push(shown);
    const say = LIMIT_WORDS[limit];
    if (say) words.push(`${scope} value budget: ${say(money(shown.value, unit), money(shown.bound, unit))}`);
  }
  return {
    tier: (VALUE_TIERS[Number(q.tier)] ?? String(q.tier)).toLowerCase(),
    failure: priced ? null : failure,
    unpricedToken: unpriced ? { token: unpriced.address, symbol: unpriced.symbol } : null,
    verdicts,
    words,
  };
}
