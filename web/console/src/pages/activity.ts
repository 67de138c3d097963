/** The Activity page: the timeline of agent operations and owner responses, and the spend chart. */
import type { AmountView } from "../api.js";
import { spendChart, type SpendPoint } from "../chart.js";
import { esc, short, when } from "../html.js";

/** One timeline entry (`/api/activity`). */
export interface TimelineEntry {
  kind: string;
  timestamp: number;
  blockNumber: number;
  txHash: string;
  sessionId: string | null;
  requestId: string | null;
  intentHash: string | null;
  tier: string | null;
  amount: AmountView | null;
  limit: AmountView | null;
  by: string | null;
  /** The breaker rule that tripped, and the count it saw for the counting rules. */
  rule: string | null;
  count: { value: string; limit: string } | null;
  /** What an executed operation spent. */
  spent: AmountView[];
}

const LABELS: Record<string, string> = {
  executed: "executed",
  queued: "queued",
  approved: "approved by the owner",
  "queue-executed": "queued request ran",
  cancelled: "cancelled",
  "breaker-tripped": "circuit breaker tripped",
  paused: "agents paused",
  unpaused: "agents unpaused",
  granted: "session granted",
  revoked: "session revoked",
};

function describe(e: TimelineEntry): string {
  const parts: string[] = [];
  if (e.kind === "executed") {
    parts.push(e.spent.map((a) => `${esc(a.text)} ${esc(a.symbol)}`).join(", ") || "no spend");
    if (e.tier) parts.push(`${esc(e.tier)} tier`);
  }
  if (e.kind === "queued" && e.amount) {
    parts.push(
      `${esc(e.amount.text)} ${esc(e.amount.symbol)}, ${esc(e.tier)} tier${e.limit ? ` (limit ${esc(e.limit.text)})` : ""}`,
    );
  }
  if ((e.kind === "approved" || e.kind === "queue-executed" || e.kind === "cancelled") && e.amount) {
    parts.push(`${esc(e.amount.text)} ${esc(e.amount.symbol)}`);
  }
  if (e.kind === "breaker-tripped") {
    if (e.count) parts.push(`${esc(e.rule)} rule: ${esc(e.count.value)} in its window, above ${esc(e.count.limit)}`);
    else if (e.amount)
      parts.push(`${esc(e.rule)} rule: ${esc(e.amount.text)} ${esc(e.amount.symbol)}, above ${esc(e.limit?.text)}`);
  }
  if (e.sessionId) parts.push(`session ${esc(e.sessionId.slice(0, 10))}…`);
  if (e.requestId) parts.push(`request ${esc(e.requestId.slice(0, 10))}…`);
  if (e.by) parts.push(`${e.kind === "granted" ? "agent" : "by"} ${short(e.by)}`);
  if (e.intentHash)
    parts.push(`intent <span class="mono" title="${esc(e.intentHash)}">${esc(e.intentHash.slice(0, 10))}…</span>`);
  return parts.join(" · ");
}

/** Render the Activity page. */
export function activityPage(d: { timeline: TimelineEntry[]; spend: SpendPoint[] }): string {
  return `<h1>Activity</h1>
  <section class="card"><h2>Spend per token per day</h2>${spendChart(d.spend)}</section>
  <section class="card"><h2>Timeline</h2>
    ${
      d.timeline.length
        ? `<ol class="timeline" data-testid="timeline">${d.timeline
            .map(
              (e) => `<li class="ev ev-${esc(e.kind)}" data-testid="event" data-kind="${esc(e.kind)}">
            <span class="ev-time">${esc(when(e.timestamp))}</span>
            <span class="ev-kind">${esc(LABELS[e.kind] ?? e.kind)}</span>
            <span class="ev-what">${describe(e)}</span>
            <span class="ev-tx">block ${e.blockNumber}</span></li>`,
            )
            .join("")}</ol>`
        : `<p class="muted">Nothing happened yet.</p>`
    }
  </section>`;
}
