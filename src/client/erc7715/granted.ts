/**
 * {@link getGrantedExecutionPermissions}: the answer to `wallet_getGrantedExecutionPermissions`, rebuilt from the
 * chain on every call — no local record. Sessions come from `SessionGranted` logs and their live state
 * ({@link listSessions}: revoked, expired, stale …), budgets from `budgetOf` (so a later `setBudget` or
 * `renewSession` shows), and the scope (token, payees) from the grant itself: the `grantSession` call data in the
 * granting transaction, or the `ChangeProposed` data of a grant that waited the security delay. Pending grants
 * come from `ChangeProposed` logs whose change is still pending (`pendingChange`).
 *
 * Only sessions of the shapes {@link translatePermissionRequest} grants are listed (one budget; ERC-20
 * `transfer` or plain native transfers of that asset; a period cap or a lifetime cap); other Reins sessions of
 * the account have no ERC-7715 form and are left out. `justification` and `isAdjustmentAllowed` are not stored on
 * chain: the answer has no justification and `isAdjustmentAllowed: false`.
 */
import { ZeroAddress, dataSlice, getAddress, toQuantity, type Provider } from "ethers";
import type { AgentSessions } from "../../../types/ethers-contracts/index.js";
import { listSessions, type SessionInfo } from "../actions/listSessions.js";
import { ConditionOp, UINT128_MAX, type SessionConfig } from "../policy.js";
import { encodePermissionsContext } from "./context.js";
import { NO_EXPIRY } from "./translate.js";
import type { Erc7715Rule, Hex, PermissionResponse, ReinsGrantInfo } from "./types.js";

/** Options of {@link getGrantedExecutionPermissions}. */
export interface GetGrantedOptions {
  /** Also list revoked, expired, used-up and stale sessions (marked in `reins.status`; default false). */
  includeInactive?: boolean;
  /** List grants that wait the security delay (`reins.status: "pending"`; default true). */
  includePending?: boolean;
  /** First block to scan for logs (default 0). */
  fromBlock?: number;
}

const TRANSFER = "0xa9059cbb";
const NATIVE = "0x00000000";

/** Every ERC-7715-shaped permission `account` granted, read from the chain now. */
export async function getGrantedExecutionPermissions(
  sessions: AgentSessions,
  account: string,
  options: GetGrantedOptions = {},
): Promise<PermissionResponse[]> {
  const provider = sessions.runner!.provider!;
  const chainId = (await provider.getNetwork()).chainId;
  const module = getAddress(await sessions.getAddress());
  const out: PermissionResponse[] = [];
  const infos = await listSessions(
    sessions,
    account,
    options.fromBlock === undefined ? {} : { fromBlock: options.fromBlock },
  );
  for (const info of infos) {
    if (info.status !== "active" && info.status !== "not yet valid" && !options.includeInactive) continue;
    const config = await grantedConfig(sessions, provider, account, info);
    if (!config) continue;
    const live = await liveBudget(sessions, account, info.sessionId, config);
    const response = toResponse(chainId, account, module, info.agent, config, live, {
      status: info.status,
      sessions: module,
      sessionId: info.sessionId,
      validAfter: info.validAfter.toString(),
      validUntil: info.validUntil.toString(),
    });
    if (response) {
      response.context = encodePermissionsContext({
        status: "active",
        chainId,
        account,
        sessions: module,
        sessionId: info.sessionId,
      });
      out.push(response);
    }
  }
  if (options.includePending ?? true) {
    const proposed = await sessions.queryFilter(sessions.filters.ChangeProposed(account), options.fromBlock ?? 0);
    const grant = sessions.interface.getFunction("grantSession").selector;
    for (const log of proposed) {
      const data: string = log.args.data;
      if (!data.startsWith(grant)) continue;
      const readyAt = await sessions.pendingChange(account, log.args.changeHash);
      if (readyAt === 0n) continue; // applied, cancelled or voided
      const config = decodeGrant(sessions, data);
      if (!config) continue;
      const response = toResponse(chainId, account, module, config.agent as string, config, budgetOfConfig(config), {
        status: "pending",
        sessions: module,
        changeHash: log.args.changeHash,
        readyAt: readyAt.toString(),
        validAfter: BigInt(config.validAfter).toString(),
        validUntil: BigInt(config.validUntil).toString(),
      });
      if (response) {
        response.context = encodePermissionsContext({
          status: "pending",
          chainId,
          account,
          sessions: module,
          changeHash: log.args.changeHash,
        });
        out.push(response);
      }
    }
  }
  return out;
}

interface Budget {
  token: string;
  periodCap: bigint;
  lifetimeCap: bigint;
  period: bigint;
}

function budgetOfConfig(c: SessionConfig): Budget {
  const b = c.budgets[0];
  return {
    token: getAddress(b.token as string),
    periodCap: BigInt(b.periodCap),
    lifetimeCap: BigInt(b.lifetimeCap),
    period: BigInt(b.period),
  };
}

async function liveBudget(sessions: AgentSessions, account: string, id: string, c: SessionConfig): Promise<Budget> {
  const token = getAddress(c.budgets[0].token as string);
  const [b] = await sessions.budgetOf(id, account, token);
  return { token, periodCap: b.periodCap, lifetimeCap: b.lifetimeCap, period: b.period };
}

/** The 7715 form of a session config with budget `b`, or undefined when it has none. */
function toResponse(
  chainId: bigint,
  account: string,
  module: string,
  agent: string,
  c: SessionConfig,
  b: Budget,
  reins: ReinsGrantInfo,
): PermissionResponse | undefined {
  if (c.budgets.length !== 1) return undefined;
  const native = b.token === ZeroAddress;
  const payees: string[] = [];
  for (const p of c.permissions) {
    const target = getAddress(p.target as string);
    if (native) {
      if (p.selector !== NATIVE || Number(p.calldataLength) !== 0) return undefined;
      payees.push(target);
    } else {
      if (target !== b.token || p.selector !== TRANSFER) return undefined;
      for (const cond of p.conditions) {
        if (Number(cond.op) === ConditionOp.OneOf && Number(cond.word) === 0) {
          for (const w of cond.oneOf) payees.push(getAddress(dataSlice(w as string, 12)));
        }
      }
    }
  }
  const periodic = b.periodCap !== UINT128_MAX && b.lifetimeCap === UINT128_MAX;
  const allowance = b.periodCap === UINT128_MAX && b.lifetimeCap !== UINT128_MAX;
  if (!periodic && !allowance) return undefined;
  const data: Record<string, unknown> = native ? {} : { tokenAddress: b.token };
  if (periodic) {
    data.periodAmount = toQuantity(b.periodCap);
    data.periodDuration = Number(b.period);
  } else data.allowanceAmount = toQuantity(b.lifetimeCap);
  if (BigInt(reins.validAfter) !== 0n) data.startTime = Number(reins.validAfter);
  const rules: Erc7715Rule[] = [];
  if (BigInt(reins.validUntil) !== NO_EXPIRY)
    rules.push({ type: "expiry", data: { timestamp: Number(reins.validUntil) } });
  if (payees.length) rules.push({ type: "payee", data: { addresses: payees } });
  const type = `${native ? "native" : "erc20"}-token-${periodic ? "periodic" : "allowance"}`;
  return {
    chainId: toQuantity(chainId) as Hex,
    from: getAddress(account),
    to: getAddress(agent),
    permission: { type, isAdjustmentAllowed: false, data },
    rules,
    context: "0x",
    dependencies: [],
    delegationManager: module,
    reins: periodic ? { ...reins, window: "sliding" } : reins,
  };
}

/**
 * The config a session was granted with: from `ChangeProposed` when it was applied after the security delay, else
 * from the grant's call data. Matched on the grant-time agent and window of its `SessionGranted` log (a later
 * `renewSession` changes the live window, not the grant).
 */
async function grantedConfig(
  sessions: AgentSessions,
  provider: Provider,
  account: string,
  info: SessionInfo,
): Promise<SessionConfig | undefined> {
  const receipt = await provider.getTransactionReceipt(info.grantedIn);
  if (!receipt) return undefined;
  const module = getAddress(await sessions.getAddress());
  const matches = (c: SessionConfig | undefined, g: { agent: string; validAfter: bigint; validUntil: bigint }) =>
    c !== undefined &&
    getAddress(c.agent as string) === getAddress(g.agent) &&
    BigInt(c.validAfter) === g.validAfter &&
    BigInt(c.validUntil) === g.validUntil;
  let grant: { agent: string; validAfter: bigint; validUntil: bigint } | undefined;
  let ordinal = 0; // earlier grants of this transaction with the same agent and window
  const earlier: { agent: string; validAfter: bigint; validUntil: bigint }[] = [];
  for (const log of receipt.logs) {
    if (getAddress(log.address) !== module) continue;
    const parsed = sessions.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name === "SessionGranted" && getAddress(parsed.args.account) === getAddress(account)) {
      const g = { agent: parsed.args.agent, validAfter: parsed.args.validAfter, validUntil: parsed.args.validUntil };
      if (parsed.args.sessionId === info.sessionId) {
        grant = g;
        ordinal = earlier.filter(
          (e) => e.agent === g.agent && e.validAfter === g.validAfter && e.validUntil === g.validUntil,
        ).length;
      } else if (!grant) earlier.push(g);
    }
    // A grant applied after its delay: its SessionGranted is followed by ChangeApplied(account, changeHash).
    if (parsed?.name === "ChangeApplied" && grant && getAddress(parsed.args.account) === getAddress(account)) {
      const proposed = await sessions.queryFilter(sessions.filters.ChangeProposed(account, parsed.args.changeHash));
      const config = proposed.length ? decodeGrant(sessions, proposed[proposed.length - 1].args.data) : undefined;
      if (matches(config, grant)) return config;
      break;
    }
  }
  if (!grant) return undefined;
  // A direct grant: the grantSession call data sits verbatim in the transaction input (inside handleOps /
  // execute); take the `ordinal`-th one that matches the grant's agent and window.
  const tx = await provider.getTransaction(info.grantedIn);
  if (!tx) return undefined;
  const input = tx.data.slice(2).toLowerCase();
  const selector = sessions.interface.getFunction("grantSession").selector.slice(2);
  let seen = 0;
  for (let at = input.indexOf(selector); at >= 0; at = input.indexOf(selector, at + 2)) {
    if (at % 2 !== 0) continue;
    const config = decodeGrant(sessions, "0x" + input.slice(at));
    if (matches(config, grant) && seen++ === ordinal) return config;
  }
  return undefined;
}

function decodeGrant(sessions: AgentSessions, data: string): SessionConfig | undefined {
  try {
    const [c] = sessions.interface.decodeFunctionData("grantSession", data);
    return {
      agent: c.agent,
      validAfter: c.validAfter,
      validUntil: c.validUntil,
      maxUses: c.maxUses,
      maxGasCostPerOp: c.maxGasCostPerOp,
      gasBudget: c.gasBudget,
      allowTry: c.allowTry,
      allowPaymaster: c.allowPaymaster,
      queueDelay: c.queueDelay,
      approvalWindow: c.approvalWindow,
      permissions: c.permissions.map((p: SessionConfig["permissions"][number]) => ({
        target: p.target,
        selector: p.selector,
        valueCap: p.valueCap,
        calldataLength: p.calldataLength,
        conditions: p.conditions.map((k) => ({ op: k.op, word: k.word, value: k.value, oneOf: [...k.oneOf] })),
      })),
      budgets: c.budgets.map((b: SessionConfig["budgets"][number]) => ({
        token: b.token,
        instantThreshold: b.instantThreshold,
        ceiling: b.ceiling,
        periodCap: b.periodCap,
        lifetimeCap: b.lifetimeCap,
        period: b.period,
      })),
    };
  } catch {
    return undefined;
  }
}
