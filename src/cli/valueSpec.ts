/**
 * The CLI spec of a value budget (issue 19): `--value-budget UNIT:instant=20,ceiling=200,period=500/24h[,lifetime=5000]`,
 * amounts in whole units of UNIT (e.g. `USD`). Syntax only, like {@link parseBudget} (which it reuses); errors are
 * {@link UsageError}s naming the spec. Not registered as a flag yet.
 */
import { UsageError } from "./errors.js";
import { parseBudget } from "./specs.js";
import { valueBudget, type ValueBudgetConfig } from "../client/valueBudget.js";
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
