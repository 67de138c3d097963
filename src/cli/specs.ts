/**
 * The compact specs the CLI takes for transfers and budgets:
 *
 * - `--allow-transfer TOKEN:to1,to2[:max]` (`*` for any recipient, ERC-20 only)
 * - `--budget TOKEN:instant=50,ceiling=500,period=1000/24h,lifetime=5000`
 * - fleet: `TOKEN:period=1000/24h,lifetime=5000`
 *
 * Parsing is syntax only (amounts stay strings until the token's decimals are known); errors are
 * {@link UsageError}s naming the spec.
 */
import { UsageError } from "./errors.js";

export interface TransferArg {
  token: string;
  /** Recipients; empty = any (ERC-20 only). */
  to: string[];
  max?: string;
}

export interface BudgetArg {
  token: string;
  instant?: string;
  ceiling?: string;
  periodCap?: string;
  period?: string;
  lifetime?: string;
}

const AMOUNT = /^\d+(\.\d+)?$/;
const DURATION = /^\d+[smhdw]$/;

function splitToken(raw: string, what: string): [string, string] {
  const i = raw.indexOf(":");
  if (i <= 0) throw new UsageError(`${what}: expected TOKEN:…, got "${raw}"`);
  return [raw.slice(0, i), raw.slice(i + 1)];
}

/** `TOKEN:to1,to2[:max]`. */
export function parseTransfer(raw: string): TransferArg {
  const what = "--allow-transfer";
  const [token, rest] = splitToken(raw, what);
  const parts = rest.split(":");
  if (parts.length > 2) throw new UsageError(`${what}: expected TOKEN:to1,to2[:max], got "${raw}"`);
  const to = parts[0] === "*" || parts[0] === "" ? [] : parts[0].split(",").map((s) => s.trim());
  const max = parts[1];
  if (max !== undefined && !AMOUNT.test(max))
    throw new UsageError(`${what} ${token}: max is not a decimal amount: ${max}`);
  return { token, to, ...(max !== undefined ? { max } : {}) };
}

/** `TOKEN:instant=…,ceiling=…,period=CAP/DURATION,lifetime=…` (fleet: only `period` and `lifetime`). */
export function parseBudget(raw: string, what = "--budget", fleet = false): BudgetArg {
  const [token, rest] = splitToken(raw, what);
  const out: BudgetArg = { token };
  const allowed = fleet ? ["period", "lifetime"] : ["instant", "ceiling", "period", "lifetime"];
  for (const field of rest.split(",")) {
    const m = /^([a-z]+)=(.+)$/.exec(field.trim());
    if (!m || !allowed.includes(m[1])) {
      throw new UsageError(`${what} ${token}: unknown field "${field}" (fields: ${allowed.join(", ")})`);
    }
    const [, key, value] = m;
    if (key === "period") {
      const p = /^([^/]+)\/(.+)$/.exec(value);
      if (!p) throw new UsageError(`${what} ${token}: period must be CAP/DURATION (e.g. 1000/24h), got ${value}`);
      if (!AMOUNT.test(p[1])) throw new UsageError(`${what} ${token}: period cap is not a decimal amount: ${p[1]}`);
      if (!DURATION.test(p[2]))
        throw new UsageError(`${what} ${token}: bad duration ${p[2]} (use e.g. 90s, 15m, 24h, 7d)`);
      out.periodCap = p[1];
      out.period = p[2];
      continue;
    }
    if (!AMOUNT.test(value)) throw new UsageError(`${what} ${token}: ${key} is not a decimal amount: ${value}`);
    if (key === "instant") out.instant = value;
    if (key === "ceiling") out.ceiling = value;
    if (key === "lifetime") out.lifetime = value;
  }
  if (!fleet && out.instant === undefined && out.ceiling === undefined) {
    throw new UsageError(`${what} ${token}: needs at least instant=…`);
  }
  return out;
}

/** Duration flag (`24h`). */
export function checkDuration(raw: string, what: string): string {
  if (!DURATION.test(raw)) throw new UsageError(`${what}: bad duration ${raw} (use e.g. 90s, 15m, 24h, 7d)`);
  return raw;
}

/** Decimal flag (`0.01`). */
export function checkAmount(raw: string, what: string): string {
  if (!AMOUNT.test(raw)) throw new UsageError(`${what}: not a decimal amount: ${raw}`);
  return raw;
}

/** The longest `--valid-for` accepted without `--allow-long`. */
export const MAX_VALID_FOR_SECONDS = 365n * 86_400n;

/**
 * `--valid-for` in seconds: a duration above zero and at most 365d (a mistyped `100000d` would grant a 274-year
 * session), unless `allowLong`.
 */
export function parseValidFor(raw: string, allowLong: boolean): bigint {
  checkDuration(raw, "--valid-for");
  const n = BigInt(raw.slice(0, -1));
  const unit = { s: 1n, m: 60n, h: 3600n, d: 86_400n, w: 604_800n }[raw.slice(-1) as "s"];
  const seconds = n * unit;
  if (seconds === 0n) throw new UsageError(`--valid-for: must be more than zero, got ${raw}`);
  if (seconds > MAX_VALID_FOR_SECONDS && !allowLong) {
    throw new UsageError(
      `--valid-for ${raw} is more than 365d (${(Number(seconds) / 31_557_600).toFixed(1)} years): pass --allow-long if you mean it`,
    );
  }
  return seconds;
}
