/**
 * Turning Reins client errors into CLI outcomes: policy refusals (exit 3) described with their rule and numbers
 * in token units, everything else on chain a failure (exit 1).
 */
import { ZeroAddress } from "ethers";
import {
  BudgetExceeded,
  GasBudgetExceeded,
  NoBudget,
  ReinsError,
  ValueExceeded,
  decodeReinsError,
} from "../client/errors.js";
import type { CliContext } from "./context.js";
import { FailureError, RefusedError, UsageError, oneLine } from "./errors.js";
import { amount } from "./format.js";

/** Rules that mean "the account's policy refuses this operation". */
export const POLICY_RULES = new Set([
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
]);

async function tokenLabel(ctx: CliContext, address: string): Promise<{ symbol: string; decimals: number }> {
  if (address === ZeroAddress) return { symbol: "ETH", decimals: 18 };
  try {
    return await ctx.token(address);
  } catch {
    return { symbol: address, decimals: 0 };
  }
}

/** A human, one-line description of a Reins error with amounts in token units. */
export async function describeError(ctx: CliContext, e: ReinsError): Promise<string> {
  if (e instanceof BudgetExceeded) {
    const t = await tokenLabel(ctx, e.token);
    return `${e.which} limit: ${amount(e.amount, t.decimals)} ${t.symbol} is over the limit of ${amount(e.limit, t.decimals)} ${t.symbol}`;
  }
  if (e instanceof NoBudget) {
    const t = await tokenLabel(ctx, e.token);
    return `no budget: the session has no budget for ${t.symbol}`;
  }
  if (e instanceof ValueExceeded) {
    return `value cap: call ${e.index} sends ${amount(e.value, 18)} ETH, above its cap of ${amount(e.cap, 18)} ETH`;
  }
  if (e instanceof GasBudgetExceeded) {
    return `gas budget: the operation may cost ${amount(e.cost, 18)} ETH of gas (per-op cap ${amount(e.perOpCap, 18)}, remaining ${amount(e.remaining, 18)})`;
  }
  return oneLine(`${e.rule}: ${e.message}`);
}

/** JSON-friendly view of a Reins error. */
export function errorReport(e: ReinsError): Record<string, unknown> {
  return { error: e.name, rule: e.rule, message: oneLine(e.message), details: e.details };
}

/**
 * Rethrow anything from an agent operation as a CLI error: policy refusals → {@link RefusedError} (exit 3), other
 * Reins errors → {@link FailureError} (exit 1). CLI errors pass through.
 */
export async function asCliError(ctx: CliContext, error: unknown, policyExit = true): Promise<Error> {
  if (error instanceof UsageError || error instanceof RefusedError || error instanceof FailureError) return error;
  const e = decodeReinsError(error);
  const text = await describeError(ctx, e);
  const included = e.included ? ` (included in ${e.included.txHash})` : "";
  if (policyExit && POLICY_RULES.has(e.rule)) return new RefusedError(`refused: ${text}${included}`, errorReport(e));
  return new FailureError(`failed: ${text}${included}`);
}
