/**
 * Typed errors for the Reins client, decoded from the custom errors of AgentSessions, ReinsTimelock,
 * ReinsAccount and CallPolicy, and from the EntryPoint's `FailedOp` / `FailedOpWithRevert` codes.
 *
 * Every error is a {@link ReinsError}: `rule` names the rule that refused the operation, `details` carries the
 * decoded arguments. Subclasses have a literal `name`, so `switch (e.name)` narrows.
 * {@link decodeReinsError} turns revert bytes, an ethers error, or a bundler rejection into one of them.
 */
import { Interface, dataLength, getAddress, isHexString, type ErrorDescription } from "ethers";
import { UserOperationRejected } from "../bundler/errors.js";
import { PRICE_FAILURES, VALUE_LIMITS, type PriceFailure, type ValueLimit } from "./valueBudget.js";
import {
  AgentSessions__factory,
  CallPolicy__factory,
  IEntryPoint__factory,
  OwnerValidator__factory,
  ReinsAccountFactory__factory,
  ReinsAccount__factory,
  ReinsTimelock__factory,
} from "../../types/ethers-contracts/index.js";

/** Operation context attached to an error raised after the operation was included on chain. */
export interface IncludedOperation {
  userOpHash: string;
  txHash: string;
}

/** Base class of every Reins client error. `rule` names the refused rule, `details` its decoded arguments. */
export class ReinsError extends Error {
  override readonly name: string = "ReinsError";
  /** Set when the operation was included (gas paid, nonce used) but its execution reverted. */
  included?: IncludedOperation;
  constructor(
    /** Short machine-readable rule, e.g. `"scope"`, `"budget"`, or the raw custom error name when unmapped. */
    readonly rule: string,
    message: string,
    /** Decoded arguments of the underlying custom error (or bundler/EntryPoint data). */
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Call `index` matches no permission of the session (target + selector). */
export class ScopeViolation extends ReinsError {
  override readonly name = "ScopeViolation" as const;
  constructor(
    readonly index: bigint,
    readonly target: string,
    readonly selector: string,
  ) {
    super("scope", `call ${index} to ${target} (selector ${selector}) is outside the session's scope`, {
      index,
      target,
      selector,
    });
  }
}

/** Call `index` breaks argument condition `condition` of its permission. */
export class ConditionFailed extends ReinsError {
  override readonly name = "ConditionFailed" as const;
  constructor(
    readonly index: bigint,
    readonly condition: bigint,
    readonly actual: string,
  ) {
    super("condition", `call ${index} breaks argument condition ${condition} (actual word ${actual})`, {
      index,
      condition,
      actual,
    });
  }
}

/** Call `index` sends more native value than its permission allows. */
export class ValueExceeded extends ReinsError {
  override readonly name = "ValueExceeded" as const;
  constructor(
    readonly index: bigint,
    readonly value: bigint,
    readonly cap: bigint,
  ) {
    super("value", `call ${index} sends ${value} wei, above its cap of ${cap}`, { index, value, cap });
  }
}

/** Call `index` has call data of a length its permission does not allow. */
export class CalldataLengthViolation extends ReinsError {
  override readonly name = "CalldataLengthViolation" as const;
  constructor(
    readonly index: bigint,
    readonly length: bigint,
    readonly expected: bigint,
  ) {
    super("calldata length", `call ${index} has ${length} bytes of call data, expected ${expected}`, {
      index,
      length,
      expected,
    });
  }
}

/** A call targets the account, the EntryPoint, a module or the timelock (`index` is 2^256-1 for a config). */
export class ForbiddenTarget extends ReinsError {
  override readonly name = "ForbiddenTarget" as const;
  constructor(
    readonly index: bigint,
    readonly target: string,
  ) {
    super("forbidden target", `call ${index} targets ${target}, which agents may never call`, { index, target });
  }
}

/**
 * The contract's `IAgentSessions.BudgetLimit` enum, member by member (Solidity name → the label used here), in
 * declaration order. `test/client/errors.test.ts` checks the names and their order against the Solidity source.
 */
export const BUDGET_LIMIT_CODES = {
  InstantThreshold: "instant threshold",
  Ceiling: "ceiling",
  Period: "period",
  Lifetime: "lifetime",
  FleetPeriod: "fleet period",
  FleetLifetime: "fleet lifetime",
} as const;
/** Which limit a {@link BudgetExceeded} hit, indexed by the contract's `BudgetLimit` code. */
export const BUDGET_LIMITS = Object.values(BUDGET_LIMIT_CODES);
/** A budget limit name. */
export type BudgetLimit = (typeof BUDGET_LIMIT_CODES)[keyof typeof BUDGET_LIMIT_CODES];

/** A spend went over a budget limit while it was charged. */
export class BudgetExceeded extends ReinsError {
  override readonly name = "BudgetExceeded" as const;
  constructor(
    /** The token (zero address = native). */
    readonly token: string,
    readonly which: BudgetLimit,
    readonly amount: bigint,
    readonly limit: bigint,
  ) {
    super("budget", `spend of ${amount} of ${token} is over the ${which} limit (${limit})`, {
      token,
      which,
      amount,
      limit,
    });
  }
}

/** The session has no budget for a token the operation moves (default deny). */
export class NoBudget extends ReinsError {
  override readonly name = "NoBudget" as const;
  constructor(readonly token: string) {
    super("no budget", `the session has no budget for ${token}`, { token });
  }
}

/** The operation could make the account pay more gas than the session allows. */
export class GasBudgetExceeded extends ReinsError {
  override readonly name = "GasBudgetExceeded" as const;
  constructor(
    readonly cost: bigint,
    readonly perOpCap: bigint,
    readonly remaining: bigint,
  ) {
    super("gas budget", `operation may cost ${cost} wei of gas (per-op cap ${perOpCap}, remaining ${remaining})`, {
      cost,
      perOpCap,
      remaining,
    });
  }
}

/** The session's operation count is used up. */
export class UsageExceeded extends ReinsError {
  override readonly name = "UsageExceeded" as const;
  constructor(readonly maxUses: bigint) {
    super("usage", `the session's ${maxUses} operations are used up`, { maxUses });
  }
}

/** The session is outside its validity window (EntryPoint `AA22 expired or not due`). */
export class SessionExpired extends ReinsError {
  override readonly name = "SessionExpired" as const;
  constructor(details: Record<string, unknown> = {}) {
    super("validity window", "the session is expired or not yet valid (AA22)", details);
  }
}

/** The session was revoked. */
export class SessionRevoked extends ReinsError {
  override readonly name = "SessionRevoked" as const;
  constructor(readonly sessionId: string) {
    super("revoked", `session ${sessionId} was revoked`, { sessionId });
  }
}

/** The session is unknown, or was granted before the last revoke-all / reinstall. */
export class UnknownSession extends ReinsError {
  override readonly name = "UnknownSession" as const;
  constructor(readonly sessionId: string) {
    super("unknown session", `session ${sessionId} is unknown or no longer valid`, { sessionId });
  }
}

/** Agent sessions of the account are paused (watchdog or owner). */
export class AccountPaused extends ReinsError {
  override readonly name = "AccountPaused" as const;
  constructor(readonly account: string) {
    super("paused", `agent sessions of ${account} are paused`, { account });
  }
}

/** The operation uses a paymaster, which the session does not allow. */
export class PaymasterNotAllowed extends ReinsError {
  override readonly name = "PaymasterNotAllowed" as const;
  constructor(readonly paymaster: string) {
    super("paymaster", `paymaster ${paymaster} is not allowed for this session`, { paymaster });
  }
}

/** The operation's call data is not `executeUserOp ‖ execute(mode, payload)` in canonical form. */
export class InvalidCallData extends ReinsError {
  override readonly name = "InvalidCallData" as const;
  constructor() {
    super("call data", "call data is not in the canonical agent form");
  }
}

/** The execution mode is not allowed for agents (delegatecall, or try without `allowTry`). */
export class ModeNotAllowed extends ReinsError {
  override readonly name = "ModeNotAllowed" as const;
  constructor(readonly mode: string) {
    super("mode", `execution mode ${mode} is not allowed for agents`, { mode });
  }
}

/** The signature did not validate (EntryPoint `AA24 signature error`): wrong key for the session or account. */
export class SignatureRejected extends ReinsError {
  override readonly name = "SignatureRejected" as const;
  constructor(details: Record<string, unknown> = {}) {
    super("signature", "the signature was rejected (AA24)", details);
  }
}

/** The caller may not do this (AgentSessions / timelock authorisation). */
export class Unauthorized extends ReinsError {
  override readonly name = "Unauthorized" as const;
  constructor(
    readonly caller: string,
    details: Record<string, unknown> = {},
  ) {
    super("unauthorized", `${caller} may not do this`, { caller, ...details });
  }
}

/** The contract refused a session configuration (`reason` names the field). */
export class InvalidSessionConfig extends ReinsError {
  override readonly name = "InvalidSessionConfig" as const;
  constructor(readonly reason: string) {
    super("config", `invalid session configuration: ${reason}`, { reason });
  }
}

/** A loosening change is not ready yet (or unknown): it must wait its security delay. */
export class ChangeNotReady extends ReinsError {
  override readonly name = "ChangeNotReady" as const;
  constructor(
    readonly changeHash: string,
    readonly readyAt: bigint,
  ) {
    super("security delay", `change ${changeHash} is not ready (ready at ${readyAt})`, { changeHash, readyAt });
  }
}

/** A queued operation is not in a state that allows the action (e.g. executing before its delay). */
export class QueueStateError extends ReinsError {
  override readonly name = "QueueStateError" as const;
  constructor(
    readonly id: string,
    readonly state: QueueStateName,
  ) {
    super("queue state", `queued operation ${id} is ${state}`, { id, state });
  }
}

/** Names of `ReinsTimelock` operation states, in contract order. */
export const QUEUE_STATES = ["unknown", "scheduled", "ready", "executed", "cancelled", "expired"] as const;
/** A queued operation's state. */
export type QueueStateName = (typeof QUEUE_STATES)[number];

/** Any EntryPoint rejection without a Reins-specific meaning (`AA10`…`AA95`). */
export class EntryPointRejected extends ReinsError {
  override readonly name = "EntryPointRejected" as const;
  constructor(
    readonly reason: string,
    details: Record<string, unknown> = {},
  ) {
    super("entrypoint", `EntryPoint rejected the operation: ${reason}`, { reason, ...details });
  }
}

/**
 * A value budget's charge did not fit (`ValueBudgetExceeded`): `limit` is the `ValueBudget.Limit` by name
 * (`InstantThreshold`, `Ceiling`, `Period`, `Lifetime`), `value` the spend in unit base units, `bound` the limit's number.
 */
export class ValueBudgetExceeded extends ReinsError {
  override readonly name = "ValueBudgetExceeded" as const;
  constructor(
    readonly limit: ValueLimit,
    readonly value: bigint,
    readonly bound: bigint,
  ) {
    super("value budget", `value ${value} is above the value budget's ${limit} (${bound})`, { limit, value, bound });
  }
}

/**
 * An execution spent a token that cannot be valued now (`AgentSessionsValueUnpriced`): no price source, or the
 * feed is stale, zero, negative, out of bounds or reverting (`failure`, the `ValuePricing.PriceFailure` by name).
 */
export class ValueUnpriced extends ReinsError {
  override readonly name = "ValueUnpriced" as const;
  constructor(
    readonly token: string,
    readonly failure: PriceFailure,
  ) {
    super("value price", `${token} cannot be valued now: ${failure}`, { token, failure });
  }
}

const interfaces: Interface[] = [
  AgentSessions__factory.createInterface(),
  ReinsTimelock__factory.createInterface(),
  ReinsAccount__factory.createInterface(),
  ReinsAccountFactory__factory.createInterface(),
  OwnerValidator__factory.createInterface(),
  CallPolicy__factory.createInterface(),
];
const entryPointInterface = IEntryPoint__factory.createInterface();

function parseCustom(data: string): ErrorDescription | null {
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return parsed;
    } catch {
      /* not this interface's error */
    }
  }
  return null;
}

/** Map one decoded custom error of our contracts to its typed class. */
function fromCustom(e: ErrorDescription): ReinsError {
  const a = e.args;
  switch (e.name) {
    case "AgentSessionsScopeViolation":
      return new ScopeViolation(a[0], getAddress(a[1]), a[2]);
    case "AgentSessionsConditionFailed":
      return new ConditionFailed(a[0], a[1], a[2]);
    case "AgentSessionsValueExceeded":
      return new ValueExceeded(a[0], a[1], a[2]);
    case "AgentSessionsCalldataLength":
      return new CalldataLengthViolation(a[0], a[1], a[2]);
    case "AgentSessionsForbiddenTarget":
      return new ForbiddenTarget(a[0], getAddress(a[1]));
    case "AgentSessionsBudgetExceeded":
      return new BudgetExceeded(getAddress(a[0]), BUDGET_LIMITS[Number(a[1])] ?? "ceiling", a[2], a[3]);
    case "ValueBudgetExceeded":
      return new ValueBudgetExceeded(VALUE_LIMITS[Number(a[0])] ?? "Unset", a[1], a[2]);
    case "AgentSessionsValueUnpriced":
      return new ValueUnpriced(getAddress(a[0]), PRICE_FAILURES[Number(a[1])] ?? "NoSource");
    case "AgentSessionsNoBudget":
      return new NoBudget(getAddress(a[0]));
    case "AgentSessionsGasBudgetExceeded":
      return new GasBudgetExceeded(a[0], a[1], a[2]);
    case "AgentSessionsUsageExceeded":
      return new UsageExceeded(a[0]);
    case "AgentSessionsRevoked":
      return new SessionRevoked(a[0]);
    case "AgentSessionsUnknownSession":
      return new UnknownSession(a[0]);
    case "AgentSessionsPaused":
      return new AccountPaused(getAddress(a[0]));
    case "AgentSessionsPaymasterNotAllowed":
      return new PaymasterNotAllowed(getAddress(a[0]));
    case "AgentSessionsInvalidCallData":
    case "CallPolicyInvalidCallData":
      return new InvalidCallData();
    case "AgentSessionsModeNotAllowed":
      return new ModeNotAllowed(a[0]);
    case "AgentSessionsUnauthorized":
      return new Unauthorized(getAddress(a[0]));
    case "ReinsTimelockUnauthorizedCaller":
      return new Unauthorized(getAddress(a[1]), { account: getAddress(a[0]) });
    case "AgentSessionsInvalidConfig":
      return new InvalidSessionConfig(a[0]);
    case "AgentSessionsChangeNotReady":
      return new ChangeNotReady(a[0], a[1]);
    case "ReinsTimelockUnexpectedState":
      return new QueueStateError(a[0], QUEUE_STATES[Number(a[1])] ?? "unknown");
    default: {
      const details: Record<string, unknown> = {};
      e.fragment.inputs.forEach((input, i) => (details[input.name || String(i)] = a[i]));
      return new ReinsError(e.name, `${e.name}(${a.map(String).join(", ")})`, details);
    }
  }
}

/** Decode a `FailedOp` / `FailedOpWithRevert` reason (and inner bytes) into a typed error. */
function fromEntryPoint(reason: string, inner: string | undefined, details: Record<string, unknown>): ReinsError {
  if (inner && dataLength(inner) >= 4) {
    const parsed = parseCustom(inner);
    if (parsed) return fromCustom(parsed);
  }
  if (reason.startsWith("AA22")) return new SessionExpired({ reason, ...details });
  if (reason.startsWith("AA24")) return new SignatureRejected({ reason, ...details });
  return new EntryPointRejected(reason, inner ? { inner, ...details } : details);
}

/** Decode raw revert bytes: our custom errors, the EntryPoint's `FailedOp*`, or a fallback {@link ReinsError}. */
function fromRevertData(data: string): ReinsError {
  if (dataLength(data) >= 4) {
    try {
      const ep = entryPointInterface.parseError(data);
      if (ep?.name === "FailedOpWithRevert") {
        return fromEntryPoint(ep.args.reason, ep.args.inner, { opIndex: ep.args.opIndex });
      }
      if (ep?.name === "FailedOp") return fromEntryPoint(ep.args.reason, undefined, { opIndex: ep.args.opIndex });
    } catch {
      /* not an EntryPoint error */
    }
    const parsed = parseCustom(data);
    if (parsed) return fromCustom(parsed);
  }
  return new ReinsError("revert", `the operation reverted with ${data === "0x" ? "no data" : data}`, { data });
}

/** Find the revert bytes inside an ethers / provider error (they nest differently per transport). */
export function revertDataOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (v: unknown, depth: number): string | undefined => {
    if (v === null || typeof v !== "object" || seen.has(v) || depth > 6) return undefined;
    seen.add(v);
    const o = v as Record<string, unknown>;
    if (typeof o.data === "string" && isHexString(o.data) && o.data !== "0x") return o.data;
    for (const key of ["error", "info", "cause", "data"]) {
      const found = visit(o[key], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(error, 0);
}

/** Keep the transport's own error (e.g. the bundler's JSON-RPC rejection) reachable as `cause`. */
function withCause<E extends ReinsError>(error: E, cause: unknown): E {
  if (error.cause === undefined) {
    Object.defineProperty(error, "cause", { value: cause, writable: true, configurable: true, enumerable: false });
  }
  return error;
}

/**
 * Turn revert bytes, an ethers call error, or a bundler {@link UserOperationRejected} into a typed
 * {@link ReinsError}. Errors that already are {@link ReinsError}s are returned unchanged; anything
 * undecodable becomes a plain {@link ReinsError} with the original as `cause`.
 */
export function decodeReinsError(revertDataOrError: unknown): ReinsError {
  if (revertDataOrError instanceof ReinsError) return revertDataOrError;
  if (typeof revertDataOrError === "string" && isHexString(revertDataOrError)) {
    return fromRevertData(revertDataOrError);
  }
  if (revertDataOrError instanceof UserOperationRejected) {
    const r = revertDataOrError;
    const inner = r.revertData ? parseCustom(r.revertData) : null;
    let decoded: ReinsError;
    if (r.decoded instanceof ReinsError) decoded = r.decoded;
    else if (inner) decoded = fromCustom(inner);
    else {
      const reason = r.aaCode && !r.reason.startsWith(r.aaCode) ? `${r.aaCode} ${r.reason}` : r.reason;
      decoded = fromEntryPoint(reason, undefined, { bundler: r.rpcMessage });
    }
    return withCause(decoded, r);
  }
  const data = revertDataOf(revertDataOrError);
  if (data) return fromRevertData(data);
  const message = revertDataOrError instanceof Error ? revertDataOrError.message : String(revertDataOrError);
  const aa = /\bAA(\d{2})\b[^"]*/.exec(message);
  if (aa) return fromEntryPoint(aa[0], undefined, {});
  return new ReinsError("unknown", message, {}, { cause: revertDataOrError });
}

/**
 * A `decodeRevert` hook for {@link BundlerClient}: decodes the inner revert bytes a bundler passes on, and
 * returns `undefined` for bytes no Reins contract would produce.
 */
export function reinsRevertDecoder(data: string): Error | undefined {
  const parsed = parseCustom(data);
  return parsed ? fromCustom(parsed) : undefined;
}

/** Why the policy builder refused a configuration. */
export type PolicyErrorReason =
  | "missing agent"
  | "empty scope"
  | "threshold above ceiling"
  | "ceiling above period cap"
  | "budget token not in scope"
  | "target without code"
  | "period zero"
  | "too many decimals"
  | "bad amount"
  | "bad duration"
  | "valid until in the past"
  | "unknown token"
  | "unrestricted allowance"
  | "ambiguous amount"
  | "unknown signature"
  | "condition in dynamic tail"
  | "condition beyond arguments"
  | "condition on offset"
  | "too many conditions"
  | "bad calldata length"
  | "bad config";

/** The policy builder refused a session configuration before it reached the chain. */
export class PolicyError extends ReinsError {
  override readonly name = "PolicyError" as const;
  constructor(
    readonly reason: PolicyErrorReason,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super("policy", message, { reason, ...details });
  }
}
