/**
 * `reins value set|status`: budgets in money (issue 19). A value budget caps a session (or the whole account) in
 * one unit such as USD across every token it pays in; each token needs a price source (`--price`).
 */
import { Contract, ZeroAddress } from "ethers";
import type { ChangeOutcome, ReinsOwner } from "../../client/owner.js";
import { budgetTokens } from "../../client/actions/assessTier.js";
import { priceSourceViews, valueBudgetView } from "../../client/actions/valueStatus.js";
import { ONE_TO_ONE, fixedRate, type PriceSource } from "../../client/valueBudget.js";
import { parseAmount } from "../../client/units.js";
import { AgentSessions__factory } from "../../../types/ethers-contracts/index.js";
import { list, str, type Invocation } from "../args.js";
import { CliContext, parseId } from "../context.js";
import { UsageError } from "../errors.js";
import { emit, keyValues, table } from "../format.js";
import { asCliError } from "../report.js";
import { parsePrice, parseValueBudget, valueBudgetFromArg, type PriceArg } from "../valueSpec.js";
import { changeJson, changeText } from "./sessions.js";

/** The `--price` sources of an invocation, resolved: token address and decimals, feed bounds in feed decimals. */
async function resolvePrices(ctx: CliContext, raws: string[]) {
  const out: { token: string; tokenDecimals: number; source: PriceSource; symbol: string }[] = [];
  for (const p of raws.map((r) => parsePrice(r))) {
    const token = await ctx.token(p.token);
    out.push({
      token: token.address,
      tokenDecimals: token.decimals,
      source: await sourceOf(ctx, p),
      symbol: token.symbol,
    });
  }
  return out;
}

async function sourceOf(ctx: CliContext, p: PriceArg): Promise<PriceSource> {
  if (p.kind === "fixed") return p.rate === "1" ? ONE_TO_ONE : fixedRate(p.rate);
  const feed = new Contract(p.feed, ["function decimals() view returns (uint8)"], await ctx.provider());
  let decimals: number;
  try {
    decimals = Number(await feed.decimals());
  } catch {
    throw new UsageError(`--price ${p.token}: ${p.feed} does not answer decimals() (not a price feed?)`);
  }
  const bound = (v: string, what: string) => {
    try {
      return parseAmount(v, decimals, `--price ${p.token} ${what}`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const minPrice = bound(p.min, "min");
  const maxPrice = bound(p.max, "max");
  if (minPrice <= 0n || maxPrice < minPrice) {
    throw new UsageError(`--price ${p.token}: need 0 < min <= max, got min=${p.min} max=${p.max}`);
  }
  return { kind: "aggregator", feed: p.feed, maxStaleness: p.maxStaleness, minPrice, maxPrice };
}

/**
 * Set the `--price` sources and (when `spec` is given) the value budget of `scope` in one owner operation.
 * Used by `reins value set` and `reins session grant --value-budget`.
 */
export async function configureValue(
  ctx: CliContext,
  owner: ReinsOwner,
  scope: string | "account",
  spec: string | undefined,
  priceArgs: string[],
): Promise<{ outcome: ChangeOutcome; summary: string }> {
  const arg = spec === undefined ? undefined : parseValueBudget(spec);
  const unitDecimals = Number(str(ctx.inv, "unit-decimals") ?? "8");
  if (!Number.isInteger(unitDecimals) || unitDecimals < 0 || unitDecimals > 24) {
    throw new UsageError(`--unit-decimals: expected an integer 0..24, got ${str(ctx.inv, "unit-decimals")}`);
  }
  const config = arg && valueBudgetFromArg(arg, unitDecimals);
  const prices = await resolvePrices(ctx, priceArgs);
  const outcome = await owner.configureValue({
    prices,
    ...(config ? { budget: { sessionId: scope, config } } : {}),
  });
  const parts = [...(arg ? [`${arg.unit} value budget of ${scope}`] : []), ...prices.map((p) => `${p.symbol} price`)];
  return { outcome, summary: parts.join(", ") };
}

/** `reins value set <account> <sessionId|account> [SPEC] [--price …]`. */
export async function valueSet(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const scope = inv.args.scope === "account" ? "account" : parseId(inv.args.scope, "session id");
    const prices = list(inv, "price");
    if (inv.args.budget === undefined && !prices.length) {
      throw new UsageError("value set: give a value budget (USD:instant=…,period=…/24h) and/or --price TOKEN=…");
    }
    const account = await ctx.account(inv.args.account);
    const owner = await ctx.owner(account);
    try {
      const { outcome, summary } = await configureValue(ctx, owner, scope, inv.args.budget, prices);
      emit(inv.json, { account, scope, ...changeJson(outcome) }, () => changeText(summary, outcome));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw await asCliError(ctx, e, false);
    }
    return 0;
  } finally {
    ctx.close();
  }
}

/** `reins value status <account> [sessionId]`: the account's and the session's value budget, and prices. */
export async function valueStatus(inv: Invocation): Promise<number> {
  const ctx = new CliContext(inv);
  try {
    const account = await ctx.account(inv.args.account);
    const sessionId = inv.args.sessionId === undefined ? undefined : parseId(inv.args.sessionId, "session id");
    const sessions = AgentSessions__factory.connect((await ctx.deployment()).reins.sessions, await ctx.provider());
    const accountBudget = await valueBudgetView(sessions, account, "account");
    const sessionBudget = sessionId ? await valueBudgetView(sessions, account, sessionId) : undefined;
    const tokens = sessionId ? await budgetTokens(sessions, account, sessionId) : [];
    const prices = await priceSourceViews(sessions, account, tokens.length ? tokens : [ZeroAddress]);
    const shown = tokens.length ? prices : prices.filter((p) => p.kind !== "Unset");
    emit(inv.json, { account, accountBudget, sessionBudget, prices: shown }, () => {
      const row = (b: NonNullable<typeof accountBudget>) =>
        `${b.unit} instant ${b.instant}, ceiling ${b.ceiling}, ${b.periodCap}/${b.period}s (left ${b.periodLeft}), lifetime ${b.lifetimeCap} (left ${b.lifetimeLeft})`;
      const lines = [
        keyValues([
          ["account value budget", accountBudget ? row(accountBudget) : "none"],
          ...(sessionId
            ? ([["session value budget", sessionBudget ? row(sessionBudget) : "none"]] as [string, string][])
            : []),
        ]),
      ];
      if (shown.length) {
        lines.push(
          table(
            ["token", "price source", "decimals"],
            shown.map((p) => [
              p.token,
              p.kind === "Fixed"
                ? `fixed ${p.rate}`
                : p.kind === "Aggregator"
                  ? `feed ${p.feed} (stale ${p.maxStaleness}s)`
                  : "none: needs owner approval",
              String(p.tokenDecimals),
            ]),
          ),
        );
      }
      return lines.join("\n");
    });
    return 0;
  } finally {
    ctx.close();
  }
}
