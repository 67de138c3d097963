/**
 * Human units for the Reins client: durations like `"90s"`, `"15m"`, `"24h"`, `"7d"`, and decimal amounts like
 * `"100.5"` scaled by a token's decimals. Malformed input throws {@link PolicyError}.
 */
import { PolicyError } from "./errors.js";

/** A duration: seconds as a number/bigint, or a string `<n>s|m|h|d|w`. */
export type Duration = number | bigint | `${number}${"s" | "m" | "h" | "d" | "w"}`;

const UNIT_SECONDS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n, w: 604_800n };

/** Seconds in `d`. Throws {@link PolicyError} ("bad duration") for anything else than whole non-negative seconds. */
export function parseDuration(d: Duration): bigint {
  if (typeof d === "bigint") {
    if (d < 0n) throw new PolicyError("bad duration", `negative duration ${d}`);
    return d;
  }
  if (typeof d === "number") {
    if (!Number.isSafeInteger(d) || d < 0) throw new PolicyError("bad duration", `bad duration ${d}`);
    return BigInt(d);
  }
  const m = /^(\d+)([smhdw])$/.exec(String(d).trim());
  if (!m) throw new PolicyError("bad duration", `bad duration "${d}" (use e.g. "90s", "15m", "24h", "7d")`);
  return BigInt(m[1]) * UNIT_SECONDS[m[2]];
}

/** A token amount: base units as a bigint, or a decimal string in whole tokens (`"100.5"`). */
export type Amount = bigint | string;

/**
 * Base units of `amount` for a token with `decimals`. Throws {@link PolicyError}: "too many decimals" when the
 * string has more fractional digits than the token, "bad amount" when it is not a non-negative decimal.
 */
export function parseAmount(amount: Amount, decimals: number, what = "amount"): bigint {
  if (typeof amount === "bigint") {
    if (amount < 0n) throw new PolicyError("bad amount", `${what}: negative amount ${amount}`);
    return amount;
  }
  const m = /^(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new PolicyError("bad amount", `${what}: "${amount}" is not a decimal amount`);
  const fraction = m[2] ?? "";
  if (fraction.length > decimals) {
    throw new PolicyError("too many decimals", `${what}: "${amount}" has more than ${decimals} decimals`, {
      amount,
      decimals,
    });
  }
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}
