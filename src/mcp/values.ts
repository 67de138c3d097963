/**
 * Value helpers of the Reins MCP server: validation of tool inputs (addresses, amounts, ids) with errors that name
 * the field, and the JSON shapes every tool returns for amounts (token units AND base units) and times (ISO AND
 * unix seconds). Nothing here touches the chain.
 */
import { ZeroAddress, formatUnits, getAddress } from "ethers";
import { UINT128_MAX } from "../client/policy.js";

/** A token the server knows: decimals always come from the chain (`decimals()`), never from input. */
export interface McpToken {
  symbol: string;
  /** Zero address for native ETH. */
  address: string;
  decimals: number;
}

/** Native ETH. */
export const ETH: McpToken = { symbol: "ETH", address: ZeroAddress, decimals: 18 };

/** Bad tool input (a tool result with `isError: true` and status "invalid", never a crash). */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(
    /** The input field at fault (`recipient`, `amount`, `args[1]` …). */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** An amount in both units. `amount` is "unlimited" for uint128/uint256-max caps. */
export interface AmountJson {
  /** Decimal string in whole tokens (`"50.5"`), or `"unlimited"`. */
  amount: string;
  /** Base units as a decimal string (`"50500000"`). */
  base: string;
  symbol: string;
  /** Token address; the zero address is native ETH. */
  token: string;
  decimals: number;
}

/** A point in time in both forms. `iso` is null for "never" (0 or far-future sentinels). */
export interface TimeJson {
  iso: string | null;
  unix: number;
}

/** `value` (base units) of `token` in both units. */
export function amountJson(value: bigint, token: McpToken): AmountJson {
  let human: string;
  if (value >= UINT128_MAX) human = "unlimited";
  else {
    human = formatUnits(value, token.decimals);
    if (human.endsWith(".0")) human = human.slice(0, -2);
  }
  return {
    amount: human,
    base: value.toString(),
    symbol: token.symbol,
    token: token.address,
    decimals: token.decimals,
  };
}

/** Unix seconds in both forms. */
export function timeJson(seconds: bigint | number): TimeJson {
  const n = Number(seconds);
  const never = n === 0 || n >= 2 ** 47;
  return { iso: never ? null : new Date(n * 1000).toISOString().replace(".000Z", "Z"), unix: n };
}

/**
 * An address input: 0x + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum (a typo in one
 * letter is caught instead of paying a different address). Returns the checksummed form.
 */
export function parseAddressInput(raw: string, field: string): string {
  const s = raw.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(s))
    throw new InputError(field, `${field}: not an address (0x + 40 hex digits): ${raw}`);
  const lower = s.slice(2) === s.slice(2).toLowerCase();
  const upper = s.slice(2) === s.slice(2).toUpperCase();
  if (!lower && !upper) {
    try {
      return getAddress(s);
    } catch {
      throw new InputError(
        field,
        `${field}: bad EIP-55 checksum: ${raw} (did you mean ${getAddress(s.toLowerCase())}?)`,
      );
    }
  }
  return getAddress(s.toLowerCase());
}

/** A positive decimal amount in whole tokens with at most the token's decimals (read on chain). */
export function parseAmountInput(raw: string, token: McpToken, field = "amount"): bigint {
  const s = raw.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new InputError(field, `${field}: not a positive decimal amount in whole ${token.symbol}: "${raw}"`);
  const fraction = m[2] ?? "";
  if (fraction.length > token.decimals) {
    throw new InputError(
      field,
      `${field}: "${raw}" has ${fraction.length} decimals, ${token.symbol} has ${token.decimals} (read on chain)`,
    );
  }
  const value = BigInt(m[1]) * 10n ** BigInt(token.decimals) + BigInt(fraction.padEnd(token.decimals, "0") || "0");
  if (value === 0n) throw new InputError(field, `${field}: must be more than zero`);
  if (value >= UINT128_MAX) throw new InputError(field, `${field}: "${raw}" is too large`);
  return value;
}

/** A 32-byte hex id (request id). Returns it lower-cased. */
export function parseIdInput(raw: string, field: string): string {
  const s = raw.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(s)) throw new InputError(field, `${field}: not a 32-byte hex id: ${raw}`);
  return s.toLowerCase();
}

/** JSON-safe copy: bigints become decimal strings. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}
