/**
 * A fluent builder for AgentSessions session configurations in human units:
 *
 * ```ts
 * const config = await policy()
 *   .agent(agentAddress)
 *   .validFor("24h")
 *   .maxUses(100)
 *   .gas({ perOp: "0.01", total: "0.5" })
 *   .allowTransfer("USDC", { to: [alice, bob], max: "100.5" })
 *   .budget("USDC", { instant: "50", ceiling: "500", perPeriod: "1000", period: "24h", lifetime: "5000" })
 *   .build({ provider, tokens: { USDC: { address: usdc, decimals: 6 } } });
 * ```
 *
 * `build` refuses bad configurations with a {@link PolicyError} before anything reaches the chain, among them
 * permissions that could hand the account's assets to anyone later (an allowance or operator grant without a
 * condition on the spender), amounts in unstated units, and conditions that an agent could dodge by moving the
 * argument (words reached through ABI offsets are pinned to their canonical offsets; words inside a dynamic tail
 * are refused).
 *
 * ```ts
 * policy().agent(a).allowCall(router, {
 *   fn: "exactInput((bytes,address,uint256,uint256))",
 *   conditions: [{ word: 2, equals: account }, { word: 3, atMost: units("500", 6) }],
 * }); // adds { word: 0, equals: 0x20 } so the tuple, and the recipient in it, cannot be moved
 * ```
 */
import {
  Contract,
  ZeroAddress,
  getAddress,
  isAddress,
  isHexString,
  toBeHex,
  zeroPadValue,
  type Provider,
} from "ethers";
import type { IAgentSessions } from "../../types/ethers-contracts/contracts/modules/AgentSessions.js";
import { PolicyError } from "./errors.js";
import { parseAmount, parseDuration, type Amount, type Duration } from "./units.js";
import { abiLayout, allowanceFunction, type AbiLayout, type OffsetPin } from "./abiLayout.js";

/** The session configuration `AgentSessions.grantSession` takes (typechain struct). */
export type SessionConfig = IAgentSessions.SessionConfigStruct;
/** One permission of a session (typechain struct). */
export type Permission = IAgentSessions.PermissionStruct;
/** One token budget of a session (typechain struct). */
export type TokenBudget = IAgentSessions.TokenBudgetStruct;

/** `AgentSessions` condition operators. */
export const ConditionOp = { None: 0, Equal: 1, AtMost: 2, AtLeast: 3, OneOf: 4 } as const;

/**
 * Most argument conditions AgentSessions accepts per permission (its `_MAX_CONDITIONS`), counting the offset pins
 * the builder adds.
 */
export const MAX_CONDITIONS = 4;

/** Largest uint128: "no limit" for caps the builder leaves open. */
export const UINT128_MAX = (1n << 128n) - 1n;

/** A token known by symbol. */
export interface TokenInfo {
  address: string;
  decimals: number;
}
/** Symbol → token. `"ETH"` is always native (address zero, 18 decimals). */
export type TokenRegistry = Record<string, TokenInfo>;

/** A token reference: `"ETH"`, a symbol from the registry, or an address. */
export type TokenRef = string;

/** A decimal amount with its decimals stated: `units("50", 6)` is 50,000,000 base units. */
export interface Units {
  amount: string;
  decimals: number;
}
/** A decimal amount in whole tokens of `token` (a symbol, `"ETH"` or an address; decimals resolved at build). */
export interface TokenUnits {
  amount: string;
  token: TokenRef;
}
/** An amount in a condition: base units as a bigint, or a decimal amount with explicit units. */
export type ConditionAmount = bigint | Units | TokenUnits;
/** A word value in a condition: an address, a 0x-hex word (≤ 32 bytes) or a {@link ConditionAmount}. */
export type ConditionValue = string | ConditionAmount;

/** `{ amount, decimals }` for a condition amount: `units("50", 6)`. */
export function units(amount: string, decimals: number): Units {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 77) {
    throw new PolicyError("bad amount", `units: bad decimals ${decimals}`);
  }
  return { amount, decimals };
}

/**
 * A condition on argument word `word` (0-based, after the selector). Exactly one comparison. Amounts must state
 * their units (bigint base units, {@link units}, or `{ amount, token }`); a bare string or number is refused.
 */
export type ConditionSpec =
  | { word: number; equals: ConditionValue }
  | { word: number; atMost: ConditionAmount }
  | { word: number; atLeast: ConditionAmount }
  | { word: number; oneOf: ConditionValue[] };

/** Options of {@link PolicyBuilder.allowCall}. */
export interface CallSpec {
  /**
   * Function signature (`"approve(address,uint256)"`, names allowed) or 4-byte selector. Conditions need the
   * signature (a bare selector is only enough for the allowance functions the builder knows).
   */
  fn: string;
  /** Native value cap per call, in ETH (default 0). */
  value?: Amount;
  /**
   * Exact call-data length in bytes. For a signature without dynamic arguments the builder sets it (4 + 32 × head
   * words) and refuses another value; otherwise default any.
   */
  calldataLength?: number;
  /** Argument conditions: at most {@link MAX_CONDITIONS} together with the offset pins the builder adds. */
  conditions?: ConditionSpec[];
}

/** Options of {@link PolicyBuilder.allowTransfer}. */
export interface TransferSpec {
  /** Allowed recipients (required for ETH; for ERC-20 omitted means any). */
  to?: string[];
  /** Maximum per transfer, in whole tokens (`"100.5"`) or base units (bigint). */
  max?: Amount;
}

/** Options of {@link PolicyBuilder.budget}, in whole tokens. */
export interface BudgetSpec {
  /** Up to this runs at once. */
  instant: Amount;
  /** Up to this waits the queue delay; above it, owner approval (default: `instant`). */
  ceiling?: Amount;
  /** Cap over any window of `period` (default: no cap). */
  perPeriod?: Amount;
  /** Window length (default `"24h"`). */
  period?: Duration;
  /** Cap over the session's life (default: no cap). */
  lifetime?: Amount;
}

/** What {@link PolicyBuilder.build} needs from the outside world. */
export interface BuildContext {
  /** Reads token decimals, target code and the current block time. */
  provider: Provider;
  /** The account the session is for (only used to refuse scopes that target it). */
  account?: string;
  /** Symbols the builder may use. */
  tokens?: TokenRegistry;
}

const erc20 = ["function decimals() view returns (uint8)"];
const TRANSFER_SELECTOR = "0xa9059cbb";

interface PendingPermission {
  target: TokenRef;
  selector: string;
  /** Canonical signature, when known (from `fn` or the allowance table). */
  signature?: string;
  value: Amount;
  valueIsNative: boolean;
  calldataLength: number;
  /** Whether the caller gave `calldataLength`. */
  lengthGiven: boolean;
  conditions: ConditionSpec[];
}

/** AgentSessions `reserveTransferAuthorization` (EIP-3009 payments, {@link PolicyBuilder.allowX402}). */
const RESERVE_SELECTOR = "0xb8c43d4d";

/** Whether `p` lets the agent pay EIP-3009 authorizations of `token` (pinned as word 0). */
function reservesToken(p: Permission, token: string): boolean {
  if (String(p.selector).toLowerCase() !== RESERVE_SELECTOR) return false;
  const pinned = zeroPadValue(token, 32).toLowerCase();
  return p.conditions.some(
    (c) => Number(c.word) === 0 && Number(c.op) === ConditionOp.Equal && String(c.value).toLowerCase() === pinned,
  );
}

/** Fluent builder of a {@link SessionConfig}; see the module doc. */
export class PolicyBuilder {
  private agentAddress?: string;
  private validAfterAt = 0n;
  private validForSeconds?: Duration;
  private validUntilAt?: bigint;
  private uses = 1000n;
  private gasPerOp: Amount = "0.01";
  private gasTotal: Amount = "0.1";
  private delay: Duration = "1h";
  private window: Duration = "24h";
  private tryAllowed = false;
  private paymasterAllowed = false;
  private readonly permissions: PendingPermission[] = [];
  private readonly budgets: { token: TokenRef; spec: BudgetSpec }[] = [];

  /** The agent's session key address. */
  agent(address: string): this {
    this.agentAddress = address;
    return this;
  }

  /** Valid from now (or `validAfter`) for `duration`. */
  validFor(duration: Duration): this {
    this.validForSeconds = duration;
    this.validUntilAt = undefined;
    return this;
  }

  /** Valid until a fixed time (unix seconds or Date). */
  validUntil(at: bigint | Date): this {
    this.validUntilAt = at instanceof Date ? BigInt(Math.floor(at.getTime() / 1000)) : at;
    this.validForSeconds = undefined;
    return this;
  }

  /** Not valid before this time (unix seconds or Date). */
  validAfter(at: bigint | Date): this {
    this.validAfterAt = at instanceof Date ? BigInt(Math.floor(at.getTime() / 1000)) : at;
    return this;
  }

  /** Maximum number of operations (default 1000). */
  maxUses(n: number | bigint): this {
    this.uses = BigInt(n);
    return this;
  }

  /** Gas the account may pay for the agent, in ETH: per operation (default 0.01) and in total (default 0.1). */
  gas(limits: { perOp?: Amount; total?: Amount }): this {
    if (limits.perOp !== undefined) this.gasPerOp = limits.perOp;
    if (limits.total !== undefined) this.gasTotal = limits.total;
    return this;
  }

  /** Delay of the delayed tier (default 1h) and how long a queued operation stays executable (default 24h). */
  queue(opts: { delay?: Duration; approvalWindow?: Duration }): this {
    if (opts.delay !== undefined) this.delay = opts.delay;
    if (opts.approvalWindow !== undefined) this.window = opts.approvalWindow;
    return this;
  }

  /** Allow "try" execution modes (failed calls do not revert the batch). */
  allowTry(allowed = true): this {
    this.tryAllowed = allowed;
    return this;
  }

  /** Allow operations sponsored by a paymaster. */
  allowPaymaster(allowed = true): this {
    this.paymasterAllowed = allowed;
    return this;
  }

  /**
   * Allow transfers of `token`: for ERC-20, `transfer(to, amount)` with the recipient among `to` and the amount at
   * most `max`; for `"ETH"`, plain value transfers of at most `max` to each of `to`.
   */
  allowTransfer(token: TokenRef, spec: TransferSpec = {}): this {
    if (token.toUpperCase() === "ETH") {
      if (!spec.to?.length) throw new PolicyError("bad config", "ETH transfers need an explicit recipient list");
      for (const to of spec.to) {
        this.permissions.push({
          target: to,
          selector: "0x00000000",
          value: spec.max ?? UINT128_MAX,
          valueIsNative: true,
          calldataLength: 0,
          lengthGiven: true,
          conditions: [],
        });
      }
      return this;
    }
    const conditions: ConditionSpec[] = [];
    if (spec.to?.length) conditions.push({ word: 0, oneOf: spec.to });
    // `max` is in whole tokens of the token transferred (or base units as a bigint): the units are known.
    if (spec.max !== undefined) {
      conditions.push({
        word: 1,
        atMost: typeof spec.max === "string" ? { amount: spec.max, token } : spec.max,
      });
    }
    this.permissions.push({
      target: token,
      selector: TRANSFER_SELECTOR,
      signature: "transfer(address,uint256)",
      value: 0n,
      valueIsNative: true,
      calldataLength: 68,
      lengthGiven: true,
      conditions,
    });
    return this;
  }

  /**
   * Allow x402 / EIP-3009 payments in `token` (an address: the EIP-712 domain is bound to it): the agent may pay
   * for a `TransferWithAuthorization` through AgentSessions (`sessions`, the module's address), which charges the
   * session's budget of `token` like a transfer and lets the account's ERC-1271 accept exactly that authorization
   * (see `reinsX402Signer` in `reins/x402`). Like {@link allowTransfer}: `payTo` limits the payees, `max` each payment. The
   * session needs a budget for `token` (default deny).
   */
  allowX402(sessions: string, token: string, spec: { payTo?: string[]; max?: Amount } = {}): this {
    if (!isAddress(token)) throw new PolicyError("bad config", `x402 token must be an address, got ${token}`);
    const conditions: ConditionSpec[] = [{ word: 0, equals: getAddress(token) }];
    if (spec.payTo?.length) conditions.push({ word: 1, oneOf: spec.payTo });
    if (spec.max !== undefined) {
      conditions.push({ word: 2, atMost: typeof spec.max === "string" ? { amount: spec.max, token } : spec.max });
    }
    return this.allowCall(sessions, {
      fn: "reserveTransferAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes32,bytes32)",
      conditions,
    });
  }

  /**
   * Allow calls of `fn` on `target`, optionally with argument conditions. Checked at {@link build}: allowance and
   * operator grants (`approve`, `increaseAllowance`, `approveAndCall`, `setApprovalForAll`, ERC-2612 and Permit2
   * `permit`, Permit2 `approve`, …) need an Equal or OneOf condition on the spender / operator; amounts must state
   * their units ({@link units}, `{ amount, token }` or a bigint in base units); a condition on a word reached
   * through ABI offsets gets Equal conditions pinning those offsets to their canonical values, and one inside a
   * dynamic tail (bytes, string, array elements) is refused; a signature without dynamic arguments gets its exact
   * call-data length.
   */
  allowCall(target: string, spec: CallSpec): this {
    let selector: string;
    let signature: string | undefined;
    if (/^0x[0-9a-fA-F]{8}$/.test(spec.fn)) {
      selector = spec.fn.toLowerCase();
      signature = allowanceFunction(selector)?.signature;
    } else {
      try {
        const layout = abiLayout(spec.fn);
        selector = layout.selector;
        signature = layout.signature;
      } catch (e) {
        throw new PolicyError("bad config", `fn: "${spec.fn}" is neither a function signature nor a selector`, {
          fn: spec.fn,
          cause: (e as Error).message,
        });
      }
    }
    this.permissions.push({
      target,
      selector,
      ...(signature !== undefined ? { signature } : {}),
      value: spec.value ?? 0n,
      valueIsNative: true,
      calldataLength: spec.calldataLength ?? 0,
      lengthGiven: spec.calldataLength !== undefined,
      conditions: spec.conditions ?? [],
    });
    return this;
  }

  /** Budget of `token` (`"ETH"` = native) with its tiers and caps, in whole tokens. */
  budget(token: TokenRef, spec: BudgetSpec): this {
    this.budgets.push({ token, spec });
    return this;
  }

  /**
   * Resolve tokens, amounts and durations and check the configuration. Throws {@link PolicyError} for: no agent,
   * empty scope, unknown token symbol, an amount with too many decimals, a threshold above its ceiling, a ceiling
   * above the period cap, a zero period, a budget for a token no permission can move, a contract call to an
   * address without code, or a validity end in the past; and, per permission (see {@link allowCall}): an
   * allowance or operator grant without an equals/oneOf condition on its spender ("unrestricted allowance"), a
   * condition amount without units ("ambiguous amount"), conditions with a bare unknown selector ("unknown
   * signature"), a condition inside a dynamic tail, beyond the arguments or on an ABI offset, more than
   * {@link MAX_CONDITIONS} conditions with the offset pins ("too many conditions"), or a call-data length that a
   * static signature can never have ("bad calldata length").
   */
  async build(ctx: BuildContext): Promise<SessionConfig> {
    if (!this.agentAddress || !isAddress(this.agentAddress)) {
      throw new PolicyError("missing agent", "the session needs an agent address");
    }
    if (this.permissions.length === 0) throw new PolicyError("empty scope", "the session allows no call at all");
    const resolver = new TokenResolver(ctx);

    const permissions: Permission[] = [];
    for (const p of this.permissions) {
      const target = p.target.toUpperCase() === "ETH" ? ZeroAddress : (await resolver.resolve(p.target)).address;
      if (p.selector !== "0x00000000" && (await ctx.provider.getCode(target)) === "0x") {
        throw new PolicyError("target without code", `call target ${target} has no code`, { target });
      }
      if (ctx.account && getAddress(target) === getAddress(ctx.account)) {
        throw new PolicyError("bad config", "a session may never call its own account", { target });
      }
      const checked = checkPermission(p, target);
      const conditions: IAgentSessions.ConditionStruct[] = [];
      for (const c of p.conditions) conditions.push(await encodeCondition(c, resolver, target));
      for (const pin of checked.pins) {
        conditions.push({ op: ConditionOp.Equal, word: pin.word, value: word32(pin.value), oneOf: [] });
      }
      if (conditions.length > MAX_CONDITIONS) {
        throw new PolicyError(
          "too many conditions",
          `${what(p, target)}: ${conditions.length} conditions (${p.conditions.length} given + ` +
            `${checked.pins.length} offset pins), at most ${MAX_CONDITIONS}`,
          { target, selector: p.selector, given: p.conditions.length, pins: checked.pins.length },
        );
      }
      permissions.push({
        target,
        selector: p.selector,
        valueCap: parseAmount(p.value, 18, `value cap for ${target}`),
        calldataLength: BigInt(checked.calldataLength),
        conditions,
      });
    }

    const budgets: TokenBudget[] = [];
    for (const { token, spec } of this.budgets) {
      const info = await resolver.resolve(token);
      const what = `budget of ${token}`;
      const instant = parseAmount(spec.instant, info.decimals, `${what}: instant`);
      const ceiling =
        spec.ceiling === undefined ? instant : parseAmount(spec.ceiling, info.decimals, `${what}: ceiling`);
      const periodCap =
        spec.perPeriod === undefined ? UINT128_MAX : parseAmount(spec.perPeriod, info.decimals, `${what}: perPeriod`);
      const lifetimeCap =
        spec.lifetime === undefined ? UINT128_MAX : parseAmount(spec.lifetime, info.decimals, `${what}: lifetime`);
      const period = parseDuration(spec.period ?? "24h");
      if (period === 0n) throw new PolicyError("period zero", `${what}: the period must be longer than zero`);
      if (instant > ceiling) {
        throw new PolicyError("threshold above ceiling", `${what}: instant threshold ${instant} > ceiling ${ceiling}`);
      }
      if (ceiling > periodCap) {
        throw new PolicyError("ceiling above period cap", `${what}: ceiling ${ceiling} > period cap ${periodCap}`);
      }
      const movable =
        info.address === ZeroAddress
          ? permissions.some((p) => BigInt(p.valueCap) > 0n)
          : permissions.some((p) => getAddress(p.target as string) === info.address || reservesToken(p, info.address));
      if (!movable) {
        throw new PolicyError("budget token not in scope", `${what}: no permission of the session can move it`, {
          token: info.address,
        });
      }
      budgets.push({ token: info.address, instantThreshold: instant, ceiling, periodCap, lifetimeCap, period });
    }

    const now = BigInt((await ctx.provider.getBlock("latest"))!.timestamp);
    const start = this.validAfterAt > now ? this.validAfterAt : now;
    const validUntil = this.validUntilAt ?? start + parseDuration(this.validForSeconds ?? "24h");
    if (validUntil <= now) {
      throw new PolicyError("valid until in the past", `validUntil ${validUntil} is not after now (${now})`);
    }
    if (this.uses <= 0n) throw new PolicyError("bad config", "maxUses must be at least 1");
    const approvalWindow = parseDuration(this.window);
    if (approvalWindow === 0n) throw new PolicyError("bad config", "the approval window must be longer than zero");

    return {
      agent: getAddress(this.agentAddress),
      validAfter: this.validAfterAt,
      validUntil,
      maxUses: this.uses,
      maxGasCostPerOp: parseAmount(this.gasPerOp, 18, "gas per op"),
      gasBudget: parseAmount(this.gasTotal, 18, "gas total"),
      allowTry: this.tryAllowed,
      allowPaymaster: this.paymasterAllowed,
      queueDelay: parseDuration(this.delay),
      approvalWindow,
      permissions,
      budgets,
    };
  }
}

/** Start a session policy. */
export function policy(): PolicyBuilder {
  return new PolicyBuilder();
}

const word32 = (v: bigint): string => zeroPadValue(toBeHex(v), 32);

function what(p: PendingPermission, target: string): string {
  return `permission ${p.signature ?? p.selector} on ${target}`;
}

/**
 * The checks of one permission that need no chain: allowance grants restricted to a spender, conditions only on
 * words with a fixed position (with the offsets to pin), and the exact call-data length of a static signature.
 */
function checkPermission(p: PendingPermission, target: string): { pins: OffsetPin[]; calldataLength: number } {
  if (p.selector === "0x00000000") return { pins: [], calldataLength: p.calldataLength };
  for (const c of p.conditions) {
    if (!Number.isInteger(c.word) || c.word < 0 || c.word > 255) {
      throw new PolicyError("bad config", `${what(p, target)}: condition word ${c.word} is not 0…255`);
    }
  }
  const allowance = allowanceFunction(p.selector);
  if (allowance) {
    const w = allowance.spenderWord.word;
    const restricted = p.conditions.some((c) => c.word === w && ("equals" in c || "oneOf" in c));
    if (!restricted) {
      throw new PolicyError(
        "unrestricted allowance",
        `${what(p, target)}: ${allowance.what} grants an allowance or operator rights; it needs an equals or ` +
          `oneOf condition on the spender/operator (word ${w})`,
        { target, selector: p.selector, spenderWord: w },
      );
    }
  }
  if (!p.signature) {
    if (p.conditions.length) {
      throw new PolicyError(
        "unknown signature",
        `${what(p, target)}: conditions need the function signature (not a bare selector) to check the ABI layout`,
        { target, selector: p.selector },
      );
    }
    return { pins: [], calldataLength: p.calldataLength };
  }
  const layout: AbiLayout = abiLayout(p.signature);
  const pins = new Map<number, OffsetPin>();
  for (const c of p.conditions) {
    const w = layout.words.get(c.word);
    if (!w) {
      throw layout.dynamic
        ? new PolicyError(
            "condition in dynamic tail",
            `${what(p, target)}: word ${c.word} lies inside a dynamic tail (bytes, string, array elements or ` +
              `after another dynamic value): its position depends on the call data, so a condition cannot hold it`,
            { target, selector: p.selector, word: c.word },
          )
        : new PolicyError(
            "condition beyond arguments",
            `${what(p, target)}: word ${c.word} is beyond the ${layout.headWords} argument words`,
            { target, selector: p.selector, word: c.word },
          );
    }
    if (w.kind === "offset") {
      throw new PolicyError(
        "condition on offset",
        `${what(p, target)}: word ${c.word} is an ABI offset (the builder pins offsets itself)`,
        { target, selector: p.selector, word: c.word },
      );
    }
    for (const pin of w.pins) pins.set(pin.word, pin);
  }
  let calldataLength = p.calldataLength;
  if (!layout.dynamic) {
    const exact = 4 + 32 * layout.headWords;
    if (p.lengthGiven && p.calldataLength !== exact) {
      throw new PolicyError(
        "bad calldata length",
        `${what(p, target)}: call data of ${layout.signature} is always ${exact} bytes, not ${p.calldataLength}`,
        { target, selector: p.selector, expected: exact, given: p.calldataLength },
      );
    }
    calldataLength = exact;
  }
  return { pins: [...pins.values()].sort((a, b) => a.word - b.word), calldataLength };
}

/** Base units of a condition amount; refuses bare strings and numbers (their units would be a guess). */
async function conditionAmount(v: unknown, resolver: TokenResolver, where: string): Promise<bigint> {
  if (typeof v === "bigint") return parseAmount(v, 0, where);
  if (v !== null && typeof v === "object" && "amount" in v && typeof (v as Units).amount === "string") {
    if ("decimals" in v) return parseAmount((v as Units).amount, (v as Units).decimals, where);
    if ("token" in v) {
      const t = await resolver.resolve((v as TokenUnits).token);
      return parseAmount((v as TokenUnits).amount, t.decimals, where);
    }
  }
  throw new PolicyError(
    "ambiguous amount",
    `${where}: ${typeof v === "string" || typeof v === "number" ? JSON.stringify(v) : "this value"} has no units: ` +
      `pass units("${String(v)}", decimals), { amount, token } or a bigint in base units`,
    { value: typeof v === "bigint" ? v.toString() : (v as object) },
  );
}

/** A 32-byte word: an address, a 0x-hex value of at most 32 bytes, or an amount with explicit units. */
async function conditionWord(v: unknown, resolver: TokenResolver, where: string): Promise<string> {
  if (typeof v === "string" && isAddress(v)) return zeroPadValue(getAddress(v), 32);
  if (typeof v === "string" && isHexString(v) && v.length <= 66 && v.length > 2) return zeroPadValue(v, 32);
  if (typeof v === "string" && !/^\d+(\.\d+)?$/.test(v.trim())) {
    throw new PolicyError("bad config", `${where}: "${v}" is neither an address nor a 0x-hex word`);
  }
  return word32(await conditionAmount(v, resolver, where));
}

async function encodeCondition(
  c: ConditionSpec,
  resolver: TokenResolver,
  target: string,
): Promise<IAgentSessions.ConditionStruct> {
  const zero = "0x" + "00".repeat(32);
  const where = `condition on word ${c.word} of a call to ${target}`;
  if ("equals" in c) {
    return { op: ConditionOp.Equal, word: c.word, value: await conditionWord(c.equals, resolver, where), oneOf: [] };
  }
  if ("atMost" in c) {
    const value = word32(await conditionAmount(c.atMost, resolver, where));
    return { op: ConditionOp.AtMost, word: c.word, value, oneOf: [] };
  }
  if ("atLeast" in c) {
    const value = word32(await conditionAmount(c.atLeast, resolver, where));
    return { op: ConditionOp.AtLeast, word: c.word, value, oneOf: [] };
  }
  if (!c.oneOf.length) throw new PolicyError("bad config", `condition on word ${c.word}: oneOf is empty`);
  const oneOf: string[] = [];
  for (const v of c.oneOf) oneOf.push(await conditionWord(v, resolver, where));
  return { op: ConditionOp.OneOf, word: c.word, value: zero, oneOf };
}

/** Resolves `"ETH"`, registry symbols and addresses to `{ address, decimals }` (decimals read once per token). */
class TokenResolver {
  private readonly cache = new Map<string, TokenInfo>();
  constructor(private readonly ctx: BuildContext) {}

  async resolve(ref: TokenRef): Promise<TokenInfo> {
    if (ref.toUpperCase() === "ETH") return { address: ZeroAddress, decimals: 18 };
    const known = this.ctx.tokens?.[ref];
    if (known) return { address: getAddress(known.address), decimals: known.decimals };
    if (!isAddress(ref)) throw new PolicyError("unknown token", `unknown token "${ref}"`, { token: ref });
    const address = getAddress(ref);
    const cached = this.cache.get(address);
    if (cached) return cached;
    const fromRegistry = Object.values(this.ctx.tokens ?? {}).find((t) => getAddress(t.address) === address);
    let info: TokenInfo;
    if (fromRegistry) info = { address, decimals: fromRegistry.decimals };
    else if ((await this.ctx.provider.getCode(address)) === "0x") info = { address, decimals: 18 };
    else {
      try {
        const decimals = await new Contract(address, erc20, this.ctx.provider).getFunction("decimals")();
        info = { address, decimals: Number(decimals) };
      } catch {
        info = { address, decimals: 0 };
      }
    }
    this.cache.set(address, info);
    return info;
  }
}
