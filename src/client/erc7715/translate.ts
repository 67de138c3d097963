/**
 * {@link translatePermissionRequest}: one ERC-7715 permission request → the Reins session that grants exactly it,
 * through the {@link policy} builder, or an {@link Erc7715Error} naming the field Reins cannot express.
 *
 * | ERC-7715 | Reins session |
 * |---|---|
 * | `to` (or legacy `signer.data.address`) | `agent` (the session key) |
 * | `expiry` rule `{ timestamp }` | `validUntil` (no expiry rule: `validUntil` = 2^48 − 1, i.e. none) |
 * | `startTime` | `validAfter` (transfers are blocked before it, as in MetaMask) |
 * | `*-periodic` `{ periodAmount, periodDuration }` | budget: period cap `periodAmount` over `periodDuration` s, instant threshold = ceiling = `periodAmount`, and no single transfer above `periodAmount` |
 * | `*-allowance` `{ allowanceAmount }` | budget: lifetime cap `allowanceAmount`, instant threshold = ceiling = `allowanceAmount` |
 * | `erc20-*` `tokenAddress` | permission `transfer(address,uint256)` on the token (nothing else: no `approve`, no `transferFrom`) |
 * | `native-*` | plain value transfers (empty call data) to each payee |
 * | `payee` rule `{ addresses }` | ERC-20: `oneOf` condition on the recipient; native: one permission per payee |
 * | `redeemer` rule `{ addresses }` | accepted only when it is exactly `[to]` (only the `to` key can sign the agent's operations) |
 *
 * Refused, with the reason (never approximated):
 * - `native-token-stream`, `erc20-token-stream`: a stream is linear accrual — `initialAmount + amountPerSecond ×
 *   (now − startTime)`, at most `maxAmount` — and Reins budgets are a sliding-window cap plus a lifetime cap. No
 *   such pair equals a stream: a window cap `c` lets the agent spend `c` at once, which the stream only allows
 *   `(c − initialAmount) / amountPerSecond` seconds after the start; any window small enough to never exceed the
 *   stream early withholds what the stream has accrued later. Expressing streams exactly would need a per-second
 *   accrual budget in AgentSessions (a contract change), so Reins refuses them.
 * - `erc20-token-revocation` (approve(spender, 0) on any token: Reins scopes are per target contract), unknown
 *   permission types, unknown rule types and unknown data fields.
 * - A native-token permission without a `payee` rule: Reins scopes native transfers per recipient, so "any
 *   recipient" has no exact form.
 * - A `redeemer` rule other than `[to]`, a wrong chain or `from`, amounts of zero or above the module's caps.
 *
 * Periodic permissions and the sliding window. ERC-7715 / MetaMask periods are fixed: the allowance resets at
 * `startTime + k × periodDuration`, so up to twice `periodAmount` can move around a boundary. A Reins budget caps
 * ANY `periodDuration` seconds at `periodAmount` (and frees spent budget between `periodDuration + 1` and
 * `4 × ceil(periodDuration / 3)` seconds after the spend, see SpendWindow). The Reins session therefore never lets
 * the agent spend more than the requested permission would, but may make it wait longer; the response says so
 * (`reins.window: "sliding"`). Pass `exactPeriodsOnly: true` to refuse periodic requests instead.
 *
 * What the request does not say and Reins must: gas. The account pays the agent's gas (unless a paymaster does)
 * within `gas.perOp` / `gas.total` ETH (defaults of the policy builder: 0.01 and 0.1), outside the token budget.
 * Operations are not counted (`maxUses` 2^32 − 1) unless `maxUses` is given.
 */
import { getAddress, isAddress, toQuantity } from "ethers";
import { policy, type PolicyBuilder } from "../policy.js";
import type { Duration } from "../units.js";
import { Erc7715Error } from "./errors.js";
import {
  typeName,
  type Erc7715Permission,
  type Erc7715Rule,
  type Hex,
  type PermissionRequest,
  type SupportedPermissionType,
} from "./types.js";

/** Largest uint48: a session with this `validUntil` has no end. */
export const NO_EXPIRY = (1n << 48n) - 1n;
/** Largest uint32: no limit on the number of operations. */
export const UNLIMITED_USES = (1n << 32n) - 1n;
/** Largest budget ceiling AgentSessions stores (uint112). */
export const MAX_CEILING = (1n << 112n) - 1n;

/** What the owner decides that an ERC-7715 request does not say. */
export interface Erc7715GrantOptions {
  /** Gas the account may pay for the agent, in ETH (default: the policy builder's 0.01 per op, 0.1 in total). */
  gas?: { perOp?: string | bigint; total?: string | bigint };
  /** Cap on the number of operations (default {@link UNLIMITED_USES}: none). */
  maxUses?: number | bigint;
  /** Allow paymaster-sponsored operations (default false). */
  allowPaymaster?: boolean;
  /** How long an over-budget operation waits for the owner's approval before it expires (default 24h). */
  approvalWindow?: Duration;
  /** Refuse periodic permissions instead of granting the stricter sliding window (default false). */
  exactPeriodsOnly?: boolean;
}

/** Where the grant happens: the chain and the granting account. */
export interface TranslateContext {
  chainId: bigint;
  account: string;
}

/** A request Reins can grant: its normalized form and the policy that grants it. */
export interface Translation {
  /** Index in the params array (for error paths). */
  index: number;
  chainId: Hex;
  to: string;
  type: SupportedPermissionType;
  /** `address(0)` for native. */
  token: string;
  /** Period cap (periodic) or lifetime cap (allowance), base units. */
  amount: bigint;
  /** Seconds (periodic only). */
  period?: bigint;
  payees?: string[];
  validAfter: bigint;
  validUntil: bigint;
  /** The permission and rules to echo (`from`, `expiry` folded into rules). */
  permission: Erc7715Permission;
  rules: Erc7715Rule[];
  /** The policy that grants it (`build` resolves it against the chain). */
  builder: PolicyBuilder;
}

const PERMISSION_FIELDS: Record<SupportedPermissionType, { required: string[]; optional: string[] }> = {
  "native-token-periodic": { required: ["periodAmount", "periodDuration"], optional: ["startTime", "justification"] },
  "erc20-token-periodic": {
    required: ["tokenAddress", "periodAmount", "periodDuration"],
    optional: ["startTime", "justification"],
  },
  "native-token-allowance": { required: ["allowanceAmount"], optional: ["startTime", "justification"] },
  "erc20-token-allowance": {
    required: ["tokenAddress", "allowanceAmount"],
    optional: ["startTime", "justification"],
  },
};

const STREAM_REASON =
  "a stream accrues linearly (initialAmount + amountPerSecond × elapsed, at most maxAmount) and Reins budgets are " +
  "a sliding-window cap plus a lifetime cap: no window cap equals per-second accrual (a cap c over any window lets " +
  "the agent spend c at once, which the stream allows only after (c − initialAmount) / amountPerSecond seconds), " +
  "so Reins refuses streams rather than grant more, or less, than requested";

const REQUEST_FIELDS = ["chainId", "from", "address", "to", "permission", "rules", "signer", "expiry"];

/**
 * Check one ERC-7715 permission request and turn it into the Reins policy that grants exactly it (see the module
 * doc for the mapping and what is refused). Throws {@link Erc7715Error}; reads nothing from the chain.
 */
export function translatePermissionRequest(
  raw: unknown,
  index: number,
  ctx: TranslateContext,
  options: Erc7715GrantOptions = {},
): Translation {
  const at = (f: string) => `[${index}]${f ? "." + f : ""}`;
  const req = object(raw, at(""));
  for (const key of Object.keys(req)) {
    if (!REQUEST_FIELDS.includes(key)) {
      throw new Erc7715Error("not expressible", at(key), `unknown request field "${key}": Reins cannot enforce it`);
    }
  }

  const chainId = chainIdOf(req.chainId, at("chainId"));
  if (BigInt(chainId) !== ctx.chainId) {
    throw new Erc7715Error(
      "wrong target",
      at("chainId"),
      `chain ${BigInt(chainId)} is not this chain (${ctx.chainId})`,
    );
  }
  for (const key of ["from", "address"] as const) {
    if (req[key] === undefined) continue;
    const from = address(req[key], at(key));
    if (from !== getAddress(ctx.account)) {
      throw new Erc7715Error("wrong target", at(key), `account ${from} is not this wallet's account ${ctx.account}`);
    }
  }

  const to = agentOf(req, at);
  const permission = permissionOf(req.permission, at("permission"));
  const type = typeName(permission.type);
  const rules = rulesOf(req, at);

  if (type === "native-token-stream" || type === "erc20-token-stream") {
    throw new Erc7715Error("unsupported permission", at("permission.type"), `${type}: ${STREAM_REASON}`, { type });
  }
  if (type === "erc20-token-revocation") {
    throw new Erc7715Error(
      "unsupported permission",
      at("permission.type"),
      "erc20-token-revocation allows approve(spender, 0) on any token contract; Reins scopes calls per target " +
        "contract, so it cannot express 'any token'",
      { type },
    );
  }
  if (!(type in PERMISSION_FIELDS)) {
    throw new Erc7715Error(
      "unsupported permission",
      at("permission.type"),
      `unknown permission type "${type}" (Reins grants ${Object.keys(PERMISSION_FIELDS).join(", ")})`,
      { type },
    );
  }
  const supported = type as SupportedPermissionType;
  const data = permission.data;
  const fields = PERMISSION_FIELDS[supported];
  for (const key of Object.keys(data)) {
    if (!fields.required.includes(key) && !fields.optional.includes(key)) {
      throw new Erc7715Error(
        "not expressible",
        at(`permission.data.${key}`),
        `unknown field "${key}" of ${type}: Reins cannot enforce it`,
      );
    }
  }
  for (const key of fields.required) {
    if (data[key] === undefined) {
      throw new Erc7715Error("malformed", at(`permission.data.${key}`), `${type} needs "${key}"`);
    }
  }
  if (data.justification !== undefined && typeof data.justification !== "string") {
    throw new Erc7715Error("malformed", at("permission.data.justification"), "justification must be a string");
  }

  const periodic = supported.endsWith("-periodic");
  if (periodic && options.exactPeriodsOnly) {
    throw new Erc7715Error(
      "not expressible",
      at("permission.type"),
      `${type} resets at fixed period boundaries; Reins budgets are sliding windows (stricter), and ` +
        "exactPeriodsOnly is set",
    );
  }
  const amountField = periodic ? "periodAmount" : "allowanceAmount";
  const amount = hexAmount(data[amountField], at(`permission.data.${amountField}`));
  if (amount > MAX_CEILING) {
    throw new Erc7715Error(
      "not expressible",
      at(`permission.data.${amountField}`),
      `${amount} is above the largest budget AgentSessions stores (2^112 − 1)`,
    );
  }
  const period = periodic
    ? seconds(data.periodDuration, at("permission.data.periodDuration"), 1n, (1n << 32n) - 1n)
    : undefined;
  const startTime =
    data.startTime === undefined ? 0n : seconds(data.startTime, at("permission.data.startTime"), 0n, NO_EXPIRY);
  const native = supported.startsWith("native-");
  const token = native
    ? "0x0000000000000000000000000000000000000000"
    : address(data.tokenAddress, at("permission.data.tokenAddress"));

  const expiry = rules.expiry ?? NO_EXPIRY;
  if (expiry <= startTime) {
    throw new Erc7715Error(
      "malformed",
      at("rules"),
      `the expiry (${expiry}) is not after the start time (${startTime}): the permission could never be used`,
    );
  }
  if (native && !rules.payees) {
    throw new Erc7715Error(
      "not expressible",
      at("rules"),
      `${type} without a payee rule allows native transfers to any address; Reins scopes native transfers per ` +
        "recipient, so add a payee rule with the recipients",
    );
  }
  if (rules.redeemers && !(rules.redeemers.length === 1 && rules.redeemers[0] === to)) {
    throw new Erc7715Error(
      "unsupported rule",
      at("rules"),
      `redeemer ${rules.redeemers.join(", ")}: Reins cannot restrict who relays the agent's operations; only the ` +
        `session key (to = ${to}) can sign them, so the only redeemer rule Reins enforces exactly is [to]`,
    );
  }

  const builder = policy()
    .agent(to)
    .validAfter(startTime)
    .validUntil(expiry)
    .maxUses(options.maxUses ?? UNLIMITED_USES)
    .allowPaymaster(options.allowPaymaster ?? false)
    .queue({ approvalWindow: options.approvalWindow ?? "24h" });
  if (options.gas) builder.gas(options.gas);
  const tokenRef = native ? "ETH" : token;
  builder.allowTransfer(tokenRef, { ...(rules.payees ? { to: rules.payees } : {}), max: amount });
  builder.budget(
    tokenRef,
    periodic
      ? { instant: amount, ceiling: amount, perPeriod: amount, period: period! }
      : { instant: amount, ceiling: amount, lifetime: amount },
  );

  const echoRules: Erc7715Rule[] = (Array.isArray(req.rules) ? (req.rules as Erc7715Rule[]) : []).slice();
  if (rules.expiry !== undefined && !echoRules.some((r) => typeName(r.type) === "expiry")) {
    echoRules.push({ type: "expiry", data: { timestamp: Number(rules.expiry) } });
  }
  return {
    index,
    chainId,
    to,
    type: supported,
    token,
    amount,
    ...(period !== undefined ? { period } : {}),
    ...(rules.payees ? { payees: rules.payees } : {}),
    validAfter: startTime,
    validUntil: expiry,
    permission: { type, isAdjustmentAllowed: permission.isAdjustmentAllowed, data },
    rules: echoRules,
    builder,
  };
}

function object(v: unknown, field: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new Erc7715Error("malformed", field || "params", "expected an object");
  }
  return v as Record<string, unknown>;
}

function address(v: unknown, field: string): string {
  if (typeof v !== "string" || !isAddress(v)) throw new Erc7715Error("malformed", field, "expected an address");
  return getAddress(v);
}

function chainIdOf(v: unknown, field: string): Hex {
  if (typeof v === "number" && Number.isSafeInteger(v) && v > 0) return toQuantity(v) as Hex;
  if (typeof v === "string" && /^0x[0-9a-fA-F]+$/.test(v) && BigInt(v) > 0n) return toQuantity(BigInt(v)) as Hex;
  throw new Erc7715Error("malformed", field, "expected a hex chain id");
}

function hexAmount(v: unknown, field: string): bigint {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) {
    throw new Erc7715Error("malformed", field, `expected a 0x-hex amount in base units, got ${JSON.stringify(v)}`);
  }
  const n = BigInt(v);
  if (n === 0n) throw new Erc7715Error("malformed", field, "the amount is zero: the permission would allow nothing");
  return n;
}

function seconds(v: unknown, field: string, min: bigint, max: bigint): bigint {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || BigInt(v) < min || BigInt(v) > max) {
    throw new Erc7715Error("malformed", field, `expected whole seconds in ${min}…${max}, got ${JSON.stringify(v)}`);
  }
  return BigInt(v);
}

function agentOf(req: Record<string, unknown>, at: (f: string) => string): string {
  let signer: string | undefined;
  if (req.signer !== undefined) {
    const s = object(req.signer, at("signer"));
    if (s.type !== "account") {
      throw new Erc7715Error(
        "not expressible",
        at("signer.type"),
        `signer type ${JSON.stringify(s.type)}: Reins grants to an account (session key) address`,
      );
    }
    signer = address(object(s.data, at("signer.data")).address, at("signer.data.address"));
  }
  if (req.to === undefined) {
    if (!signer) throw new Erc7715Error("malformed", at("to"), "the request needs `to` (the session account)");
    return signer;
  }
  const to = address(req.to, at("to"));
  if (signer && signer !== to) {
    throw new Erc7715Error("malformed", at("signer"), `signer ${signer} contradicts to ${to}`);
  }
  return to;
}

function permissionOf(v: unknown, field: string): Erc7715Permission {
  const p = object(v, field);
  const t = p.type;
  const name = typeof t === "string" ? t : t && typeof t === "object" ? (t as { name?: unknown }).name : undefined;
  if (typeof name !== "string") throw new Erc7715Error("malformed", `${field}.type`, "expected a permission type");
  if (p.isAdjustmentAllowed !== undefined && typeof p.isAdjustmentAllowed !== "boolean") {
    throw new Erc7715Error("malformed", `${field}.isAdjustmentAllowed`, "expected a boolean");
  }
  return {
    type: t as Erc7715Permission["type"],
    isAdjustmentAllowed: (p.isAdjustmentAllowed as boolean | undefined) ?? false,
    data: object(p.data ?? {}, `${field}.data`),
  };
}

interface Rules {
  expiry?: bigint;
  payees?: string[];
  redeemers?: string[];
}

function rulesOf(req: Record<string, unknown>, at: (f: string) => string): Rules {
  const out: Rules = {};
  if (req.rules !== undefined && !Array.isArray(req.rules)) {
    throw new Erc7715Error("malformed", at("rules"), "expected an array of rules");
  }
  const list = (req.rules as unknown[] | undefined) ?? [];
  list.forEach((raw, i) => {
    const field = at(`rules[${i}]`);
    const r = object(raw, field);
    const name = typeName((r.type ?? "") as Erc7715Rule["type"]);
    const data = object(r.data, `${field}.data`);
    if (name === "expiry") {
      if (out.expiry !== undefined) throw new Erc7715Error("malformed", field, "more than one expiry rule");
      out.expiry = seconds(data.timestamp, `${field}.data.timestamp`, 1n, NO_EXPIRY);
    } else if (name === "payee" || name === "redeemer") {
      const key = name === "payee" ? "payees" : "redeemers";
      if (out[key]) throw new Erc7715Error("malformed", field, `more than one ${name} rule`);
      if (!Array.isArray(data.addresses) || data.addresses.length === 0) {
        throw new Erc7715Error("malformed", `${field}.data.addresses`, "expected a non-empty array of addresses");
      }
      const addresses = data.addresses.map((a, k) => address(a, `${field}.data.addresses[${k}]`));
      out[key] = [...new Set(addresses)];
    } else {
      throw new Erc7715Error(
        "unsupported rule",
        `${field}.type`,
        `unknown rule type "${name}" (Reins enforces expiry, payee and redeemer = [to])`,
        { type: name },
      );
    }
  });
  if (req.expiry !== undefined) {
    const legacy = seconds(req.expiry, at("expiry"), 1n, NO_EXPIRY);
    if (out.expiry !== undefined && out.expiry !== legacy) {
      throw new Erc7715Error("malformed", at("expiry"), `expiry ${legacy} contradicts the expiry rule ${out.expiry}`);
    }
    out.expiry = legacy;
  }
  return out;
}
