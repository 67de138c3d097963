/**
 * Reads of the value budgets (issue 19) for the CLI, the MCP server and the console: a session's and the account's
 * value budget with what is left now, and the price sources of the tokens a session may spend. Everything comes
 * from the module's views (`valueBudgetOf`, `priceSourceOf`, `valueUnitOf`); nothing is computed here.
 */
import { ZeroHash, decodeBytes32String, getAddress, zeroPadBytes } from "ethers";
import type { AgentSessions } from "../../../types/ethers-contracts/index.js";
import { PRICE_SOURCE_KINDS, formatUnitValue } from "../valueBudget.js";

/** A value budget in whole units of its unit (`"20"`, `"0.5"`), or `undefined` when none is set. */
export interface ValueBudgetView {
  /** The session id, or `"account"` for the account's budget over all sessions. */
  scope: string;
  unit: string;
  unitDecimals: number;
  instant: string;
  ceiling: string;
  periodCap: string;
  /** Window length in seconds. */
  period: number;
  lifetimeCap: string;
  periodLeft: string;
  lifetimeLeft: string;
}

/** A token's price source as the module holds it. */
export interface PriceSourceView {
  token: string;
  kind: (typeof PRICE_SOURCE_KINDS)[number];
  tokenDecimals: number;
  /** Fixed rate in whole units per whole token (fixed sources). */
  rate?: string;
  /** Feed address, maximum staleness (seconds) and bounds in the feed's decimals (aggregator sources). */
  feed?: string;
  maxStaleness?: number;
  minPrice?: bigint;
  maxPrice?: bigint;
}

/** The unit of a `bytes8` unit field (`0x5553440000000000` → `"USD"`). */
export function unitName(unit: string): string {
  return decodeBytes32String(zeroPadBytes(unit, 32));
}

/** The value budget of `sessionId` (or `"account"`) of `account`, or `undefined` when none is set. */
export async function valueBudgetView(
  sessions: AgentSessions,
  account: string,
  sessionId: string | "account",
): Promise<ValueBudgetView | undefined> {
  const id = sessionId === "account" ? ZeroHash : sessionId;
  const s = await sessions.valueBudgetOf(account, id);
  if (s.config.period === 0n) return undefined;
  const d = Number(s.config.unitDecimals);
  const f = (v: bigint) => formatUnitValue(v, d);
  return {
    scope: sessionId,
    unit: unitName(s.config.unit),
    unitDecimals: d,
    instant: f(s.config.instantThreshold),
    ceiling: f(s.config.ceiling),
    periodCap: f(s.config.periodCap),
    period: Number(s.config.period),
    lifetimeCap: f(s.config.lifetimeCap),
    periodLeft: f(s.periodLeft),
    lifetimeLeft: f(s.lifetimeLeft),
  };
}

/** The price sources of `tokens` for `account` (tokens without one are listed with kind `Unset`). */
export async function priceSourceViews(
  sessions: AgentSessions,
  account: string,
  tokens: string[],
): Promise<PriceSourceView[]> {
  return Promise.all(
    tokens.map(async (token) => {
      const e = await sessions.priceSourceOf(account, token);
      const kind = PRICE_SOURCE_KINDS[Number(e.source.kind)] ?? "Unset";
      const view: PriceSourceView = { token: getAddress(token), kind, tokenDecimals: Number(e.tokenDecimals) };
      if (kind === "Fixed") view.rate = formatUnitValue(e.source.rate, Number(e.source.rateDecimals));
      if (kind === "Aggregator") {
        Object.assign(view, {
          feed: getAddress(e.source.feed),
          maxStaleness: Number(e.source.maxStaleness),
          minPrice: e.source.minPrice,
          maxPrice: e.source.maxPrice,
        });
      }
      return view;
    }),
  );
}
