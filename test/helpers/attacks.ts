/**
 * Helpers for attack tests: send an agent operation and read what happened (executed, queued, refused in
 * validation), and "nothing lost" snapshots of balances, allowances, modules, owner, sessions, limits and queue.
 */
import { expect } from "chai";
import { Interface, ZeroAddress } from "ethers";
import { MODULE_TYPE_EXECUTOR, MODULE_TYPE_VALIDATOR, type Call } from "../../src/account/encoding.js";
import { packUserOp, type UserOperation } from "../../src/userop/userop.js";
import { agentOp, parseEvents, sendAgent, type SessionWorld } from "./sessions.js";

const EXTRA_ERRORS = new Interface([
  "error CallPolicyNonCanonical(bytes4 selector, uint256 length)",
  "error CallPolicyUnboundedGrant(bytes4 selector)",
  "error CircuitBreakerUnauthorized(address caller)",
  "error RiskEngineUnauthorized(address account, address caller)",
  "error ERC7579UninstalledModule(uint256,address)",
]);

/** Name and args of a revert, decoded against AgentSessions, the account, the timelock and a few others. */
export function decodeRevert(w: SessionWorld, data: string | undefined): { name: string; args: unknown[] } | undefined {
  if (!data || data === "0x") return undefined;
  for (const i of [w.sessions.interface, w.account.interface, w.timelock.interface, EXTRA_ERRORS]) {
    try {
      const p = i.parseError(data);
      if (p) return { name: p.name, args: [...p.args] };
    } catch {
      /* next */
    }
  }
  return { name: `unknown(${data.slice(0, 10)})`, args: [] };
}

/** The validation error of an agent op that the EntryPoint refuses (FailedOpWithRevert), or fail. */
export async function validationRefusal(w: SessionWorld, op: UserOperation) {
  try {
    await w.core.entryPoint.handleOps.staticCall([packUserOp(op)], ZeroAddress);
  } catch (e) {
    const parsed = w.core.entryPoint.interface.parseError((e as { data?: string }).data ?? "0x");
    expect(parsed?.name, "expected a validation refusal").to.equal("FailedOpWithRevert");
    return decodeRevert(w, parsed!.args.inner as string)!;
  }
  throw new Error("agent op was not refused in validation");
}

export interface Queued {
  id: string;
  tier: bigint;
  token: string;
  amount: bigint;
  limit: bigint;
  mode: string;
  calldata: string;
}

/** Send one agent op; returns its UserOperationEvent, the decoded revert (if it failed) and the queue entry. */
export async function runAgent(w: SessionWorld, sessionId: string, calls: Call | Call[], execType = 0) {
  const { events, receipt } = await sendAgent(w, [await agentOp(w, sessionId, calls, {}, w.agent, execType)]);
  const evs = parseEvents(w, receipt);
  const q = evs.find((e) => e.name === "OperationQueued");
  const s = evs.find((e) => e.name === "OperationScheduled");
  const queued: Queued | undefined = q
    ? {
        id: q.args.requestId as string,
        tier: q.args.tier as bigint,
        token: q.args.token as string,
        amount: q.args.amount as bigint,
        limit: q.args.limit as bigint,
        mode: s!.args.mode as string,
        calldata: s!.args.executionCalldata as string,
      }
    : undefined;
  return { event: events[0], revert: decodeRevert(w, events[0].revertReason), queued, evs, receipt };
}

/** An agent op that must execute at once. */
export async function agentInstant(w: SessionWorld, sessionId: string, calls: Call | Call[]) {
  const r = await runAgent(w, sessionId, calls);
  expect(r.event.success, `agent op failed: ${r.revert?.name}`).to.equal(true);
  expect(r.queued, "unexpectedly queued").to.equal(undefined);
  return r;
}

/** An agent op that must be queued in `tier`. */
export async function agentQueued(w: SessionWorld, sessionId: string, calls: Call | Call[], tier: bigint) {
  const r = await runAgent(w, sessionId, calls);
  expect(r.event.success, `agent op failed: ${r.revert?.name}`).to.equal(true);
  expect(r.queued, "not queued").to.not.equal(undefined);
  expect(r.queued!.tier).to.equal(tier);
  return r.queued!;
}

/** Everything an attack must not change, as one comparable object. */
export async function snapshot(
  w: SessionWorld,
  opts: { sessionIds?: string[]; holders?: string[]; spenders?: string[]; queue?: string[]; tokens?: string[] } = {},
) {
  const tokens = [w.tokenAddress, ...(opts.tokens ?? [])];
  const holders = [w.accountAddress, ...w.recipients, ...(opts.holders ?? [])];
  const erc20 = new Interface([
    "function balanceOf(address) view returns (uint256)",
    "function allowance(address,address) view returns (uint256)",
  ]);
  const provider = w.core.entryPoint.runner!.provider!;
  const call = async (to: string, data: string) => {
    try {
      return await provider.call({ to, data });
    } catch {
      return "reverted";
    }
  };
  const out: Record<string, unknown> = {};
  for (const t of tokens) {
    for (const h of holders) out[`balance ${t} ${h}`] = await call(t, erc20.encodeFunctionData("balanceOf", [h]));
    for (const s of opts.spenders ?? []) {
      out[`allowance ${t} ${s}`] = await call(t, erc20.encodeFunctionData("allowance", [w.accountAddress, s]));
    }
  }
  for (const h of holders) out[`native ${h}`] = await provider.getBalance(h);
  out.owner = await w.core.ownerValidator.ownerOf(w.accountAddress);
  out.rootValidator = await w.account.rootValidator();
  for (const [type, m] of [
    [MODULE_TYPE_VALIDATOR, w.sessionsAddress],
    [MODULE_TYPE_EXECUTOR, w.sessionsAddress],
    [MODULE_TYPE_EXECUTOR, await w.timelock.getAddress()],
  ] as const) {
    out[`module ${type} ${m}`] = await w.account.isModuleInstalled(type, m, "0x");
  }
  out.hook = await w.account.hook();
  out.accountConfig = (await w.sessions.accountConfig(w.accountAddress)).toString();
  for (const id of opts.sessionIds ?? []) {
    out[`session ${id}`] = (await w.sessions.getSession(id, w.accountAddress)).toString();
    for (const t of [w.tokenAddress, ZeroAddress]) {
      out[`budget ${id} ${t}`] = (await w.sessions.budgetOf(id, w.accountAddress, t)).toString();
    }
  }
  for (const q of opts.queue ?? []) out[`queue ${q}`] = await w.timelock.state(w.accountAddress, q);
  return out;
}

/** Assert that `after` equals `before` except for the listed keys. */
export function expectUnchanged(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  except: string[] = [],
) {
  for (const k of Object.keys(before)) {
    if (except.some((e) => k.startsWith(e))) continue;
    expect(after[k], `"${k}" changed`).to.deep.equal(before[k]);
  }
}
