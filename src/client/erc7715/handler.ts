/**
 * ERC-7715 for a Reins account: {@link requestExecutionPermissions} grants a `wallet_requestExecutionPermissions`
 * request as Reins sessions through {@link ReinsOwner}, and {@link createErc7715Handler} answers the ERC-7715
 * JSON-RPC methods for one owner:
 *
 * - `wallet_requestExecutionPermissions` (and the older name `wallet_grantPermissions`): every request of the
 *   params array is translated first ({@link translatePermissionRequest}); one refusal refuses the whole call and
 *   nothing reaches the chain. Then all sessions are granted in ONE owner operation (all or none).
 * - `wallet_getGrantedExecutionPermissions` (and `wallet_getPermissions`): from the chain
 *   ({@link getGrantedExecutionPermissions}).
 * - `wallet_getSupportedExecutionPermissions`: the types and rules Reins grants, for this chain.
 * - `wallet_revokeExecutionPermission` (and `wallet_revokePermissions`), params `{ permissionContext }`: revokes
 *   the session, or cancels a grant that still waits its security delay.
 *
 * The security delay. An account created with a security delay (the default: one day) does not apply a grant at
 * once: the grant is proposed (`ChangeProposed`) and can be applied by anyone (`applyChange`) from `readyAt`; the
 * owner, a watchdog or the monitor can cancel it before. The response then says `reins.status: "pending"` with
 * `reins.readyAt` (unix seconds) and `reins.changeHash`, and its `context` is a pending context (it names the
 * change, not a session). The agent waits until `readyAt`, then {@link applyPendingPermission} (or the owner's
 * `applyChange`) creates the session and {@link agentSessionFromContext} uses it; before that it throws
 * {@link ChangeNotReady}.
 */
import { getAddress, toQuantity } from "ethers";
import { executeCalldata } from "../../account/encoding.js";
import { ReinsError, PolicyError } from "../errors.js";
import type { ReinsOwner } from "../owner.js";
import type { SessionConfig } from "../policy.js";
import { DEFAULT_GAS_LIMITS } from "../transport/sender.js";
import { encodePermissionsContext, decodePermissionsContext } from "./context.js";
import { Erc7715Error, JSON_RPC_ERRORS } from "./errors.js";
import { getGrantedExecutionPermissions, type GetGrantedOptions } from "./granted.js";
import { translatePermissionRequest, type Erc7715GrantOptions, type Translation } from "./translate.js";
import {
  SUPPORTED_PERMISSION_TYPES,
  SUPPORTED_RULE_TYPES,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type PermissionResponse,
} from "./types.js";

/** The owner's decision on a permission request (see {@link Erc7715HandlerOptions.approve}). */
export type ConsentHook = (grants: { translation: Translation; config: SessionConfig }[]) => boolean | Promise<boolean>;

/** Options of {@link requestExecutionPermissions} and {@link createErc7715Handler}. */
export interface Erc7715HandlerOptions extends Erc7715GrantOptions {
  /**
   * The owner's consent: called with the translated requests and their session configs before anything is sent.
   * Return false to refuse (JSON-RPC 4001, user rejected). {@link requestExecutionPermissions} grants without it
   * (the owner is the caller); {@link createErc7715Handler} requires it, since whoever reaches the handler could
   * otherwise obtain sessions on the account.
   */
  approve?: ConsentHook;
  /** Options of `wallet_getGrantedExecutionPermissions`. */
  granted?: GetGrantedOptions;
  /**
   * The call gas limit of the owner's operations, when the sender cannot estimate (DirectSender): the
   * `gas.callGasLimit` the {@link ReinsOwner} was built with (default {@link DEFAULT_GAS_LIMITS}, 1,000,000, about
   * three grants). Requests whose grants need more in one operation are refused before anything is sent.
   */
  callGasLimit?: bigint;
}

/** The owner refused the request in {@link Erc7715HandlerOptions.approve}. */
export class PermissionRequestRejected extends ReinsError {
  override readonly name = "PermissionRequestRejected" as const;
  constructor() {
    super("erc7715", "the owner rejected the permission request");
  }
}

/**
 * Grant every request of a `wallet_requestExecutionPermissions` params array as a Reins session of `owner`'s
 * account, in one owner operation. Throws {@link Erc7715Error} (or {@link PolicyError}) before anything is sent
 * when a request cannot be expressed exactly; returns one {@link PermissionResponse} per request, in order.
 */
export async function requestExecutionPermissions(
  owner: ReinsOwner,
  params: unknown,
  options: Erc7715HandlerOptions = {},
): Promise<PermissionResponse[]> {
  if (!Array.isArray(params) || params.length === 0) {
    throw new Erc7715Error("malformed", "params", "expected a non-empty array of permission requests");
  }
  const chainId = (await owner.provider.getNetwork()).chainId;
  const account = owner.account;
  const translations = params.map((p, i) => translatePermissionRequest(p, i, { chainId, account }, options));
  const grants: { translation: Translation; config: SessionConfig }[] = [];
  for (const translation of translations) {
    const config = await translation.builder.build({ provider: owner.provider, account });
    grants.push({ translation, config });
  }
  if (options.approve && !(await options.approve(grants))) throw new PermissionRequestRejected();

  const module = getAddress(owner.deployment.sessions);
  const calls = grants.map((g) => ({
    target: module,
    data: owner.sessions.interface.encodeFunctionData("grantSession", [g.config]),
  }));
  if (!owner.sender.estimate) {
    // The sender uses fixed limits: check that all grants fit in one operation (the EntryPoint calls the account
    // with exactly this call data), rather than let the operation run out of gas on chain.
    const limit = options.callGasLimit ?? DEFAULT_GAS_LIMITS.owner.callGasLimit;
    const needed = await owner.provider.estimateGas({
      from: owner.sender.entryPoint,
      to: account,
      data: executeCalldata(calls),
    });
    if (needed > limit) {
      throw new Erc7715Error(
        "too large",
        "params",
        `the ${grants.length} grants need ${needed} gas in one owner operation, above its call gas limit ${limit}: ` +
          "send fewer permission requests per call (or raise the owner's gas.callGasLimit and callGasLimit)",
        { needed, limit },
      );
    }
  }
  const result = await owner.execute(calls);
  const outcomes: ({ sessionId: string } | { changeHash: string; readyAt: bigint })[] = [];
  for (const log of result.logs) {
    if (getAddress(log.address) !== module) continue;
    const parsed = owner.sessions.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name === "SessionGranted") outcomes.push({ sessionId: parsed.args.sessionId });
    if (parsed?.name === "ChangeProposed") {
      outcomes.push({ changeHash: parsed.args.changeHash, readyAt: parsed.args.readyAt });
    }
  }
  if (outcomes.length !== grants.length) {
    throw new ReinsError("erc7715", `expected ${grants.length} grants in the operation, found ${outcomes.length}`);
  }
  return grants.map(({ translation: t, config }, i) => {
    const o = outcomes[i];
    const base = { chainId, account, sessions: module };
    const context =
      "sessionId" in o
        ? encodePermissionsContext({ status: "active", ...base, sessionId: o.sessionId })
        : encodePermissionsContext({ status: "pending", ...base, changeHash: o.changeHash });
    return {
      chainId: t.chainId,
      from: account,
      to: t.to,
      permission: t.permission,
      rules: t.rules,
      context,
      dependencies: [],
      delegationManager: module,
      reins: {
        status: "sessionId" in o ? "active" : "pending",
        sessions: module,
        ...("sessionId" in o
          ? { sessionId: o.sessionId }
          : { changeHash: o.changeHash, readyAt: o.readyAt.toString() }),
        validAfter: BigInt(config.validAfter).toString(),
        validUntil: BigInt(config.validUntil).toString(),
        ...(t.period !== undefined ? { window: "sliding" as const } : {}),
      },
    };
  });
}

/** A function answering one ERC-7715 JSON-RPC request. */
export type Erc7715Handler = (request: JsonRpcRequest) => Promise<JsonRpcResponse>;

/**
 * A JSON-RPC handler of the ERC-7715 methods for `owner`'s account (see the module doc). `options.approve` is the
 * owner's consent to each permission request (`() => true` grants whatever a caller asks: only for a handler that
 * nobody else can reach). The handler never throws: refusals are JSON-RPC errors with the typed error in `data`
 * (`name`, `refusal`, `field`, `reason`).
 */
export function createErc7715Handler(
  owner: ReinsOwner,
  options: Erc7715HandlerOptions & { approve: ConsentHook },
): Erc7715Handler {
  if (typeof options?.approve !== "function") {
    throw new ReinsError("config", "createErc7715Handler: options.approve (the owner's consent) is required");
  }
  return async (request) => {
    const id = request && typeof request === "object" && "id" in request ? (request.id ?? null) : null;
    try {
      if (!request || typeof request !== "object" || typeof request.method !== "string") {
        return rpcError(id, JSON_RPC_ERRORS.invalidRequest, "not a JSON-RPC request");
      }
      return { jsonrpc: "2.0", id, result: await dispatch(owner, options, request) };
    } catch (e) {
      return errorResponse(id, e);
    }
  };
}

async function dispatch(owner: ReinsOwner, options: Erc7715HandlerOptions, request: JsonRpcRequest): Promise<unknown> {
  switch (request.method) {
    case "wallet_requestExecutionPermissions":
    case "wallet_grantPermissions":
      return requestExecutionPermissions(owner, request.params, options);
    case "wallet_getGrantedExecutionPermissions":
    case "wallet_getPermissions":
      return getGrantedExecutionPermissions(owner.sessions, owner.account, options.granted);
    case "wallet_getSupportedExecutionPermissions": {
      const chainIds = [toQuantity((await owner.provider.getNetwork()).chainId)];
      return Object.fromEntries(
        SUPPORTED_PERMISSION_TYPES.map((t) => [t, { chainIds, ruleTypes: [...SUPPORTED_RULE_TYPES] }]),
      );
    }
    case "wallet_revokeExecutionPermission":
    case "wallet_revokePermissions":
      await revoke(owner, request.params);
      return {};
    default:
      throw new MethodNotFound(request.method);
  }
}

async function revoke(owner: ReinsOwner, params: unknown): Promise<void> {
  const p = Array.isArray(params) ? params[0] : params;
  const raw = p && typeof p === "object" ? (p as Record<string, unknown>) : {};
  const context = raw.permissionContext ?? raw.permissionsContext ?? raw.context;
  if (typeof context !== "string") {
    throw new Erc7715Error("malformed", "params.permissionContext", "expected the permission's context");
  }
  const c = decodePermissionsContext(context);
  const chainId = (await owner.provider.getNetwork()).chainId;
  if (
    c.chainId !== chainId ||
    c.account !== getAddress(owner.account) ||
    c.sessions !== getAddress(owner.deployment.sessions)
  ) {
    throw new Erc7715Error(
      "bad context",
      "params.permissionContext",
      "the context is for another chain, account or module",
    );
  }
  if (c.status === "active") await owner.revokeSession(c.sessionId);
  else {
    await owner.execute({
      target: owner.deployment.sessions,
      data: owner.sessions.interface.encodeFunctionData("cancelChange", [c.changeHash]),
    });
  }
}

class MethodNotFound extends Error {
  constructor(readonly method: string) {
    super(`method ${method} is not an ERC-7715 method this handler answers`);
  }
}

function rpcError(id: JsonRpcResponse["id"], code: number, message: string, data?: unknown): JsonRpcResponse {
  return { jsonrpc: "2.0", id, error: { code, message, ...(data !== undefined ? { data: jsonSafe(data) } : {}) } };
}

function errorResponse(id: JsonRpcResponse["id"], e: unknown): JsonRpcResponse {
  if (e instanceof MethodNotFound) return rpcError(id, JSON_RPC_ERRORS.methodNotFound, e.message);
  if (e instanceof PermissionRequestRejected) return rpcError(id, 4001, e.message, { name: e.name });
  if (e instanceof Erc7715Error) {
    return rpcError(id, e.code, e.message, { name: e.name, refusal: e.refusal, field: e.field, ...e.details });
  }
  if (e instanceof PolicyError) {
    return rpcError(id, JSON_RPC_ERRORS.invalidParams, e.message, { name: e.name, ...e.details });
  }
  if (e instanceof ReinsError) {
    return rpcError(id, JSON_RPC_ERRORS.internal, e.message, { name: e.name, rule: e.rule, ...e.details });
  }
  return rpcError(id, JSON_RPC_ERRORS.internal, e instanceof Error ? e.message : String(e));
}

function jsonSafe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
}
