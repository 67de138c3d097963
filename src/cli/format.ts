/**
 * Output helpers: human amounts (token decimals), times, aligned tables, and JSON with bigints as strings.
 */
import { formatUnits } from "ethers";
import { UINT128_MAX } from "../client/policy.js";

/** `1500000` with 6 decimals → `"1.5"`; "no limit" for uint128/uint256 max. */
export function amount(value: bigint, decimals: number): string {
  if (value >= UINT128_MAX) return "unlimited";
  const s = formatUnits(value, decimals);
  return s.endsWith(".0") ? s.slice(0, -2) : s;
}

/** Unix seconds → ISO time (UTC, no milliseconds). */
export function time(seconds: bigint | number): string {
  const n = Number(seconds);
  if (n === 0) return "-";
  if (n >= 2 ** 47) return "never";
  return new Date(n * 1000).toISOString().replace(".000Z", "Z");
}

/** Seconds → `"1h"`, `"2d"`, `"90s"`. */
export function duration(seconds: bigint | number): string {
  const n = Number(seconds);
  for (const [unit, s] of [
    ["w", 604_800],
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (n >= s && n % s === 0) return `${n / s}${unit}`;
  }
  return `${n}s`;
}

/** An aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Key/value lines. */
export function keyValues(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${(k + ":").padEnd(width)}${v}`).join("\n");
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** Print either the JSON value or the human text. */
export function emit(json: boolean, value: unknown, human: string | (() => string)): void {
  process.stdout.write((json ? toJson(value) : typeof human === "function" ? human() : human) + "\n");
}
