/**
 * Value budgets (a cap in money across tokens) on the Account and Sessions pages: the budget with what is left
 * now, as the server read it, and the price source of each budgeted token in the server's words.
 */
import { esc, short } from "../html.js";

/** A value budget (`/api/account` `value.budget`, `/api/sessions` `value.budget` and `accountValue`). */
export interface ValueBudgetData {
  /** A session id, or `account`. */
  scope: string;
  unit: string;
  unitDecimals: number;
  instant: string;
  ceiling: string;
  periodCap: string;
  period: number;
  periodText: string;
  lifetimeCap: string;
  periodLeft: string;
  lifetimeLeft: string;
  spentInWindow: string;
  lifetimeSpent: string | null;
  lifetimeUnlimited: boolean;
  raw: { periodCap: string; periodLeft: string; spentInWindow: string };
}

/** A token's price source. */
export interface PriceSourceData {
  token: string;
  symbol: string;
  kind: "Unset" | "Fixed" | "Aggregator";
  tokenDecimals: number;
  words: string;
  feed?: string;
}

/** `$30` for USD, `30 EUR` for any other unit. */
export function money(value: string, unit: string): string {
  return unit === "USD" ? `$${value}` : `${value} ${unit}`;
}

const pct = (part: string, whole: string) => {
  const w = BigInt(whole);
  if (w === 0n) return 0;
  return Number((BigInt(part) * 10_000n) / w) / 100;
};

/** A value budget as a bar with its limits, or `none` in words. */
export function valueBudgetBlock(v: ValueBudgetData | null, none: string): string {
  if (!v) return `<p class="muted" data-testid="value-budget" data-set="false">${esc(none)}</p>`;
  const m = (x: string) => esc(money(x, v.unit));
  const p = pct(v.raw.spentInWindow, v.raw.periodCap);
  const level = p >= 100 ? "full" : p >= 80 ? "high" : "";
  return `
  <div class="budget value-budget" data-testid="value-budget" data-set="true" data-scope="${esc(v.scope)}" data-unit="${esc(v.unit)}">
    <div class="budget-head"><strong>${esc(v.unit)}</strong>
      <span><span data-testid="value-spent">${m(v.spentInWindow)}</span> of <span data-testid="value-period-cap">${m(v.periodCap)}</span> spent in the ${esc(v.periodText)} window · <span data-testid="value-left">${m(v.periodLeft)}</span> left</span></div>
    <div class="bar ${level}" data-testid="value-bar" data-spent-raw="${esc(v.raw.spentInWindow)}" data-cap-raw="${esc(v.raw.periodCap)}" data-left-raw="${esc(v.raw.periodLeft)}" title="${p}%">
      <div style="width:${Math.min(100, p)}%"></div></div>
    <div class="budget-foot muted" data-testid="value-limits">instant up to ${m(v.instant)}, queued up to ${m(v.ceiling)}, above: owner approval · lifetime ${
      v.lifetimeUnlimited
        ? "unlimited"
        : `${m(v.lifetimeSpent ?? "0")} of ${m(v.lifetimeCap)} (${m(v.lifetimeLeft)} left)`
    }</div>
  </div>`;
}

/** The price sources of budgeted tokens: one row per token. */
export function priceSourcesBlock(prices: PriceSourceData[]): string {
  if (!prices.length) return "";
  return `<table class="prices" data-testid="price-sources"><tr><th>Token</th><th>Price source</th></tr>${prices
    .map(
      (p) =>
        `<tr data-testid="price-source" data-token="${esc(p.token)}" data-kind="${esc(p.kind)}"><td>${esc(p.symbol)}</td><td class="${p.kind === "Unset" ? "warn-text" : ""}" data-testid="price-words">${
          p.kind === "Aggregator" && p.feed
            ? esc(p.words).replace(esc(p.feed), short(p.feed)) // the feed shortened, its full address in the title
            : esc(p.words)
        }</td></tr>`,
    )
    .join("")}</table>`;
}
