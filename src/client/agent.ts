/**
 * {@link AgentSession}: what an AI agent holds — its session key, the account it acts for, the session id and a
 * transport. It can ask what an operation would do ({@link AgentSession.preflight}) and send it
 * ({@link AgentSession.send}), getting back either an execution, a queued request, or a typed refusal.
 */
import { PRICE_FAILURES, VALUE_LIMITS, type PriceFailure, type ValueLimit } from "./valueBudget.js";
import { Interface, ZeroHash, dataLength, getAddress, type Provider, type Signer } from "ethers";
import { executeCalldata, wrapExecuteUserOp, type Call } from "../account/encoding.js";
import {
  SESSION_OPERATION_TYPES,
  encodeSessionSignature,
  sessionOperationMessage,
  sessionTypedDomain,
  stubSessionSignature,
} from "../session/signature.js";
import { nonceKey, packUserOp, type UserOperation } from "../userop/userop.js";
import {
  AgentSessions__factory,
  IEntryPoint__factory,
  ReinsAccount__factory,
  ReinsTimelock__factory,
  type AgentSessions,
} from "../../types/ethers-contracts/index.js";
import { ReinsError, SessionExpired, SignatureRejected, decodeReinsError, revertDataOf } from "./errors.js";
import { TIERS, type TierName } from "./actions/assessTier.js";
import { executeQueued, findQueued } from "./actions/queue.js";
import {
  DEFAULT_GAS_LIMITS,
  operationFees,
  submitOperation,
  type GasOverrides,
  type OperationSender,
} from "./transport/sender.js";

const ACCOUNT = ReinsAccount__factory.createInterface();
const SESSIONS = AgentSessions__factory.createInterface();

/** Outcome of {@link AgentSession.preflight}. */
export type PreflightResult =
  | { outcome: "execute" }
  | { outcome: "queue"; tier: Exclude<TierName, "instant">; token: string; amount: bigint; limit: bigint }
  | { outcome: "refuse"; error: ReinsError };

/** Errors tokens commonly revert with (OpenZeppelin ERC-20 v5, `Error(string)`), to name a simulated revert. */
const TOKEN_ERRORS = new Interface([
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ERC20InvalidSender(address sender)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error Error(string)",
]);

/** The execution of a simulated operation reverts (not a rule of the session: the call itself fails). */
export class ExecutionReverts extends ReinsError {
  override readonly name = "ExecutionReverts" as const;
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super("execution reverts", `the execution would revert: ${reason}`, { reason, ...details });
  }
}

/** Outcome of {@link AgentSession.send}. */
export type SendResult =
  | { status: "executed"; userOpHash: string; txHash: string; gasUsed: bigint; gasCost: bigint }
  | {
      status: "queued";
      userOpHash: string;
      txHash: string;
      requestId: string;
      tier: Exclude<TierName, "instant">;
      token: string;
      amount: bigint;
      limit: bigint;
      /** Unix seconds from which the request can run (when approved, for the approval tier). */
      earliestExecution: bigint;
      /** Unix seconds from which the request can no longer run. */
      expiresAt: bigint;
      /**
       * Set when a value budget (a cap in money across tokens) queued the operation: the verdict that did (the
       * session's or the account's budget), with `limit` by name, the value and the limit's number in unit base
       * units; or, when the spend could not be valued, the token and the `failure` (e.g. `Stale`).
       */
      value?: ValueReason;
    };

/** Why a value budget queued an operation ({@link SendResult}). */
export interface ValueReason {
  budget: "session" | "account";
  limit: ValueLimit;
  value: bigint;
  bound: bigint;
  failure?: PriceFailure;
  unpricedToken?: string;
}

/** The reason in a `ValueAssessed` quote: the stricter of the session's and the account's verdict. */
function valueReason(quote: {
  failure: bigint;
  unpricedToken: string;
  session: { tier: bigint; limit: bigint; value: bigint; bound: bigint };
  account: { tier: bigint; limit: bigint; value: bigint; bound: bigint };
}): ValueReason {
  const budget = quote.account.tier > quote.session.tier ? "account" : "session";
  const v = quote[budget];
  const failure = Number(quote.failure);
  return {
    budget,
    limit: VALUE_LIMITS[Number(v.limit)] ?? "Price",
    value: v.value,
    bound: v.bound,
    ...(failure !== 0 ? { failure: PRICE_FAILURES[failure] ?? "NoSource", unpricedToken: quote.unpricedToken } : {}),
  };
}

/** Options of {@link AgentSession}. */
export interface AgentSessionOptions {
  /**
   * The agent's session key, connected to a provider: any ethers `Signer` (a `Wallet`, a KMS or hardware signer, a
   * browser wallet). It signs the EIP-712 `SessionOperation` of each operation with `signTypedData`.
   */
  agent: Signer;
  /** The Reins account the session belongs to. */
  account: string;
  sessionId: string;
  /** AgentSessions module address. */
  sessions: string;
  sender: OperationSender;
  /** Fixed gas limits / fees (otherwise estimated by the sender, or defaults). */
  gas?: GasOverrides;
}

/** An agent's handle on one session. */
export class AgentSession {
  readonly agent: Signer;
  readonly account: string;
  readonly sessionId: string;
  readonly sender: OperationSender;
  readonly sessions: AgentSessions;
  private readonly gas: GasOverrides;

  constructor(options: AgentSessionOptions) {
    if (!options.agent.provider) throw new ReinsError("config", "AgentSession: the agent wallet needs a provider");
    this.agent = options.agent;
    this.account = options.account;
    this.sessionId = options.sessionId;
    this.sender = options.sender;
    this.gas = options.gas ?? {};
    this.sessions = AgentSessions__factory.connect(options.sessions, this.agent);
  }

  private get provider(): Provider {
    return this.agent.provider!;
  }

  /** The session key's address. */
  async agentAddress(): Promise<string> {
    return getAddress(await this.agent.getAddress());
  }

  /**
   * The session signature of a userOpHash: the agent signs the module's EIP-712 `SessionOperation` (any `Signer`,
   * through `signTypedData`), encoded as `sessionId ‖ intentHash ‖ signature`.
   */
  async signOperationHash(userOpHash: string, intentHash: string = ZeroHash): Promise<string> {
    const domain = sessionTypedDomain({
      chainId: await this.sender.chainId(),
      sessions: await this.sessions.getAddress(),
    });
    const signature = await this.agent.signTypedData(
      domain,
      { SessionOperation: [...SESSION_OPERATION_TYPES.SessionOperation] },
      sessionOperationMessage(userOpHash, this.sessionId, intentHash),
    );
    return encodeSessionSignature(this.sessionId, intentHash, signature);
  }

  /** The unsigned operation for `calls` (nonce on the AgentSessions key, `executeUserOp ‖ execute(...)`). */
  async buildOperation(calls: Call | Call[]): Promise<UserOperation> {
    const entryPoint = IEntryPoint__factory.connect(this.sender.entryPoint, this.provider);
    const nonce = await entryPoint.getNonce(this.account, nonceKey(await this.sessions.getAddress()));
    const d = DEFAULT_GAS_LIMITS.agent;
    return {
      sender: this.account,
      nonce,
      callData: wrapExecuteUserOp(executeCalldata(calls)),
      callGasLimit: this.gas.callGasLimit ?? d.callGasLimit,
      verificationGasLimit: this.gas.verificationGasLimit ?? d.verificationGasLimit,
      preVerificationGas: this.gas.preVerificationGas ?? d.preVerificationGas,
      ...(await operationFees(this.provider, this.gas)),
      signature: "0x",
    };
  }

  /**
   * What sending `calls` would do now, without sending: (a) runs the validation phase through an `eth_call` of
   * `handleOps` with a stub signature (a policy violation reverts with its error; a clean validation ends in
   * `AA24`, expected for the stub); (b) asks the module itself, in one `eth_call` of `previewOperation`, whether
   * the session may make the calls now (window, uses, scope) and which tier they fall in per token; (c) simulates
   * the execution of an instant operation.
   */
  async preflight(calls: Call | Call[]): Promise<PreflightResult> {
    const op = { ...(await this.buildOperation(calls)), signature: stubSessionSignature(this.sessionId) };
    const entryPoint = IEntryPoint__factory.connect(this.sender.entryPoint, this.provider);
    try {
      const agentAddress = await this.agentAddress();
      await entryPoint.handleOps.staticCall([packUserOp(op)], agentAddress, { from: agentAddress });
      return { outcome: "refuse", error: new ReinsError("stub", "validation accepted a stub signature") };
    } catch (e) {
      const error = decodeReinsError(e);
      if (!(error instanceof SignatureRejected)) return { outcome: "refuse", error };
    }
    const [mode, payload] = ACCOUNT.decodeFunctionData("execute", executeCalldata(calls));
    const preview = await this.sessions.previewOperation(this.account, this.sessionId, mode, payload);
    if (preview.refusal !== "0x") {
      const refused = SESSIONS.parseError(preview.refusal);
      if (refused?.name === "AgentSessionsOutsideWindow") {
        const [, validAfter, validUntil, now] = refused.args;
        return { outcome: "refuse", error: new SessionExpired({ validAfter, validUntil, now }) };
      }
      return { outcome: "refuse", error: decodeReinsError(preview.refusal) };
    }
    const tier = TIERS[Number(preview.tier)];
    if (tier !== "instant") {
      return { outcome: "queue", tier, token: getAddress(preview.token), amount: preview.amount, limit: preview.limit };
    }
    const simulated = await this.simulateExecution(op);
    if (simulated) return { outcome: "refuse", error: simulated };
    return { outcome: "execute" };
  }

  /**
   * Simulate the execution phase of `op` exactly as the EntryPoint would run it: an `eth_call` of
   * `account.executeUserOp(op, userOpHash)` from the EntryPoint (the account hands it to AgentSessions, which
   * re-checks the session, charges the budgets, measures the watched assets and makes the calls). Returns the
   * typed error when it would revert (a policy error of the module, or {@link ExecutionReverts} for a call that
   * fails, e.g. a token refusing the transfer), `undefined` when it would succeed. Nothing is signed or sent.
   */
  async simulateExecution(op: UserOperation): Promise<ReinsError | undefined> {
    const packed = packUserOp(op);
    const entryPoint = IEntryPoint__factory.connect(this.sender.entryPoint, this.provider);
    const userOpHash = await entryPoint.getUserOpHash(packed);
    const data = ReinsAccount__factory.createInterface().encodeFunctionData("executeUserOp", [packed, userOpHash]);
    try {
      await this.provider.call({ to: this.account, from: this.sender.entryPoint, data });
      return undefined;
    } catch (e) {
      const raw = revertDataOf(e);
      const decoded = decodeReinsError(raw ?? e);
      if (decoded.rule !== "revert" && decoded.rule !== "unknown") return decoded;
      if (raw && dataLength(raw) >= 4) {
        try {
          const t = TOKEN_ERRORS.parseError(raw);
          if (t) return new ExecutionReverts(`${t.name}(${t.args.map(String).join(", ")})`, { data: raw });
        } catch {
          /* not a known token error */
        }
      }
      return new ExecutionReverts(raw ? `revert data ${raw}` : decoded.message, raw ? { data: raw } : {});
    }
  }

  /**
   * Sign and send `calls`. Resolves with the execution or the queued request; throws a typed {@link ReinsError}
   * when the operation is refused (validation) or its execution reverts (`error.included` is then set).
   */
  async send(calls: Call | Call[], options: { intentHash?: string } = {}): Promise<SendResult> {
    const intentHash = options.intentHash ?? ZeroHash;
    const draft = await this.buildOperation(calls);
    const result = await submitOperation({
      sender: this.sender,
      draft,
      stubSignature: stubSessionSignature(this.sessionId, intentHash),
      sign: (hash) => this.signOperationHash(hash, intentHash),
      fixed: this.gas,
    });
    const sessionsAddress = (await this.sessions.getAddress()).toLowerCase();
    let value: ValueReason | undefined;
    for (const log of result.logs) {
      if (log.address.toLowerCase() !== sessionsAddress) continue;
      const parsed = this.sessions.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed?.name === "ValueAssessed") value = valueReason(parsed.args.quote);
      if (parsed?.name !== "OperationQueued") continue;
      const requestId: string = parsed.args.requestId;
      const timelock = ReinsTimelock__factory.connect(await this.sessions.timelock(), this.provider);
      const op = await timelock.getOperation(this.account, requestId);
      return {
        status: "queued",
        userOpHash: result.userOpHash,
        txHash: result.txHash,
        requestId,
        tier: Number(parsed.args.tier) === 2 ? "approval" : "delayed",
        token: parsed.args.token,
        amount: parsed.args.amount,
        limit: parsed.args.limit,
        earliestExecution: op.readyAt,
        expiresAt: op.expiresAt,
        ...(value ? { value } : {}),
      };
    }
    return {
      status: "executed",
      userOpHash: result.userOpHash,
      txHash: result.txHash,
      gasUsed: result.actualGasUsed,
      gasCost: result.actualGasCost,
    };
  }

  /** Run a Ready queued request of this account (anyone may; `runner` pays the gas, default the agent key). */
  async executeQueued(requestId: string, runner: Signer = this.agent): Promise<string> {
    const timelock = ReinsTimelock__factory.connect(await this.sessions.timelock(), runner);
    const queued = await findQueued(timelock, this.account, requestId);
    return executeQueued(timelock, this.account, queued);
  }

  /** The agent revokes its own session (a plain transaction from the session key, which needs gas). */
  async revokeSelf(): Promise<string> {
    try {
      const tx = await this.sessions.revokeSelf(this.account, this.sessionId);
      const receipt = await tx.wait();
      return receipt!.hash;
    } catch (e) {
      throw decodeReinsError(e);
    }
  }
}
