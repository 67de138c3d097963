/**
 * The CLI spec of a value budget (issue 19): `--value-budget UNIT:instant=20,ceiling=200,period=500/24h[,lifetime=5000]`,
 * amounts in whole units of UNIT (e.g. `USD`). Syntax only, like {@link parseBudget} (which it reuses); errors are
 * {@link UsageError}s naming the spec. Price sources: `--price TOKEN=1` (a stablecoin 1:1), `TOKEN=fixed:0.998`,
 * `TOKEN=feed:0xFeed,stale=1h,min=500,max=20000` (bounds in whole units, converted with the feed's decimals).
 */
import { UsageError } from "./errors.js";
import { parseBudget } from "./specs.js";
import { fixedRate, valueBudget, type ValueBudgetConfig } from "../client/valueBudget.js";
import { parseDuration } from "../client/units.js";
import type { Duration } from "../client/units.js";

/** A parsed `--value-budget` spec (amounts still decimal strings). */
export interface ValueBudgetArg {
  /** Unit symbol, 1..8 characters `A-Z0-9` (e.g. `USD`, `EUR`). */
  unit: string;
  instant?: string;
  ceiling?: string;
  periodCap: string;
  /** Duration string (`24h`). */
  period: string;
  lifetime?: string;
}

/** `UNIT:instant=…,ceiling=…,period=CAP/DURATION[,lifetime=…]` (`period` is required). */
export function parseValueBudget(raw: string, what = "--value-budget"): ValueBudgetArg {
  const b = parseBudget(raw, what);
  if (!/^[A-Z0-9]{1,8}$/.test(b.token)) {
    throw new UsageError(`${what}: unit must be 1..8 characters A-Z or 0-9 (e.g. USD), got "${b.token}"`);
  }
  if (b.periodCap === undefined || b.period === undefined) {
    throw new UsageError(`${what} ${b.token}: needs period=CAP/DURATION (e.g. period=500/24h)`);
  }
  return {
    unit: b.token,
    ...(b.instant !== undefined ? { instant: b.instant } : {}),
    ...(b.ceiling !== undefined ? { ceiling: b.ceiling } : {}),
    periodCap: b.periodCap,
    period: b.period,
    ...(b.lifetime !== undefined ? { lifetime: b.lifetime } : {}),
  };
}

/**
 * The configuration of a parsed spec in a unit with `unitDecimals` (8 for USD, as Chainlink's USD feeds).
 * Range errors (too many decimals, instant above ceiling, …) become {@link UsageError}s.
 */
export function valueBudgetFromArg(arg: ValueBudgetArg, unitDecimals = 8, what = "--value-budget"): ValueBudgetConfig {
  try {
    return valueBudget(arg.unit, unitDecimals, {
      instant: arg.instant,
      ceiling: arg.ceiling,
      perPeriod: arg.periodCap,
      period: arg.period as Duration,
      lifetime: arg.lifetime,
    });
  } catch (e) {
    throw new UsageError(`${what} ${arg.unit}: ${(e as Error).message}`);
  }
}

/** A parsed `--price` spec: the token reference and a fixed rate or a feed with its limits (still strings). */
export type PriceArg =
  | { token: string; kind: "fixed"; rate: string }
  | { token: string; kind: "feed"; feed: string; maxStaleness: bigint; min: string; max: string };

/** `TOKEN=1`, `TOKEN=fixed:RATE` or `TOKEN=feed:ADDRESS,stale=DURATION,min=PRICE,max=PRICE`. */
export function parsePrice(raw: string, what = "--price"): PriceArg {
  const m = /^([^=\s]+)=(.+)$/.exec(raw.trim());
  if (!m)
    throw new UsageError(
      `${what} "${raw}": expected TOKEN=1, TOKEN=fixed:RATE or TOKEN=feed:0xFEED,stale=1h,min=…,max=…`,
    );
  const [, token, source] = m;
  if (source === "1") return { token, kind: "fixed", rate: "1" };
  if (source.startsWith("fixed:")) {
    const rate = source.slice(6);
    try {
      fixedRate(rate);
    } catch (e) {
      throw new UsageError(`${what} ${token}: ${(e as Error).message}`);
    }
    return { token, kind: "fixed", rate };
  }
  if (!source.startsWith("feed:"))
    throw new UsageError(`${what} ${token}: unknown source "${source}" (1, fixed:RATE or feed:…)`);
  const [feed, ...fields] = source.slice(5).split(",");
  const kv = new Map<string, string>();
  for (const f of fields) {
    const [k, v] = f.split("=");
    if (!["stale", "min", "max"].includes(k) || v === undefined) {
      throw new UsageError(`${what} ${token}: unknown field "${f}" (stale=DURATION, min=PRICE, max=PRICE)`);
    }
    kv.set(k, v);
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(feed))
    throw new UsageError(`${what} ${token}: feed must be an address, got "${feed}"`);
  const min = kv.get("min");
  const max = kv.get("max");
  if (min === undefined || max === undefined) {
    throw new UsageError(`${what} ${token}: a feed needs sanity bounds min=PRICE and max=PRICE (whole units)`);
  }
  let maxStaleness: bigint;
  try {
    maxStaleness = parseDuration((kv.get("stale") ?? "1h") as Duration);
  } catch (e) {
    throw new UsageError(`${what} ${token} stale: ${(e as Error).message}`);
  }
  return { token, kind: "feed", feed, maxStaleness, min, max };
}
