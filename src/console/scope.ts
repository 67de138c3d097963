/**
 * A session's scope in words ("transfer USDC to 0xA…, 0xB… up to 50"): the permissions of its grant, read from
 * the `handleOps` transaction that granted it (an owner operation calling `grantSession`, or `applyChange` of a
 * delayed grant). The contract stores permissions by hash only, so the grant's call data is the readable source.
 */
import { ZeroAddress, dataSlice, getAddress, type Provider } from "ethers";
import {
  ReinsAccount__factory,
  AgentSessions__factory,
  IEntryPoint__factory,
} from "../../types/ethers-contracts/index.js";
import { decodeExecution } from "../cli/commands/ops.js";
import { amount } from "../cli/format.js";
import type { TokenBook } from "./tokens.js";

const sessionsIface = AgentSessions__factory.createInterface();
const accountIface = ReinsAccount__factory.createInterface();
const entryPointIface = IEntryPoint__factory.createInterface();
const EXECUTE_USER_OP = accountIface.getFunction("executeUserOp")!.selector;
const TRANSFER = "0xa9059cbb";
const APPROVE = "0x095ea7b3";

/** A permission as the grant carries it (typechain result shape). */
interface GrantedPermission {
  target: string;
  selector: string;
  valueCap: bigint;
  conditions: { op: bigint; word: bigint; value: string; oneOf: string[] }[];
}

/** A granted session config (only the fields the words need). */
interface GrantedConfig {
  agent: string;
  permissions: GrantedPermission[];
}

const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;
const addressWord = (w: string) => getAddress(dataSlice(w, 12));

function grantsIn(data: string): GrantedConfig[] {
  try {
    const parsed = sessionsIface.parseTransaction({ data });
    if (parsed?.name === "grantSession") return [parsed.args[0] as GrantedConfig];
    if (parsed?.name === "applyChange") return grantsIn(parsed.args[1] as string);
  } catch {
    /* not a sessions call */
  }
  return [];
}

/** The session configs granted by the owner operations of `account` in transaction `txHash`. */
export async function grantedConfigs(
  provider: Provider,
  sessionsAddress: string,
  account: string,
  txHash: string,
): Promise<GrantedConfig[]> {
  const tx = await provider.getTransaction(txHash);
  if (!tx) return [];
  let ops: { sender: string; callData: string }[] = [];
  try {
    const parsed = entryPointIface.parseTransaction({ data: tx.data });
    if (parsed?.name === "handleOps") ops = parsed.args[0] as { sender: string; callData: string }[];
  } catch {
    return [];
  }
  const out: GrantedConfig[] = [];
  for (const op of ops) {
    if (getAddress(op.sender) !== getAddress(account)) continue;
    let inner = op.callData;
    if (inner.startsWith(EXECUTE_USER_OP)) inner = "0x" + inner.slice(10);
    try {
      const [mode, payload] = accountIface.decodeFunctionData("execute", inner);
      for (const c of decodeExecution(mode as string, payload as string)) {
        if (getAddress(c.target) === getAddress(sessionsAddress) && c.data) out.push(...grantsIn(c.data));
      }
    } catch {
      /* not an execute call */
    }
  }
  return out;
}

/** One permission in words. */
export async function permissionWords(p: GrantedPermission, tokens: TokenBook): Promise<string> {
  const selector = p.selector.toLowerCase();
  if (selector === "0x00000000") {
    return `send ETH to ${short(getAddress(p.target))} up to ${amount(p.valueCap, 18)} per payment`;
  }
  if (selector === TRANSFER || selector === APPROVE) {
    const t = await tokens.meta(p.target);
    let to = "anyone";
    let max = "";
    for (const c of p.conditions) {
      const op = Number(c.op);
      if (Number(c.word) === 0 && op === 1) to = short(addressWord(c.value));
      if (Number(c.word) === 0 && op === 4) to = c.oneOf.map((v) => short(addressWord(v))).join(", ");
      if (Number(c.word) === 1 && op === 2) max = ` up to ${amount(BigInt(c.value), t.decimals)}`;
    }
    return `${selector === TRANSFER ? "transfer" : "approve"} ${t.symbol} to ${to}${max}`;
  }
  const target = getAddress(p.target) === ZeroAddress ? "any contract" : short(getAddress(p.target));
  return `call ${selector} on ${target}${p.conditions.length ? ` (${p.conditions.length} conditions)` : ""}`;
}

/** The scope of the session granted in `txHash` (matched by agent), one line per permission. */
export async function scopeWords(
  provider: Provider,
  sessionsAddress: string,
  account: string,
  txHash: string,
  agent: string,
  tokens: TokenBook,
): Promise<string[]> {
  const configs = await grantedConfigs(provider, sessionsAddress, account, txHash);
  const config = configs.find((c) => getAddress(c.agent) === getAddress(agent)) ?? configs[0];
  if (!config) return [];
  const out: string[] = [];
  for (const p of config.permissions) out.push(await permissionWords(p, tokens));
  return out;
}
