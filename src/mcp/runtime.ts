/**
 * {@link AgentRuntime}: what the MCP server does for ONE agent session, independent of MCP. It holds the session key
 * (never exposed), the account, the session id and a transport, and answers the tools' questions with plain JSON
 * values (amounts in token and base units, times as ISO and unix): status, preflight, pay, call, queue_execute,
 * revoke_self. Policy refusals are results (`status: "refused"` with the rule and numbers), not exceptions.
 *
 * Least privilege: the runtime can only build calls for the session's own account and session id, only payments
 * (ERC-20 `transfer` / plain ETH) and calls of functions the session's scope names (checked with `hasPermission`
 * before anything is signed); it has no owner key and offers no grant, budget or raw call-data path.
 */
import { valueBudgetView, type ValueBudgetView } from "../client/actions/valueStatus.js";
import {
  Contract,
  FunctionFragment,
  Interface,
  ZeroAddress,
  getAddress,
  id,
  keccak256,
  toUtf8Bytes,
  type JsonRpcProvider,
  type Wallet,
} from "ethers";
import { AgentSession } from "../client/agent.js";
import {
  BudgetExceeded,
  GasBudgetExceeded,
  NoBudget,
  ReinsError,
  ValueExceeded,
  decodeReinsError,
} from "../client/errors.js";
import type { X402Payment } from "../x402/signer.js";
import { budgetTokens } from "../client/actions/assessTier.js";
import { listQueue, type QueuedOperation } from "../client/actions/queue.js";
import type { ReinsDeployment } from "../client/owner.js";
import { UINT128_MAX } from "../client/policy.js";
import type { OperationSender } from "../client/transport/sender.js";
import type { Call } from "../account/encoding.js";
import {
  AgentSessions__factory,
  ReinsTimelock__factory,
  type AgentSessions,
  type ReinsTimelock,
} from "../../types/ethers-contracts/index.js";
import {
  ETH,
  InputError,
  amountJson,
  jsonSafe,
  parseAddressInput,
  parseAmountInput,
  parseIdInput,
  timeJson,
  type AmountJson,
  type McpToken,
  type TimeJson,
} from "./values.js";

const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);
const erc20Meta = ["function decimals() view returns (uint8)", "function symbol() view returns (string)"];

/** Rules that mean "the account's policy refuses this operation" (as the CLI's exit code 3). */
const POLICY_RULES = new Set([
  "scope",
  "condition",
  "value",
  "calldata length",
  "forbidden target",
  "budget",
  "no budget",
  "gas budget",
  "usage",
  "validity window",
  "revoked",
  "unknown session",
  "paused",
  "paymaster",
  "call data",
  "mode",
  "CircuitBreakerTripped",
  "not ready",
  "needs approval",
  "queue state",
]);

/** Why an operation is refused: the rule and its numbers. */
export interface Refusal {
  /** Short machine-readable rule: "scope", "condition", "budget", "revoked", "paused", "not ready", … */
  rule: string;
  /** The typed client error (`ScopeViolation`, `BudgetExceeded`, …). */
  error: string;
  /** One line with the amounts in token units. */
  message: string;
  /** The decoded numbers (bigints as decimal strings). */
  details: Record<string, unknown>;
  /** For budget refusals: which limit, the amount and the limit in both units. */
  budget?: { which: string; amount: AmountJson; limit: AmountJson };
  /** Set when the operation was included on chain (gas paid) but its execution reverted. */
  includedTx?: string;
}

/** What an operation is, for the outputs. */
export interface OperationJson {
  kind: "payment" | "call";
  description: string;
  /** The contract called (payment: the token; native payment: the recipient). */
  target: string;
  /** 4-byte selector, "0x" for a plain ETH transfer. */
  selector: string;
  token?: string;
  recipient?: string;
  amount?: AmountJson;
  function?: string;
  /** Native value sent with the call. */
  value?: AmountJson;
}

/** The outcome of {@link AgentRuntime.preflight}. */
export type PreflightJson =
  | { outcome: "execute"; operation: OperationJson; tier: "instant" }
  | {
      outcome: "queue";
      operation: OperationJson;
      tier: "delayed" | "approval";
      /** What the decisive token's amount is over. */
      amount: AmountJson;
      limit: AmountJson;
    }
  | { outcome: "refuse"; operation: OperationJson; refusal: Refusal }
  | { outcome: "invalid"; field: string; message: string };

/** The outcome of {@link AgentRuntime.pay} / {@link AgentRuntime.call}. */
export type SendJson =
  | {
      status: "executed";
      operation: OperationJson;
      intent: string;
      intentHash: string;
      txHash: string;
      userOpHash: string;
      gasCost: AmountJson;
    }
  | {
      status: "queued";
      operation: OperationJson;
      intent: string;
      intentHash: string;
      txHash: string;
      userOpHash: string;
      requestId: string;
      tier: "delayed" | "approval";
      amount: AmountJson;
      limit: AmountJson;
      readyAt: TimeJson;
      expiresAt: TimeJson;
      ownerAction: string;
      agentAction: string;
    }
  | { status: "refused"; operation: OperationJson; intentHash?: string; refusal: Refusal }
  | { status: "failed"; operation?: OperationJson; message: string; details?: Record<string, unknown> }
  | { status: "invalid"; field: string; message: string };

/** One pending queued request of the session. */
export interface PendingJson {
  requestId: string;
  state: string;
  tier: "delayed" | "approval";
  approved: boolean;
  readyAt: TimeJson;
  expiresAt: TimeJson;
  /** Whether `queue_execute` can run it now. */
  executableNow: boolean;
  description: string;
  scheduledIn: string;
}

/** A budget refill: `amount` becomes available again at `at` (sliding window sub-buckets). */
export interface RefillJson {
  at: TimeJson;
  amount: AmountJson;
  /** What is left of the period budget right after this refill. */
  periodLeftAfter: AmountJson;
}

/** A token budget of the session, now. */
export interface BudgetJson {
  token: McpToken;
  instantThreshold: AmountJson;
  ceiling: AmountJson;
  periodCap: AmountJson;
  lifetimeCap: AmountJson;
  periodSeconds: number;
  periodLeft: AmountJson;
  lifetimeLeft: AmountJson;
  /** Per-operation cap of the instant tier right now: min(instant threshold, period left, lifetime left, fleet). */
  instantNowUpTo: AmountJson;
  refills: RefillJson[];
  /** False when the spend history did not add up to the chain's figure (refills are then a lower bound). */
  refillsExact: boolean;
  fleet?: { periodLeft: AmountJson; lifetimeLeft: AmountJson };
}

/** The answer of the `status` tool. */
export interface StatusJson {
  account: string;
  sessionId: string;
  agent: string;
  transport: "bundler" | "direct";
  chainId: number;
  now: TimeJson;
  /** "active", "not yet valid", "expired", "revoked", "used up", "stale" (granted before a revoke-all). */
  state: string;
  usable: boolean;
  validAfter: TimeJson;
  validUntil: TimeJson;
  revoked: boolean;
  expired: boolean;
  paused: boolean;
  uses: { used: number; max: number; left: number };
  gas: { budget: AmountJson; spent: AmountJson; left: AmountJson; perOpCap: AmountJson };
  queueDelaySeconds: number;
  approvalWindowSeconds: number;
  budgets: BudgetJson[];
  /** The session's and the account's value budgets (caps in money across tokens), when set. */
  valueBudgets: ValueBudgetView[];
  pending: PendingJson[];
  /** The agent key's own ETH (pays queue_execute / revoke_self transactions, and handleOps without a bundler). */
  agentBalance: AmountJson;
}

/** Options of {@link AgentRuntime}. */
export interface AgentRuntimeOptions {
  agent: Wallet;
  provider: JsonRpcProvider;
  account: string;
  sessionId: string;
  deployment: ReinsDeployment;
  sender: OperationSender;
  transport: "bundler" | "direct";
  /** The `--token SYM=0x…` list (addresses only; decimals are read on chain by {@link AgentRuntime.create}). */
  tokens: McpToken[];
}

/** Result of the `fetch` tool. */
export interface FetchJson {
  status: "ok" | "refused" | "failed";
  httpStatus?: number;
  contentType?: string;
  body?: string;
  truncated?: boolean;
  payment?: {
    token: string;
    amount: ReturnType<typeof amountJson>;
    payTo: string;
    digest: string;
    txHash: string;
    userOpHash: string;
  };
  intentHash: string;
  refusal?: Refusal;
  message?: string;
}

/** Thrown by {@link AgentRuntime.create} when the configuration cannot work (wrong key, unknown session…). */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** Read a token's decimals (and symbol) on chain. */
export async function readToken(provider: JsonRpcProvider, address: string, symbol?: string): Promise<McpToken> {
  if ((await provider.getCode(address)) === "0x") throw new Error(`no contract at ${address}`);
  const c = new Contract(address, erc20Meta, provider);
  let decimals: number;
  try {
    decimals = Number(await c.getFunction("decimals")());
  } catch {
    throw new Error(`${address} has no decimals()`);
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 36)
    throw new Error(`${address}: odd decimals ${decimals}`);
  let sym = symbol;
  if (!sym) {
    try {
      sym = String(await c.getFunction("symbol")());
    } catch {
      sym = address;
    }
  }
  return { symbol: sym, address: getAddress(address), decimals };
}

/** The agent's handle on its one session, as the MCP tools use it. */
export class AgentRuntime {
  readonly session: AgentSession;
  readonly account: string;
  readonly sessionId: string;
  readonly transport: "bundler" | "direct";
  /** The session key's address (never the key). */
  readonly agentAddress: string;
  private readonly provider: JsonRpcProvider;
  private readonly sessions: AgentSessions;
  private readonly timelock: ReinsTimelock;
  private readonly tokens = new Map<string, McpToken>();
  private readonly blockTimes = new Map<number, number>();
  private writes: Promise<unknown> = Promise.resolve();
  private chainId = 0;

  private constructor(options: AgentRuntimeOptions) {
    this.provider = options.provider;
    this.account = getAddress(options.account);
    this.sessionId = options.sessionId.toLowerCase();
    this.transport = options.transport;
    this.agentAddress = getAddress(options.agent.address);
    this.sessions = AgentSessions__factory.connect(options.deployment.sessions, options.provider);
    this.timelock = ReinsTimelock__factory.connect(options.deployment.timelock, options.provider);
    this.session = new AgentSession({
      agent: options.agent,
      account: this.account,
      sessionId: this.sessionId,
      sessions: options.deployment.sessions,
      sender: options.sender,
    });
    this.remember(ETH);
    for (const t of options.tokens) this.remember(t);
  }

  /**
   * Check the configuration against the chain (the session exists in this account and belongs to the key) and
   * read every listed token's decimals. Throws {@link StartupError} with one line.
   */
  static async create(options: AgentRuntimeOptions): Promise<AgentRuntime> {
    const runtime = new AgentRuntime({ ...options, tokens: [] });
    for (const t of options.tokens) {
      try {
        runtime.remember(await readToken(options.provider, t.address, t.symbol));
      } catch (e) {
        throw new StartupError(`token ${t.symbol}: ${(e as Error).message}`);
      }
    }
    runtime.chainId = Number((await options.provider.getNetwork()).chainId);
    const s = await runtime.sessions.getSession(runtime.sessionId, runtime.account);
    if (s.agent === ZeroAddress) {
      throw new StartupError(`unknown session ${runtime.sessionId} for account ${runtime.account}`);
    }
    if (getAddress(s.agent) !== options.agent.address) {
      throw new StartupError(
        `the agent key is ${options.agent.address}, but session ${runtime.sessionId} belongs to agent ${s.agent}`,
      );
    }
    return runtime;
  }

  /**
   * Know `t` by address, and by symbol only when it comes from the configured list: a token reached by address
   * (e.g. from a prompt) must never take over a listed symbol by calling itself "USDC".
   */
  private remember(t: McpToken, bySymbol = true): void {
    if (bySymbol) this.tokens.set(t.symbol.toUpperCase(), t);
    this.tokens.set(t.address.toLowerCase(), t);
  }

  /** The tokens the server knows by symbol (ETH and the `--token` list). */
  knownTokens(): McpToken[] {
    return [...new Set([...this.tokens.entries()].filter(([k]) => !k.startsWith("0x")).map(([, t]) => t))];
  }

  /** Run writes one at a time (one nonce stream per session). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn, fn);
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** `ETH`, a listed symbol, or a token address (decimals read on chain). */
  async token(ref: string, field = "token"): Promise<McpToken> {
    const key = ref.trim();
    const known = this.tokens.get(key.toUpperCase()) ?? this.tokens.get(key.toLowerCase());
    if (known) return known;
    if (!key.startsWith("0x")) {
      const names = this.knownTokens().map((t) => t.symbol);
      throw new InputError(field, `${field}: unknown token "${ref}" (known: ${names.join(", ")}, or a token address)`);
    }
    const address = parseAddressInput(key, field);
    try {
      const t = await readToken(this.provider, address);
      this.remember(t, false);
      return t;
    } catch (e) {
      throw new InputError(field, `${field}: ${(e as Error).message}`);
    }
  }

  /** Label of a token address for messages (unknown ones are read on chain, falling back to the address). */
  private async label(address: string): Promise<McpToken> {
    try {
      return await this.token(address === ZeroAddress ? "ETH" : address);
    } catch {
      return { symbol: address, address, decimals: 0 };
    }
  }

  private async now(): Promise<bigint> {
    return BigInt((await this.provider.getBlock("latest"))!.timestamp);
  }

  // ------------------------------------------------------------------------------------------------ operations

  /** A payment of `amount` `token` to `recipient`, validated. */
  async buildPayment(input: { token: string; recipient: string; amount: string }): Promise<{
    call: Call;
    operation: OperationJson;
  }> {
    const token = await this.token(input.token);
    const recipient = parseAddressInput(input.recipient, "recipient");
    const value = parseAmountInput(input.amount, token);
    const call: Call =
      token.address === ZeroAddress
        ? { target: recipient, value, data: "0x" }
        : { target: token.address, data: erc20.encodeFunctionData("transfer", [recipient, value]) };
    const a = amountJson(value, token);
    return {
      call,
      operation: {
        kind: "payment",
        description: `pay ${a.amount} ${token.symbol} to ${recipient}`,
        target: call.target,
        selector: token.address === ZeroAddress ? "0x" : "0xa9059cbb",
        token: token.address,
        recipient,
        amount: a,
      },
    };
  }

  /**
   * A call of `fn` (a function signature) on `target` with `args`, validated and encoded; refused at once (no
   * signature, no RPC write) when the session has no permission for the target and selector.
   */
  async buildCall(input: { target: string; function: string; args?: unknown[]; value?: string }): Promise<{
    call: Call;
    operation: OperationJson;
    outOfScope: boolean;
  }> {
    const target = parseAddressInput(input.target, "target");
    let fragment: FunctionFragment;
    try {
      fragment = FunctionFragment.from(input.function.trim().replace(/^function\s+/, ""));
    } catch (e) {
      throw new InputError(
        "function",
        `function: not a function signature like "approve(address,uint256)": ${input.function} (${(e as Error).message.split(" (")[0]})`,
      );
    }
    const args = input.args ?? [];
    if (args.length !== fragment.inputs.length) {
      throw new InputError(
        "args",
        `args: ${fragment.format("sighash")} takes ${fragment.inputs.length} argument(s), got ${args.length}`,
      );
    }
    let data: string;
    try {
      data = new Interface([fragment]).encodeFunctionData(fragment, args.map(normalizeArg));
    } catch (e) {
      throw new InputError(
        "args",
        `args: cannot encode for ${fragment.format("sighash")}: ${(e as Error).message.split(" (")[0]}`,
      );
    }
    const value =
      input.value === undefined || input.value.trim() === "0" ? 0n : parseAmountInput(input.value, ETH, "value");
    const selector = fragment.selector;
    const outOfScope = !(await this.sessions.hasPermission(this.sessionId, this.account, target, selector));
    return {
      call: { target, value, data },
      operation: {
        kind: "call",
        description: `call ${fragment.format("sighash")} on ${target}${value ? ` with ${amountJson(value, ETH).amount} ETH` : ""}`,
        target,
        selector,
        function: fragment.format("sighash"),
        ...(value ? { value: amountJson(value, ETH) } : {}),
      },
      outOfScope,
    };
  }

  private scopeRefusal(op: OperationJson): Refusal {
    return {
      rule: "scope",
      error: "ScopeViolation",
      message: `${op.function ?? op.selector} on ${op.target} is outside the session's scope (no permission for this target and selector)`,
      details: { index: "0", target: op.target, selector: op.selector },
    };
  }

  /** A typed client error as a {@link Refusal} with the amounts in token units. */
  async refusal(error: unknown): Promise<Refusal> {
    const e = decodeReinsError(error);
    const out: Refusal = {
      rule: e.rule,
      error: e.name,
      message: oneLine(`${e.rule}: ${e.message}`),
      details: jsonSafe(e.details) as Record<string, unknown>,
    };
    if (e instanceof BudgetExceeded) {
      const t = await this.label(e.token);
      const amount = amountJson(e.amount, t);
      const limit = amountJson(e.limit, t);
      out.budget = { which: e.which, amount, limit };
      out.message = `budget: ${amount.amount} ${t.symbol} is over the ${e.which} limit of ${limit.amount} ${t.symbol}`;
    } else if (e instanceof NoBudget) {
      const t = await this.label(e.token);
      out.message = `no budget: the session has no budget for ${t.symbol} (${e.token})`;
    } else if (e instanceof ValueExceeded) {
      out.message = `value: call ${e.index} sends ${amountJson(e.value, ETH).amount} ETH, above its cap of ${amountJson(e.cap, ETH).amount} ETH`;
    } else if (e instanceof GasBudgetExceeded) {
      out.message = `gas budget: the operation may cost ${amountJson(e.cost, ETH).amount} ETH of gas (per-op cap ${amountJson(e.perOpCap, ETH).amount}, left ${amountJson(e.remaining, ETH).amount})`;
    }
    if (e.included) out.includedTx = e.included.txHash;
    return out;
  }

  /**
   * Say which argument an argument-condition refusal is about: the contract reports the failing word's value,
   * which for a payment is either the recipient or the amount.
   */
  private hint(r: Refusal, call: Call): Refusal {
    if (r.rule !== "condition" || typeof r.details.actual !== "string" || !call.data || call.data.length < 10) return r;
    const actual = BigInt(r.details.actual);
    const words = call.data.slice(10).match(/.{64}/g) ?? [];
    const index = words.findIndex((w) => BigInt("0x" + w) === actual);
    if (index < 0) return r;
    const isTransfer = call.data.startsWith("0xa9059cbb");
    const what = isTransfer ? (index === 0 ? "the recipient" : "the amount") : `argument ${index}`;
    const why = isTransfer
      ? index === 0
        ? "is not a recipient this session may pay"
        : "is over the per-transfer maximum of the session"
      : "breaks the session's condition on it";
    const shown = isTransfer && index === 0 ? getAddress("0x" + words[0]!.slice(24)) : `${actual} base units`;
    return {
      ...r,
      details: { ...r.details, argument: index },
      message: `condition: ${what} (${shown}) ${why} (argument condition ${r.details.condition} of the permission)`,
    };
  }

  /** What sending `call` would do now: execute, queue (tier, limit) or refuse (rule, numbers). Sends nothing. */
  async preflightOf(built: { call: Call; operation: OperationJson; outOfScope?: boolean }): Promise<PreflightJson> {
    const { call, operation } = built;
    if (built.outOfScope) return { outcome: "refuse", operation, refusal: this.scopeRefusal(operation) };
    const pre = await this.session.preflight(call);
    if (pre.outcome === "refuse")
      return { outcome: "refuse", operation, refusal: this.hint(await this.refusal(pre.error), call) };
    if (pre.outcome === "execute") return { outcome: "execute", operation, tier: "instant" };
    const t = await this.label(pre.token);
    return {
      outcome: "queue",
      operation,
      tier: pre.tier,
      amount: amountJson(pre.amount, t),
      limit: amountJson(pre.limit, t),
    };
  }

  /** Preflight of a payment or a call; invalid input is an "invalid" outcome. */
  async preflight(input: {
    payment?: { token: string; recipient: string; amount: string };
    call?: { target: string; function: string; args?: unknown[]; value?: string };
  }): Promise<PreflightJson> {
    try {
      if (!!input.payment === !!input.call) {
        throw new InputError("payment", "give exactly one of payment or call");
      }
      const built = input.payment ? await this.buildPayment(input.payment) : await this.buildCall(input.call!);
      return await this.preflightOf(built);
    } catch (e) {
      if (e instanceof InputError) return { outcome: "invalid", field: e.field, message: e.message };
      throw e;
    }
  }

  /** Pay `amount` `token` to `recipient`, signing keccak256(intent) as the intent hash. */
  pay(input: { token: string; recipient: string; amount: string; intent: string }): Promise<SendJson> {
    return this.sendBuilt(input.intent, () => this.buildPayment(input));
  }

  /** Call an allowed contract function, signing keccak256(intent) as the intent hash. */
  call(input: {
    target: string;
    function: string;
    args?: unknown[];
    value?: string;
    intent: string;
  }): Promise<SendJson> {
    return this.sendBuilt(input.intent, () => this.buildCall(input));
  }

  private sendBuilt(
    intent: string,
    build: () => Promise<{ call: Call; operation: OperationJson; outOfScope?: boolean }>,
  ): Promise<SendJson> {
    return this.exclusive(async () => {
      let built;
      try {
        if (intent.trim() === "") throw new InputError("intent", "intent: say what the payment is for");
        built = await build();
      } catch (e) {
        if (e instanceof InputError) return { status: "invalid", field: e.field, message: e.message };
        throw e;
      }
      const intentHash = keccak256(toUtf8Bytes(intent));
      const pre = await this.preflightOf(built);
      if (pre.outcome === "refuse")
        return { status: "refused", operation: built.operation, intentHash, refusal: pre.refusal };
      if (pre.outcome === "invalid") return { status: "invalid", field: pre.field, message: pre.message };
      if (this.transport === "direct" && (await this.provider.getBalance(this.agentAddress)) === 0n) {
        return {
          status: "failed",
          operation: built.operation,
          message: `the agent ${this.agentAddress} has no ETH to submit handleOps (fund it, or run the server with --bundler)`,
        };
      }
      let result;
      try {
        result = await this.session.send(built.call, { intentHash });
      } catch (e) {
        const r = this.hint(await this.refusal(e), built.call);
        if (POLICY_RULES.has(r.rule)) return { status: "refused", operation: built.operation, intentHash, refusal: r };
        return { status: "failed", operation: built.operation, message: r.message, details: r.details };
      }
      if (result.status === "executed") {
        return {
          status: "executed",
          operation: built.operation,
          intent,
          intentHash,
          txHash: result.txHash,
          userOpHash: result.userOpHash,
          gasCost: amountJson(result.gasCost, ETH),
        };
      }
      const t = await this.label(result.token);
      const approval = result.tier === "approval";
      return {
        status: "queued",
        operation: built.operation,
        intent,
        intentHash,
        txHash: result.txHash,
        userOpHash: result.userOpHash,
        requestId: result.requestId,
        tier: result.tier,
        amount: amountJson(result.amount, t),
        limit: amountJson(result.limit, t),
        readyAt: timeJson(result.earliestExecution),
        expiresAt: timeJson(result.expiresAt),
        ownerAction: approval
          ? `the owner must approve it before ${timeJson(result.expiresAt).iso}: reins queue approve ${this.account} ${result.requestId}`
          : `none needed; the owner (or a watchdog) can cancel it before it runs: reins queue cancel ${this.account} ${result.requestId}`,
        agentAction: approval
          ? `after the owner's approval and from ${timeJson(result.earliestExecution).iso}, call queue_execute with this requestId (or the owner runs it)`
          : `from ${timeJson(result.earliestExecution).iso} until ${timeJson(result.expiresAt).iso}, call queue_execute with this requestId`,
      };
    });
  }

  // ------------------------------------------------------------------------------------------------ x402

  /**
   * Fetch `url`, paying an x402 `exact` request from the session (the EIP-3009 authorization is reserved on chain
   * by an agent operation first; see `reinsX402Signer`). A payment the session would refuse or queue is refused
   * before anything is signed, and the server gets no payment.
   */
  async fetch(input: { url: string; method?: "GET" | "POST"; body?: string; intent: string }): Promise<FetchJson> {
    return this.exclusive(async () => {
      const intentHash = id(input.intent);
      const payments: X402Payment[] = [];
      const refusals: ReinsError[] = [];
      // Loaded on first use: the x402 packages (and viem) cost start-up time the other tools do not need.
      const { reinsPaymentFetch } = await import("../x402/fetch.js");
      const paidFetch = await reinsPaymentFetch(this.session, {
        intent: input.intent,
        onPayment: (p) => payments.push(p),
        onRefusal: (e) => refusals.push(e),
      });
      let res: Response;
      try {
        res = await paidFetch(input.url, { method: input.method ?? "GET", body: input.body });
      } catch (e) {
        if (refusals.length) return { status: "refused", intentHash, refusal: await this.refusal(refusals[0]) };
        return { status: "failed", intentHash, message: (e as Error).message.split("\n")[0] };
      }
      const text = await res.text();
      const payment = payments[0];
      const t = payment ? await this.label(payment.token) : undefined;
      return {
        status: res.ok ? "ok" : "failed",
        httpStatus: res.status,
        contentType: res.headers.get("content-type") ?? undefined,
        body: text.slice(0, 20_000),
        truncated: text.length > 20_000,
        intentHash,
        ...(payment && t
          ? {
              payment: {
                token: t.symbol,
                amount: amountJson(payment.authorization.value, t),
                payTo: payment.authorization.to,
                digest: payment.digest,
                txHash: payment.txHash,
                userOpHash: payment.userOpHash,
              },
            }
          : {}),
        ...(res.ok ? {} : { message: `the server answered HTTP ${res.status}` }),
      };
    });
  }

  // ------------------------------------------------------------------------------------------------ queue

  private async sessionQueue(): Promise<QueuedOperation[]> {
    const all = await listQueue(this.timelock, this.account);
    return all.filter((q) => q.sessionId.toLowerCase() === this.sessionId);
  }

  private async pendingOf(q: QueuedOperation, now: bigint): Promise<PendingJson> {
    return {
      requestId: q.id,
      state: q.state,
      tier: q.tier,
      approved: q.approved,
      readyAt: timeJson(q.readyAt),
      expiresAt: timeJson(q.expiresAt),
      executableNow: q.state === "ready" && now >= q.readyAt,
      description: await this.describeQueued(q),
      scheduledIn: q.txHash,
    };
  }

  private async describeQueued(q: QueuedOperation): Promise<string> {
    const mode = q.mode.slice(0, 4);
    const payload = q.executionCalldata;
    if (mode !== "0x00" || payload.length < 2 + 104) return "batch or unknown payload";
    const target = getAddress("0x" + payload.slice(2, 42));
    const value = BigInt("0x" + payload.slice(42, 106));
    const data = "0x" + payload.slice(106);
    if (data.startsWith("0xa9059cbb") && data.length === 2 + 136) {
      const [to, amount] = erc20.decodeFunctionData("transfer", data);
      const t = await this.label(target);
      return `pay ${amountJson(amount as bigint, t).amount} ${t.symbol} to ${getAddress(to as string)}`;
    }
    if (data === "0x") return `pay ${amountJson(value, ETH).amount} ETH to ${target}`;
    return `call ${data.slice(0, 10)} on ${target}${value ? ` with ${amountJson(value, ETH).amount} ETH` : ""}`;
  }

  /** Run a ready delayed (or approved) request of THIS session; the agent key pays the transaction. */
  queueExecute(input: {
    requestId: string;
  }): Promise<
    | { status: "executed"; requestId: string; txHash: string; description: string }
    | { status: "refused"; requestId: string; refusal: Refusal }
    | { status: "invalid"; field: string; message: string }
    | { status: "failed"; requestId: string; message: string }
  > {
    return this.exclusive(async () => {
      let id: string;
      try {
        id = parseIdInput(input.requestId, "requestId");
      } catch (e) {
        const err = e as InputError;
        return { status: "invalid", field: err.field, message: err.message };
      }
      const q = (await this.sessionQueue()).find((x) => x.id.toLowerCase() === id);
      if (!q) {
        return { status: "invalid", field: "requestId", message: `requestId: no queued request ${id} of this session` };
      }
      const now = await this.now();
      const refuse = (rule: string, message: string, details: Record<string, unknown> = {}) => ({
        status: "refused" as const,
        requestId: q.id,
        refusal: { rule, error: "QueueStateError", message, details: { state: q.state, ...details } },
      });
      if (q.state === "executed" || q.state === "cancelled" || q.state === "expired") {
        return refuse("queue state", `request ${q.id} is ${q.state}`);
      }
      if (q.tier === "approval" && !q.approved) {
        return refuse(
          "needs approval",
          `request ${q.id} waits for the owner's approval (reins queue approve ${this.account} ${q.id})`,
        );
      }
      if (now < q.readyAt || q.state !== "ready") {
        return refuse(
          "not ready",
          `request ${q.id} can run from ${timeJson(q.readyAt).iso} (now ${timeJson(now).iso})`,
          {
            readyAt: timeJson(q.readyAt),
            now: timeJson(now),
          },
        );
      }
      const description = await this.describeQueued(q);
      try {
        const txHash = await this.session.executeQueued(q.id);
        return { status: "executed", requestId: q.id, txHash, description };
      } catch (e) {
        const r = await this.refusal(e);
        if (POLICY_RULES.has(r.rule)) return { status: "refused", requestId: q.id, refusal: r };
        return { status: "failed", requestId: q.id, message: r.message };
      }
    });
  }

  /** The agent revokes its own session (a plain transaction from the session key). Irreversible. */
  revokeSelf(): Promise<
    { status: "revoked"; txHash: string } | { status: "already revoked" } | { status: "failed"; message: string }
  > {
    return this.exclusive(async () => {
      const s = await this.sessions.getSession(this.sessionId, this.account);
      if (s.revoked) return { status: "already revoked" };
      try {
        return { status: "revoked", txHash: await this.session.revokeSelf() };
      } catch (e) {
        const r = await this.refusal(e);
        return { status: "failed", message: r.message };
      }
    });
  }

  // ------------------------------------------------------------------------------------------------ status

  private async blockTime(blockNumber: number): Promise<number> {
    let t = this.blockTimes.get(blockNumber);
    if (t === undefined) {
      t = (await this.provider.getBlock(blockNumber))!.timestamp;
      this.blockTimes.set(blockNumber, t);
    }
    return t;
  }

  /**
   * When spent budget comes back: every non-approval `SpendRecorded` of the token since its window was last
   * cleared counts until `L · (⌊t/L⌋ + 4)` with `L = ⌈period/3⌉` (SpendWindow's sub-buckets).
   */
  private async refillsOf(
    token: McpToken,
    period: bigint,
    periodCap: bigint,
    periodLeft: bigint,
    now: bigint,
  ): Promise<{ refills: RefillJson[]; exact: boolean }> {
    const L = (period + 2n) / 3n;
    const nowIdx = now / L;
    // A period change clears the window: only spends after the last such BudgetSet count.
    const sets = await this.sessions.queryFilter(
      this.sessions.filters.BudgetSet(this.account, this.sessionId, token.address),
      0,
    );
    let clearedAt = -1;
    let prevPeriod: bigint | undefined;
    for (const log of sets) {
      const p = BigInt(log.args.budget.period);
      if (prevPeriod !== undefined && p !== prevPeriod) clearedAt = log.blockNumber;
      prevPeriod = p;
    }
    const spends = await this.sessions.queryFilter(
      this.sessions.filters.SpendRecorded(this.account, this.sessionId, token.address),
      clearedAt < 0 ? 0 : clearedAt,
    );
    const byAt = new Map<bigint, bigint>();
    let inWindow = 0n;
    for (const log of spends) {
      if (log.blockNumber === clearedAt && clearedAt >= 0) continue; // conservative: same-block ordering unknown
      if (Number(log.args.tier) === 2) continue; // owner-approved spend is not charged
      const t = BigInt(await this.blockTime(log.blockNumber));
      const idx = t / L;
      if (idx + 3n < nowIdx) continue;
      const at = L * (idx + 4n);
      byAt.set(at, (byAt.get(at) ?? 0n) + BigInt(log.args.amount));
      inWindow += BigInt(log.args.amount);
    }
    const unlimited = periodCap >= UINT128_MAX;
    const exact = unlimited || periodCap - inWindow === periodLeft || (periodLeft === 0n && inWindow >= periodCap);
    if (unlimited) return { refills: [], exact };
    let left = periodLeft;
    const refills: RefillJson[] = [];
    for (const at of [...byAt.keys()].sort((a, b) => (a < b ? -1 : 1))) {
      const amount = byAt.get(at)!;
      const after = left + amount > periodCap ? periodCap : left + amount;
      refills.push({ at: timeJson(at), amount: amountJson(amount, token), periodLeftAfter: amountJson(after, token) });
      left = after;
    }
    return { refills, exact };
  }

  /** Everything the agent may know about its session now. */
  async status(): Promise<StatusJson> {
    const [s, config, block, balance] = await Promise.all([
      this.sessions.getSession(this.sessionId, this.account),
      this.sessions.accountConfig(this.account),
      this.provider.getBlock("latest"),
      this.provider.getBalance(this.agentAddress),
    ]);
    const now = BigInt(block!.timestamp);
    const expired = now > s.validUntil;
    let state = "active";
    if (s.epoch !== config.epoch) state = "stale";
    else if (s.revoked) state = "revoked";
    else if (expired) state = "expired";
    else if (now < s.validAfter) state = "not yet valid";
    else if (s.uses >= s.maxUses) state = "used up";

    const budgets: BudgetJson[] = [];
    for (const address of await budgetTokens(this.sessions, this.account, this.sessionId)) {
      const token = await this.label(address);
      const [b, periodLeft, lifetimeLeft] = await this.sessions.budgetOf(this.sessionId, this.account, address);
      const [fleetSet, fleetPeriod, fleetLifetime] = await this.sessions.fleetRemaining(this.account, address);
      let instantNow = b.instantThreshold;
      for (const cap of [periodLeft, lifetimeLeft, ...(fleetSet ? [fleetPeriod, fleetLifetime] : [])]) {
        if (cap < instantNow) instantNow = cap;
      }
      const { refills, exact } = await this.refillsOf(token, BigInt(b.period), b.periodCap, periodLeft, now);
      budgets.push({
        token,
        instantThreshold: amountJson(b.instantThreshold, token),
        ceiling: amountJson(b.ceiling, token),
        periodCap: amountJson(b.periodCap, token),
        lifetimeCap: amountJson(b.lifetimeCap, token),
        periodSeconds: Number(b.period),
        periodLeft: amountJson(b.periodCap >= UINT128_MAX ? UINT128_MAX : periodLeft, token),
        lifetimeLeft: amountJson(b.lifetimeCap >= UINT128_MAX ? UINT128_MAX : lifetimeLeft, token),
        instantNowUpTo: amountJson(instantNow, token),
        refills,
        refillsExact: exact,
        ...(fleetSet
          ? { fleet: { periodLeft: amountJson(fleetPeriod, token), lifetimeLeft: amountJson(fleetLifetime, token) } }
          : {}),
      });
    }
    const pending: PendingJson[] = [];
    for (const q of await this.sessionQueue()) {
      if (q.state === "scheduled" || q.state === "ready") pending.push(await this.pendingOf(q, now));
    }
    const valueBudgets = (
      await Promise.all([
        valueBudgetView(this.sessions, this.account, this.sessionId),
        valueBudgetView(this.sessions, this.account, "account"),
      ])
    ).filter((v): v is ValueBudgetView => v !== undefined);
    const gasLeft = s.gasBudget > s.gasSpent ? s.gasBudget - s.gasSpent : 0n;
    const usable = state === "active" && !config.paused;
    return {
      account: this.account,
      sessionId: this.sessionId,
      agent: this.agentAddress,
      transport: this.transport,
      chainId: this.chainId,
      now: timeJson(now),
      state,
      usable,
      validAfter: timeJson(s.validAfter),
      validUntil: timeJson(s.validUntil),
      revoked: s.revoked,
      expired,
      paused: config.paused,
      uses: { used: Number(s.uses), max: Number(s.maxUses), left: Math.max(0, Number(s.maxUses) - Number(s.uses)) },
      gas: {
        budget: amountJson(s.gasBudget, ETH),
        spent: amountJson(s.gasSpent, ETH),
        left: amountJson(gasLeft, ETH),
        perOpCap: amountJson(s.maxGasCostPerOp, ETH),
      },
      queueDelaySeconds: Number(s.queueDelay),
      approvalWindowSeconds: Number(s.approvalWindow),
      budgets,
      valueBudgets,
      pending,
      agentBalance: amountJson(balance, ETH),
    };
  }
}

/** JSON tool arguments → what ethers' ABI coder takes (numbers stay numbers; nested arrays are kept). */
function normalizeArg(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeArg);
  if (typeof v === "number" && !Number.isSafeInteger(v)) {
    throw new Error(`number ${v} is not a safe integer: pass big numbers as decimal strings`);
  }
  return v;
}

function oneLine(message: string): string {
  const first = message.split("\n").find((l) => l.trim() !== "") ?? message;
  return first.replace(/\s+/g, " ").trim();
}
