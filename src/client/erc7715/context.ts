/**
 * The Reins ERC-7715 `permissionsContext`: what an agent needs to use a granted permission — the chain, the
 * account, the AgentSessions module and the session id — or, while the grant waits the account's security delay,
 * the proposed change's hash in place of the session id (the id only exists once the change is applied).
 *
 * Encoding: `abi.encode(bytes32 tag, uint256 chainId, address account, address sessions, uint8 status, bytes32 id)`
 * with `tag = keccak256("reins.erc7715.permissionsContext.v1")`, `status` 0 = active (`id` = session id) or
 * 1 = pending (`id` = change hash). {@link decodePermissionsContext} inverts it; {@link resolvePermissionsContext}
 * follows a pending context on chain to its session once applied; {@link agentSessionFromContext} returns the
 * {@link AgentSession} that uses it.
 */
import { AbiCoder, getAddress, id as keccakText, type Provider, type Signer } from "ethers";
import { AgentSessions__factory, type AgentSessions } from "../../../types/ethers-contracts/index.js";
import { AgentSession } from "../agent.js";
import { ChangeNotReady, decodeReinsError } from "../errors.js";
import type { GasOverrides, OperationSender } from "../transport/sender.js";
import { Erc7715Error } from "./errors.js";
import type { Hex } from "./types.js";

/** First word of every Reins permissions context. */
export const PERMISSIONS_CONTEXT_TAG = keccakText("reins.erc7715.permissionsContext.v1");

const LAYOUT = ["bytes32", "uint256", "address", "address", "uint8", "bytes32"];

/** A decoded Reins permissions context. */
export type PermissionsContext =
  | { status: "active"; chainId: bigint; account: string; sessions: string; sessionId: string }
  | { status: "pending"; chainId: bigint; account: string; sessions: string; changeHash: string };

/** Encode a {@link PermissionsContext} (see the module doc for the layout). */
export function encodePermissionsContext(c: PermissionsContext): Hex {
  const id = c.status === "active" ? c.sessionId : c.changeHash;
  return AbiCoder.defaultAbiCoder().encode(LAYOUT, [
    PERMISSIONS_CONTEXT_TAG,
    c.chainId,
    getAddress(c.account),
    getAddress(c.sessions),
    c.status === "active" ? 0 : 1,
    id,
  ]) as Hex;
}

/** Decode a Reins permissions context; throws {@link Erc7715Error} ("bad context") for anything else. */
export function decodePermissionsContext(context: string): PermissionsContext {
  let v: ReturnType<AbiCoder["decode"]>;
  try {
    if (!/^0x[0-9a-fA-F]*$/.test(context) || context.length !== 2 + 64 * LAYOUT.length) throw new Error("length");
    v = AbiCoder.defaultAbiCoder().decode(LAYOUT, context);
  } catch {
    throw new Erc7715Error("bad context", "context", "not a Reins permissions context (6 ABI words expected)");
  }
  if (v[0] !== PERMISSIONS_CONTEXT_TAG) {
    throw new Erc7715Error("bad context", "context", "not a Reins permissions context (wrong tag)");
  }
  const base = { chainId: v[1] as bigint, account: getAddress(v[2]), sessions: getAddress(v[3]) };
  const status = Number(v[4]);
  if (status === 0) return { status: "active", ...base, sessionId: v[5] };
  if (status === 1) return { status: "pending", ...base, changeHash: v[5] };
  throw new Erc7715Error("bad context", "context", `unknown context status ${status}`);
}

/** Where a pending grant stands on chain. */
export type ResolvedContext =
  | Extract<PermissionsContext, { status: "active" }>
  | (Extract<PermissionsContext, { status: "pending" }> & { readyAt: bigint })
  | (Extract<PermissionsContext, { status: "pending" }> & { cancelled: true });

/**
 * Follow a context on chain: an active one is returned as is; a pending one becomes active when its change was
 * applied (the session id from the `SessionGranted` log next to `ChangeApplied`), stays pending with `readyAt`
 * while it waits, or is `cancelled` (cancelled by the owner, or voided by a revoke-all).
 */
export async function resolvePermissionsContext(provider: Provider, context: string): Promise<ResolvedContext> {
  const c = decodePermissionsContext(context);
  await checkChain(provider, c.chainId);
  if (c.status === "active") return c;
  const sessions = AgentSessions__factory.connect(c.sessions, provider);
  const applied = await sessions.queryFilter(sessions.filters.ChangeApplied(c.account, c.changeHash));
  if (applied.length) {
    const receipt = await provider.getTransactionReceipt(applied[0].transactionHash);
    const sessionId = sessionGrantedBefore(sessions, receipt!.logs, applied[0].index, c.account);
    if (sessionId) return { status: "active", chainId: c.chainId, account: c.account, sessions: c.sessions, sessionId };
  }
  const readyAt = await sessions.pendingChange(c.account, c.changeHash);
  if (readyAt === 0n) return { ...c, cancelled: true };
  return { ...c, readyAt };
}

/**
 * Apply a pending grant once its security delay has passed (anyone may: `runner` pays the gas, e.g. the agent
 * key). Reads the proposed change from its `ChangeProposed` log. Returns the new session id; throws
 * {@link ChangeNotReady} before `readyAt`.
 */
export async function applyPendingPermission(runner: Signer, context: string): Promise<string> {
  const c = decodePermissionsContext(context);
  if (c.status === "active") return c.sessionId;
  const sessions = AgentSessions__factory.connect(c.sessions, runner);
  const proposed = await sessions.queryFilter(sessions.filters.ChangeProposed(c.account, c.changeHash));
  if (!proposed.length) throw new Erc7715Error("bad context", "context", `no change ${c.changeHash} was proposed`);
  try {
    const receipt = await (await sessions.applyChange(c.account, proposed[proposed.length - 1].args.data)).wait();
    const logs = receipt!.logs;
    const sessionId = sessionGrantedBefore(sessions, logs, Number.MAX_SAFE_INTEGER, c.account);
    if (!sessionId) throw new Erc7715Error("bad context", "context", "the applied change granted no session");
    return sessionId;
  } catch (e) {
    throw decodeReinsError(e);
  }
}

/** Options of {@link agentSessionFromContext}. */
export interface AgentFromContextOptions {
  /** The session key (the permission's `to`, any ethers `Signer`), connected to a provider of the context's chain. */
  agent: Signer;
  sender: OperationSender;
  gas?: GasOverrides;
}

/**
 * The {@link AgentSession} that uses a granted permission. Checks the chain and that the session belongs to
 * `agent`; a pending context is resolved first and throws {@link ChangeNotReady} while the grant waits.
 */
export async function agentSessionFromContext(
  context: string,
  options: AgentFromContextOptions,
): Promise<AgentSession> {
  const provider = options.agent.provider;
  if (!provider) throw new Erc7715Error("bad context", "agent", "the agent wallet needs a provider");
  const r = await resolvePermissionsContext(provider, context);
  if (r.status === "pending") {
    throw new ChangeNotReady(r.changeHash, "readyAt" in r ? r.readyAt : 0n);
  }
  const sessions = AgentSessions__factory.connect(r.sessions, provider);
  const s = await sessions.getSession(r.sessionId, r.account);
  const agentAddress = getAddress(await options.agent.getAddress());
  if (getAddress(s.agent) !== agentAddress) {
    throw new Erc7715Error(
      "bad context",
      "agent",
      `session ${r.sessionId} belongs to agent ${s.agent}, not ${agentAddress}`,
    );
  }
  return new AgentSession({
    agent: options.agent,
    account: r.account,
    sessionId: r.sessionId,
    sessions: r.sessions,
    sender: options.sender,
    ...(options.gas ? { gas: options.gas } : {}),
  });
}

async function checkChain(provider: Provider, chainId: bigint): Promise<void> {
  const here = (await provider.getNetwork()).chainId;
  if (here !== chainId) {
    throw new Erc7715Error("bad context", "context", `the context is for chain ${chainId}, the provider is on ${here}`);
  }
}

/** The last `SessionGranted` of `account` among `logs` before log index `before` (in receipt order). */
function sessionGrantedBefore(
  sessions: AgentSessions,
  logs: readonly { address: string; topics: readonly string[]; data: string; index: number }[],
  before: number,
  account: string,
): string | undefined {
  let found: string | undefined;
  const module = getAddress(sessions.target as string);
  for (const log of logs) {
    if (log.index >= before) break;
    if (getAddress(log.address) !== module) continue;
    const parsed = sessions.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name === "SessionGranted" && getAddress(parsed.args.account) === getAddress(account)) {
      found = parsed.args.sessionId;
    }
  }
  return found;
}
