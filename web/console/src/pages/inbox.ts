/** The Inbox page: pending approval / delayed requests (decoded) and pending security-delayed changes. */
import type { AmountView } from "../api.js";
import { countdown, esc, when } from "../html.js";

/** One pending request (`/api/inbox`). */
export interface RequestData {
  id: string;
  tier: "approval" | "delayed";
  state: string;
  approved: boolean;
  sessionId: string;
  payments: { amount: AmountView; recipient: string }[];
  calls: number;
  hit: AmountView | null;
  limit: AmountView | null;
  limitWords: string;
  /** Why a value budget queued it (its `ValueAssessed`), or null. */
  value: { tier: string; failure: string | null; unpricedToken: { symbol: string } | null; words: string[] } | null;
  intentHash: string;
  readyAt: number;
  expiresAt: number;
}

/** One pending change. */
export interface ChangeData {
  changeHash: string;
  readyAt: number;
  secondsToReady: number;
  what: string;
}

/** `/api/inbox`. */
export interface InboxData {
  now: number;
  paused: boolean;
  requests: RequestData[];
  changes: ChangeData[];
}

const ZERO = "0x" + "0".repeat(64);

/** Whether a value budget queued the request (the reason itself is in `limitWords`), or what it said alone. */
function valueLine(r: RequestData): string {
  const v = r.value;
  if (!v) return "";
  const attrs = `data-testid="req-value" data-tier="${esc(v.tier)}" data-failure="${esc(v.failure ?? "")}"`;
  return v.tier === r.tier
    ? `<div class="req-value" ${attrs}>queued by the value budget</div>`
    : `<div class="muted" ${attrs}>the value budget alone: ${esc(v.words.join("; "))}</div>`;
}

function request(r: RequestData): string {
  const pay = r.payments
    .map(
      (p) =>
        `<div class="pay"><strong data-testid="req-amount">${esc(p.amount.text)}</strong> <span data-testid="req-token">${esc(p.amount.symbol)}</span> to <span class="mono" data-testid="req-recipient">${esc(p.recipient)}</span></div>`,
    )
    .join("");
  const approval = r.tier === "approval";
  return `<section class="card request" data-testid="request" data-id="${esc(r.id.toLowerCase())}" data-tier="${esc(r.tier)}">
    <div class="request-head"><span class="badge ${approval ? "warn" : ""}">${approval ? "needs your approval" : "delayed"}</span>
      <span class="mono" title="${esc(r.id)}">${esc(r.id.slice(0, 10))}…</span> from session <span class="mono" title="${esc(r.sessionId)}">${esc(r.sessionId.slice(0, 10))}…</span></div>
    ${pay || `<div class="pay">${r.calls} call(s) (not a plain payment)</div>`}
    <div data-testid="req-limit">${esc(r.limitWords)}</div>
    ${valueLine(r)}
    <div class="muted">intent: ${r.intentHash === ZERO ? "none given" : `<span class="mono">${esc(r.intentHash)}</span>`}</div>
    <div class="facts">
      <div>${
        approval
          ? "runs at once when you approve; never without your approval"
          : `runs by itself from ${esc(when(r.readyAt))} (${countdown(r.readyAt, "ready now")}) unless cancelled`
      }</div>
      <div>expires ${esc(when(r.expiresAt))} (${countdown(r.expiresAt, "expired")})</div>
    </div>
    <div class="actions">
      ${approval ? `<button class="primary" data-act="approve" data-id="${esc(r.id)}">Approve and run</button>` : ""}
      <button class="danger" data-act="cancel" data-id="${esc(r.id)}">Cancel</button>
    </div>
  </section>`;
}

function change(c: ChangeData): string {
  return `<section class="card change" data-testid="change" data-hash="${esc(c.changeHash)}">
    <div>${esc(c.what)}</div>
    <div class="muted">applicable from ${esc(when(c.readyAt))} (${countdown(c.readyAt, "ready")})</div>
    <div class="actions">
      <button data-act="applyChange" data-hash="${esc(c.changeHash)}">Apply</button>
      <button class="danger" data-act="cancelChange" data-hash="${esc(c.changeHash)}">Cancel</button>
    </div>
  </section>`;
}

/** Render the Inbox page. */
export function inboxPage(d: InboxData): string {
  return `<h1>Inbox</h1>
  <h2>Requests from agents</h2>
  ${d.requests.map(request).join("") || `<p class="muted" data-testid="no-requests">No pending requests.</p>`}
  <h2>Security-delayed changes</h2>
  ${d.changes.map(change).join("") || `<p class="muted">No pending changes.</p>`}`;
}
