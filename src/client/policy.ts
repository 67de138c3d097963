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
 * `build` refuses bad configurations with a {@link PolicyError} before anything reaches the chain.
 */
import { Contract, ZeroAddress, getAddress, id, isAddress, toBeHex, zeroPadValue, type Provider } from "ethers";
import type { IAgentSessions } from "../../types/ethers-contracts/contracts/modules/AgentSessions.js";
import { PolicyError } from "./errors.js";
import { parseAmount, parseDuration, type Amount, type Duration } from "./units.js";

/** The session configuration `AgentSessions.grantSession` takes (typechain struct). */
export type SessionConfig = IAgentSessions.SessionConfigStruct;
/** One permission of a session (typechain struct). */
export type Permission = IAgentSessions.PermissionStruct;
/** One token budget of a session (typechain struct). */
export type TokenBudget = IAgentSessions.TokenBudgetStruct;

/** `AgentSessions` condition operators. */
export const ConditionOp = { None: 0, Equal: 1, AtMost: 2, AtLeast: 3, OneOf: 4 } as const;

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

/** A condition on argument word `word` (0-based, after the selector). Exactly one comparison. */
export type ConditionSpec =
  | { word: number; equals: string | bigint }
  | { word: number; atMost: Amount }
  | { word: number; atLeast: Amount }
  | { word: number; oneOf: (string | bigint)[] };

/** Options of {@link PolicyBuilder.allowCall}. */
export interface CallSpec {
  /** Function signature (`"approve(address,uint256)"`) or 4-byte selector. */
  fn: string;
  /** Native value cap per call, in ETH (default 0). */
  value?: Amount;
  /** Exact call-data length in bytes (default: any). */
  calldataLength?: number;
  /** Up to 4 argument conditions. */
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
  value: Amount;
  valueIsNative: boolean;
  calldataLength: number;
  conditions: ConditionSpec[];
  /** Amount-typed conditions are in units of this token. */
  amountToken?: TokenRef;
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
          conditions: [],
        });
      }
      return this;
    }
    const conditions: ConditionSpec[] = [];
    if (spec.to?.length) conditions.push({ word: 0, oneOf: spec.to });
    if (spec.max !== undefined) conditions.push({ word: 1, atMost: spec.max });
    this.permissions.push({
      target: token,
      selector: TRANSFER_SELECTOR,
      value: 0n,
      valueIsNative: true,
      calldataLength: 68,
      conditions,
      amountToken: token,
    });
    return this;
  }

  /**
   * Allow calls of `fn` on `target`. Amount conditions (`atMost` / `atLeast` as strings) are in whole units of
   * `target` when it is a token, else base units; pass bigints for raw values.
   */
  allowCall(target: string, spec: CallSpec): this {
    const selector = /^0x[0-9a-fA-F]{8}$/.test(spec.fn) ? spec.fn : id(spec.fn.replace(/\s+/g, "")).slice(0, 10);
    this.permissions.push({
      target,
      selector,
      value: spec.value ?? 0n,
      valueIsNative: true,
      calldataLength: spec.calldataLength ?? 0,
      conditions: spec.conditions ?? [],
      amountToken: target,
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
   * address without code, or a validity end in the past.
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
      const decimals = p.amountToken ? await resolver.decimalsOrZero(p.amountToken) : 0;
      permissions.push({
        target,
        selector: p.selector,
        valueCap: parseAmount(p.value, 18, `value cap for ${target}`),
        calldataLength: BigInt(p.calldataLength),
        conditions: p.conditions.map((c) => encodeCondition(c, decimals)),
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
          : permissions.some((p) => getAddress(p.target as string) === info.address);
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

const word32 = (v: string | bigint): string =>
  typeof v === "bigint"
    ? zeroPadValue(toBeHex(v), 32)
    : isAddress(v)
      ? zeroPadValue(getAddress(v), 32)
      : zeroPadValue(v, 32);

function encodeCondition(c: ConditionSpec, decimals: number): IAgentSessions.ConditionStruct {
  const zero = "0x" + "00".repeat(32);
  if ("equals" in c) return { op: ConditionOp.Equal, word: c.word, value: word32(c.equals), oneOf: [] };
  if ("atMost" in c) {
    return { op: ConditionOp.AtMost, word: c.word, value: word32(parseAmount(c.atMost, decimals)), oneOf: [] };
  }
  if ("atLeast" in c) {
    return { op: ConditionOp.AtLeast, word: c.word, value: word32(parseAmount(c.atLeast, decimals)), oneOf: [] };
  }
  if (!c.oneOf.length) throw new PolicyError("bad config", `condition on word ${c.word}: oneOf is empty`);
  return { op: ConditionOp.OneOf, word: c.word, value: zero, oneOf: c.oneOf.map(word32) };
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

  /** Decimals of a token reference, or 0 when it is a plain contract (raw units). */
  async decimalsOrZero(ref: TokenRef): Promise<number> {
    return (await this.resolve(ref)).decimals;
  }
}
