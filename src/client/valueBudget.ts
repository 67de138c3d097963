/**
 * Value budgets (issue 19): a budget in money (e.g. USD with 8 decimals) across tokens, each token valued by a
 * price source. This module mirrors `contracts/libraries/ValueBudget.sol` and `ValuePricing.sol`: the ABI of a
 * configuration and of a price source, the valuation arithmetic (rounded up, against the agent) and the enums
 * by name. Set them with `ReinsOwner.configureValue` / `setValueBudget` / `setPriceSource` (one owner operation
 * after the grant: the session's grant struct, which `PolicyBuilder` builds, has no value-budget field).
 */
import { AbiCoder, encodeBytes32String, getAddress, ZeroAddress, dataSlice } from "ethers";
import { PolicyError } from "./errors.js";
import { parseAmount, parseDuration, type Amount, type Duration } from "./units.js";

/** Largest token or unit decimals the contracts handle. */
export const VALUE_MAX_DECIMALS = 24;
/** Largest price decimals the contracts handle. */
export const VALUE_MAX_PRICE_DECIMALS = 36;
/** Largest amount the contracts value (2^128 base units). */
export const VALUE_MAX_AMOUNT = 1n << 128n;

const UINT128_MAX = (1n << 128n) - 1n;
const UINT32_MAX = (1n << 32n) - 1n;

/** ABI type of `ValuePricing.Source` (field order of the Solidity struct). */
export const PRICE_SOURCE_ABI =
  "tuple(uint8 kind,uint8 rateDecimals,uint32 maxStaleness,address feed,uint128 rate,uint128 minPrice,uint128 maxPrice)";

/** ABI type of `ValueBudget.Config` (field order of the Solidity struct). */
export const VALUE_BUDGET_CONFIG_ABI =
  "tuple(bytes8 unit,uint8 unitDecimals,uint32 period,uint128 instantThreshold,uint128 ceiling,uint128 periodCap,uint128 lifetimeCap)";

/** `ValuePricing.Kind`, by name (index = Solidity value). */
export const PRICE_SOURCE_KINDS = ["Unset", "Fixed", "Aggregator"] as const;

/** `ValuePricing.PriceFailure`, by name (index = Solidity value). */
export const PRICE_FAILURES = [
  "None",
  "NoSource",
  "FeedReverted",
  "BadDecimals",
  "ZeroPrice",
  "NegativePrice",
  "Stale",
  "OutOfBounds",
  "AmountTooLarge",
  "Overflow",
] as const;
/** A `ValuePricing.PriceFailure` name. */
export type PriceFailure = (typeof PRICE_FAILURES)[number];

/** `ValueBudget.Tier`, by name (index = Solidity value; 0..2 equal the session tiers). */
export const VALUE_TIERS = ["Instant", "Delayed", "Approval", "Refused"] as const;
/** A `ValueBudget.Tier` name. */
export type ValueTier = (typeof VALUE_TIERS)[number];

/** `ValueBudget.Limit`, by name (index = Solidity value). */
export const VALUE_LIMITS = ["None", "InstantThreshold", "Ceiling", "Period", "Lifetime", "Price", "Unset"] as const;
/** A `ValueBudget.Limit` name. */
export type ValueLimit = (typeof VALUE_LIMITS)[number];

/**
 * A price source: a fixed rate (`price` whole units per whole token, scaled by `10^rateDecimals`; a stablecoin
 * at 1:1 is `{ kind: "fixed", rate: 1n, rateDecimals: 0 }`), or a Chainlink-style aggregator with a maximum
 * staleness (seconds) and sanity bounds in the feed's decimals.
 */
export type PriceSource =
  | { kind: "fixed"; rate: bigint; rateDecimals: number }
  | { kind: "aggregator"; feed: string; maxStaleness: bigint; minPrice: bigint; maxPrice: bigint };

/** A value-budget configuration in unit base units (`10^unitDecimals` per whole unit). */
export interface ValueBudgetConfig {
  /** Unit symbol, e.g. `"USD"` (1..8 ASCII characters). */
  unit: string;
  unitDecimals: number;
  /** Window length in seconds. */
  period: bigint;
  instantThreshold: bigint;
  ceiling: bigint;
  periodCap: bigint;
  /** Lifetime cap; `2^128 - 1` for none. */
  lifetimeCap: bigint;
}

/** The tuple of `ValuePricing.Source` as ethers takes it, checked. Throws {@link PolicyError} ("bad config"). */
export function priceSourceTuple(src: PriceSource) {
  if (src.kind === "fixed") {
    if (src.rate <= 0n || src.rate > UINT128_MAX) bad(`fixed rate must be in 1..2^128-1, got ${src.rate}`);
    checkInt(src.rateDecimals, VALUE_MAX_PRICE_DECIMALS, "rate decimals");
    return {
      kind: 1,
      rateDecimals: src.rateDecimals,
      maxStaleness: 0,
      feed: ZeroAddress,
      rate: src.rate,
      minPrice: 0n,
      maxPrice: 0n,
    };
  }
  if (src.maxStaleness <= 0n || src.maxStaleness > UINT32_MAX)
    bad(`maxStaleness must be in 1..2^32-1 s, got ${src.maxStaleness}`);
  if (src.minPrice <= 0n) bad(`minPrice must be above zero, got ${src.minPrice}`);
  if (src.maxPrice < src.minPrice || src.maxPrice > UINT128_MAX) {
    bad(`maxPrice must be in minPrice (${src.minPrice})..2^128-1, got ${src.maxPrice}`);
  }
  return {
    kind: 2,
    rateDecimals: 0,
    maxStaleness: src.maxStaleness,
    feed: getAddress(src.feed),
    rate: 0n,
    minPrice: src.minPrice,
    maxPrice: src.maxPrice,
  };
}

/** ABI encoding of a price source (one `ValuePricing.Source`). */
export function encodePriceSource(src: PriceSource): string {
  return AbiCoder.defaultAbiCoder().encode([PRICE_SOURCE_ABI], [priceSourceTuple(src)]);
}

/** The tuple of `ValueBudget.Config` as ethers takes it, checked. Throws {@link PolicyError} ("bad config"). */
export function valueBudgetTuple(c: ValueBudgetConfig) {
  if (!/^[\x21-\x7e]{1,8}$/.test(c.unit)) bad(`unit must be 1..8 printable ASCII characters, got "${c.unit}"`);
  checkInt(c.unitDecimals, VALUE_MAX_DECIMALS, "unit decimals");
  if (c.period <= 0n || c.period > UINT32_MAX) bad(`period must be in 1..2^32-1 s, got ${c.period}`);
  for (const [name, v] of Object.entries({
    instant: c.instantThreshold,
    ceiling: c.ceiling,
    period: c.periodCap,
    lifetime: c.lifetimeCap,
  })) {
    if (v < 0n || v > UINT128_MAX) bad(`${name} ${v} does not fit 128 bits`);
  }
  if (c.instantThreshold > c.ceiling) bad(`instant ${c.instantThreshold} is above ceiling ${c.ceiling}`);
  return {
    unit: dataSlice(encodeBytes32String(c.unit), 0, 8),
    unitDecimals: c.unitDecimals,
    period: c.period,
    instantThreshold: c.instantThreshold,
    ceiling: c.ceiling,
    periodCap: c.periodCap,
    lifetimeCap: c.lifetimeCap,
  };
}

/** ABI encoding of a value-budget configuration (one `ValueBudget.Config`). */
export function encodeValueBudgetConfig(c: ValueBudgetConfig): string {
  return AbiCoder.defaultAbiCoder().encode([VALUE_BUDGET_CONFIG_ABI], [valueBudgetTuple(c)]);
}

/** Human limits of a value budget: amounts in whole units (`"20"`, `"0.5"`), durations like `"24h"`. */
export interface ValueBudgetLimits {
  instant?: Amount;
  ceiling?: Amount;
  perPeriod: Amount;
  period: Duration;
  lifetime?: Amount;
}

/**
 * A configuration from human limits: `ceiling` defaults to `instant` (no delayed tier), `instant` to 0 (every
 * spend waits the delay), `lifetime` to none. Throws {@link PolicyError}.
 */
export function valueBudget(unit: string, unitDecimals: number, l: ValueBudgetLimits): ValueBudgetConfig {
  checkInt(unitDecimals, VALUE_MAX_DECIMALS, "unit decimals");
  const amount = (a: Amount | undefined, what: string) =>
    a === undefined ? undefined : parseAmount(a, unitDecimals, `value budget ${unit} ${what}`);
  const instantThreshold = amount(l.instant, "instant") ?? 0n;
  const ceiling = amount(l.ceiling, "ceiling") ?? instantThreshold;
  const config: ValueBudgetConfig = {
    unit,
    unitDecimals,
    period: parseDuration(l.period),
    instantThreshold,
    ceiling,
    periodCap: amount(l.perPeriod, "period cap")!,
    lifetimeCap: amount(l.lifetime, "lifetime") ?? UINT128_MAX,
  };
  valueBudgetTuple(config); // range checks
  return config;
}

/** The stablecoin source: 1 token = 1 unit (the decimals conversion is done by {@link valueOf}). */
export const ONE_TO_ONE: PriceSource = { kind: "fixed", rate: 1n, rateDecimals: 0 };

/** A fixed-rate source from a decimal string (`"0.998"` units per token). Throws {@link PolicyError}. */
export function fixedRate(rate: string): PriceSource {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(rate.trim());
  if (!m) bad(`fixed rate "${rate}" is not a decimal number`);
  const rateDecimals = (m[2] ?? "").length;
  return { kind: "fixed", rate: parseAmount(rate, rateDecimals, "fixed rate"), rateDecimals };
}

/**
 * `ValuePricing.convert`: the value of `amount` token base units in unit base units,
 * `ceil(amount * price * 10^unitDecimals / 10^(tokenDecimals + priceDecimals))`, or the failure the contract
 * reports for these inputs (`BadDecimals`, `AmountTooLarge`, `OutOfBounds`, `Overflow`).
 */
export function valueOf(
  amount: bigint,
  price: bigint,
  priceDecimals: number,
  tokenDecimals: number,
  unitDecimals: number,
): { value: bigint; failure?: undefined } | { value?: undefined; failure: PriceFailure } {
  if (tokenDecimals > VALUE_MAX_DECIMALS || unitDecimals > VALUE_MAX_DECIMALS) return { failure: "BadDecimals" };
  if (priceDecimals > VALUE_MAX_PRICE_DECIMALS) return { failure: "BadDecimals" };
  if (amount > VALUE_MAX_AMOUNT) return { failure: "AmountTooLarge" };
  if (price > UINT128_MAX) return { failure: "OutOfBounds" };
  const num = amount * price * 10n ** BigInt(unitDecimals);
  const den = 10n ** BigInt(tokenDecimals + priceDecimals);
  const value = (num + den - 1n) / den;
  if (value >= 1n << 256n) return { failure: "Overflow" };
  return { value };
}

/** A whole-unit decimal string of `value` unit base units (`2000000000n`, 8 → `"20"`). */
export function formatUnitValue(value: bigint, unitDecimals: number): string {
  const scale = 10n ** BigInt(unitDecimals);
  const whole = value / scale;
  const frac = (value % scale).toString().padStart(unitDecimals, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

function checkInt(n: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > max) bad(`${what} must be an integer in 0..${max}, got ${n}`);
}

function bad(message: string): never {
  throw new PolicyError("bad config", message);
}
