/** The Sessions page: validity, uses, gas, budget bars, scope in words, revoke / renew. */
import type { AmountView } from "../api.js";
import { countdown, esc, short, when } from "../html.js";
import { money, priceSourcesBlock, valueBudgetBlock, type PriceSourceData, type ValueBudgetData } from "./value.js";

/** One budget of a session. */
export interface BudgetData {
  spentInWindow: AmountView;
  periodCap: AmountView;
  periodLeft: AmountView;
  lifetimeSpent: AmountView;
  lifetimeCap: AmountView;
  instant: AmountView;
  ceiling: AmountView;
  period: string;
  /** The next time charged spend leaves the sliding window, and how much frees up (null: nothing counts). */
  refill: { at: number; amount: AmountView } | null;
}

/** One session (`/api/sessions`). */
export interface SessionData {
  sessionId: string;
  agent: string;
  status: string;
  validAfter: number;
  validUntil: number;
  secondsLeft: number;
  uses: number;
  maxUses: number;
  gasSpent: AmountView;
  gasBudget: AmountView;
  gasLeft: AmountView;
  queueDelay: string;
  approvalWindow: string;
  scope: string[];
  budgets: BudgetData[];
  /** The session's value budget and the price source of each of its budgeted tokens. */
  value: { budget: ValueBudgetData | null; prices: PriceSourceData[] };
}

const pct = (part: string, whole: string) => {
  const w = BigInt(whole);
  if (w === 0n) return 0;
  return Number((BigInt(part) * 10_000n) / w) / 100;
};

function bar(b: BudgetData): string {
  const p = pct(b.spentInWindow.raw, b.periodCap.raw);
  const level = p >= 100 ? "full" : p >= 80 ? "high" : "";
  return `
  <div class="budget" data-testid="budget" data-token="${esc(b.periodCap.token)}">
    <div class="budget-head"><strong>${esc(b.periodCap.symbol)}</strong>
      <span><span data-testid="budget-spent">${esc(b.spentInWindow.text)}</span> of ${esc(b.periodCap.text)} spent in the ${esc(b.period)} window · ${esc(b.periodLeft.text)} left</span></div>
    <div class="bar ${level}" data-testid="budget-bar" data-spent-raw="${esc(b.spentInWindow.raw)}" data-cap-raw="${esc(b.periodCap.raw)}" data-left-raw="${esc(b.periodLeft.raw)}" title="${p}%">
      <div style="width:${Math.min(100, p)}%"></div></div>
    <div class="budget-foot muted">lifetime ${esc(b.lifetimeSpent.text)} of ${esc(b.lifetimeCap.text)} · instant up to ${esc(b.instant.text)}, queued up to ${esc(b.ceiling.text)}, above: owner approval · ${
      b.refill
        ? `<span data-testid="refill" data-at="${b.refill.at}">${esc(b.refill.amount.text)} ${esc(b.refill.amount.symbol)} frees up ${esc(when(b.refill.at))} (${countdown(b.refill.at)})</span>`
        : "nothing spent in the window"
    }</div>
  </div>`;
}

/** Render the Sessions page. */
export function sessionsPage(d: { sessions: SessionData[]; accountValue: ValueBudgetData | null }): string {
  const a = d.accountValue;
  const accountNote = a
    ? `<p class="muted" data-testid="account-value-note">also counts against the account's value budget: ${esc(money(a.periodLeft, a.unit))} of ${esc(money(a.periodCap, a.unit))} left in its ${esc(a.periodText)} window (Account page)</p>`
    : "";
  if (!d.sessions.length) return `<h1>Sessions</h1><p class="muted">No agent sessions granted yet.</p>`;
  return `<h1>Sessions</h1>${d.sessions
    .map(
      (s) => `
  <section class="card session" data-testid="session" data-session="${esc(s.sessionId)}">
    <div class="session-head">
      <div><span class="mono" title="${esc(s.sessionId)}">${esc(s.sessionId.slice(0, 10))}…</span> · agent ${short(s.agent)}
        <span class="badge ${s.status === "active" ? "ok" : "danger"}" data-testid="session-status">${esc(s.status)}</span></div>
      <div class="actions">
        <label>renew for <input type="number" min="1" value="30" class="renew-days" data-session="${esc(s.sessionId)}" /> days</label>
        <button data-act="renew" data-session="${esc(s.sessionId)}" ${s.status === "revoked" || s.status === "stale" ? "disabled" : ""}>Renew</button>
        <button class="danger" data-act="revoke" data-session="${esc(s.sessionId)}" ${s.status === "revoked" ? "disabled" : ""}>Revoke</button>
      </div>
    </div>
    <div class="facts">
      <div><span class="muted">valid until</span> ${esc(when(s.validUntil))} (${countdown(s.validUntil, "expired")} left)</div>
      <div><span class="muted">uses</span> <span data-testid="uses">${s.uses}</span> / ${s.maxUses} (${s.maxUses - s.uses} left)</div>
      <div><span class="muted">gas</span> ${esc(s.gasLeft.text)} ETH left of ${esc(s.gasBudget.text)}</div>
      <div><span class="muted">delays</span> queue ${esc(s.queueDelay)}, approval window ${esc(s.approvalWindow)}</div>
    </div>
    <h3>Scope</h3>
    <ul class="scope" data-testid="scope">${s.scope.length ? s.scope.map((w) => `<li>${esc(w)}</li>`).join("") : `<li class="muted">(grant not readable)</li>`}</ul>
    <h3>Budgets</h3>
    ${s.budgets.map(bar).join("") || `<p class="muted">no budgets: the session may not move value</p>`}
    <h3>Value budget</h3>
    <div data-testid="session-value">
      ${valueBudgetBlock(s.value.budget, "none: the per-token budgets only")}
      ${accountNote}
      ${s.value.budget || a ? priceSourcesBlock(s.value.prices) : ""}
    </div>
  </section>`,
    )
    .join("")}`;
}
