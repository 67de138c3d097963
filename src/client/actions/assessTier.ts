/**
 * The tier an agent operation falls in, computed off-chain exactly as `AgentSessions._assess` / `_tierOf` do:
 * calldata-visible spend per token (native value; ERC-20 `transfer`, `transferFrom(account, …)`, `approve`,
 * `increaseAllowance`, as in `CallPolicy.erc20Outflow`), then per token the remaining period, lifetime and fleet
 * budgets, the ceiling and the instant threshold.
 */
import { ZeroAddress, dataLength, dataSlice, getAddress } from "ethers";
import type { Call } from "../../account/encoding.js";
import type { AgentSessions } from "../../../types/ethers-contracts/index.js";
import { NoBudget } from "../errors.js";

/** Tier names, in contract order. */
export const TIERS = ["instant", "delayed", "approval"] as const;
/** A tier name. */
export type TierName = (typeof TIERS)[number];

/** The worst tier of an operation, and the token, amount and limit that decided it. */
export interface TierAssessment {
  tier: TierName;
  /** Token that decided the tier (zero address = native); zero address with amount 0 when nothing is spent. */
  token: string;
  amount: bigint;
  limit: bigint;
  /** Calldata-visible spend of every token. */
  spend: Map<string, bigint>;
}

const TRANSFER = "0xa9059cbb";
const TRANSFER_FROM = "0x23b872dd";
const APPROVE = "0x095ea7b3";
const INCREASE_ALLOWANCE = "0x39509351";

const word = (data: string, i: number) => BigInt(dataSlice(data, 4 + 32 * i, 36 + 32 * i));

/** `CallPolicy.erc20Outflow`: the ERC-20 amount a call made by `account` can move out (0 if none). */
export function erc20Outflow(account: string, data: string | undefined): bigint {
  if (!data || dataLength(data) < 68) return 0n;
  const selector = dataSlice(data, 0, 4).toLowerCase();
  if (selector === TRANSFER || selector === APPROVE || selector === INCREASE_ALLOWANCE) return word(data, 1);
  if (selector === TRANSFER_FROM && dataLength(data) >= 100) {
    const from = word(data, 0);
    if (from === BigInt(account)) return word(data, 2);
  }
  return 0n;
}

/** Calldata-visible spend per token of `calls` made by `account` (in call order of first appearance). */
export function calldataSpend(account: string, calls: readonly Call[]): Map<string, bigint> {
  const spend = new Map<string, bigint>();
  const add = (token: string, amount: bigint) => spend.set(token, (spend.get(token) ?? 0n) + amount);
  for (const call of calls) {
    if (call.value && call.value !== 0n) add(ZeroAddress, call.value);
    const amount = erc20Outflow(account, call.data);
    if (amount !== 0n) add(getAddress(call.target), amount);
  }
  return spend;
}

/** The session's budgeted tokens in the order the contract stores them (order of first `BudgetSet`). */
export async function budgetTokens(sessions: AgentSessions, account: string, sessionId: string): Promise<string[]> {
  const logs = await sessions.queryFilter(sessions.filters.BudgetSet(account, sessionId), 0);
  const out: string[] = [];
  for (const log of logs) {
    const token = getAddress(log.args.token);
    if (!out.includes(token)) out.push(token);
  }
  return out;
}

/** `_tierOf` for one token and amount. */
export async function tierOf(
  sessions: AgentSessions,
  account: string,
  sessionId: string,
  token: string,
  amount: bigint,
): Promise<{ tier: TierName; limit: bigint }> {
  const [budget, periodLeft, lifetimeLeft] = await sessions.budgetOf(sessionId, account, token);
  if (amount > periodLeft) return { tier: "approval", limit: periodLeft };
  if (amount > lifetimeLeft) return { tier: "approval", limit: lifetimeLeft };
  const [fleetSet, fleetPeriod, fleetLifetime] = await sessions.fleetRemaining(account, token);
  if (fleetSet) {
    if (amount > fleetPeriod) return { tier: "approval", limit: fleetPeriod };
    if (amount > fleetLifetime) return { tier: "approval", limit: fleetLifetime };
  }
  if (amount > budget.ceiling) return { tier: "approval", limit: budget.ceiling };
  if (amount > budget.instantThreshold) return { tier: "delayed", limit: budget.instantThreshold };
  return { tier: "instant", limit: budget.instantThreshold };
}

/**
 * `_assess`: the worst tier over every token the calls spend. Throws {@link NoBudget} for a spent token without a
 * budget (the contract's default deny, raised in the execution phase).
 */
export async function assessTier(
  sessions: AgentSessions,
  account: string,
  sessionId: string,
  calls: readonly Call[],
): Promise<TierAssessment> {
  const spend = calldataSpend(account, calls);
  const tokens = await budgetTokens(sessions, account, sessionId);
  for (const token of spend.keys()) if (!tokens.includes(token)) throw new NoBudget(token);
  let result = { tier: 0, worst: ZeroAddress, amount: 0n, limit: 0n };
  for (const token of tokens) {
    const amount = spend.get(token) ?? 0n;
    if (amount === 0n) continue;
    const { tier, limit } = await tierOf(sessions, account, sessionId, token, amount);
    const t = TIERS.indexOf(tier);
    if (t > result.tier || result.limit === 0n) result = { tier: t, worst: token, amount, limit };
  }
  return { tier: TIERS[result.tier], token: result.worst, amount: result.amount, limit: result.limit, spend };
}
