/** The spend-per-token-per-day chart: one SVG of bars per token, drawn here (no chart library). */
import { esc } from "./html.js";

/** One day of spend (`/api/activity` → spend). */
export interface SpendPoint {
  day: string;
  token: string;
  symbol: string;
  decimals: number;
  raw: string;
  text: string;
}

const COLORS = ["#2f6fde", "#d9822b", "#2a9d8f", "#9b5de5", "#e63946"];

/** The chart as SVG markup (empty state when there was no spend). */
export function spendChart(points: SpendPoint[]): string {
  if (!points.length) return `<p class="muted">No spend recorded yet.</p>`;
  const tokens = [...new Set(points.map((p) => p.token))];
  // At least a week of days ending on the last day with spend, empty days included.
  const seen = [...new Set(points.map((p) => p.day))].sort();
  const DAY = 86_400_000;
  const last = Date.parse(`${seen[seen.length - 1]}T00:00:00Z`);
  const first = Math.min(Date.parse(`${seen[0]}T00:00:00Z`), last - 6 * DAY);
  const days: string[] = [];
  for (let t = first; t <= last; t += DAY) days.push(new Date(t).toISOString().slice(0, 10));
  const width = 640;
  const rowH = 150;
  const left = 70;
  const slot = (width - left - 10) / days.length;
  const barW = Math.max(6, Math.min(48, slot * 0.6));
  let svg = "";
  tokens.forEach((token, ti) => {
    const mine = points.filter((p) => p.token === token);
    const value = (p: SpendPoint) => Number(p.raw) / 10 ** p.decimals;
    const max = Math.max(...mine.map(value)) || 1;
    const top = ti * (rowH + 30) + 20;
    const base = top + rowH - 20;
    const color = COLORS[ti % COLORS.length];
    svg += `<text x="0" y="${top - 4}" class="chart-title">${esc(mine[0].symbol)} per day</text>`;
    svg += `<line x1="${left}" y1="${base}" x2="${width - 10}" y2="${base}" class="axis"/>`;
    svg += `<text x="${left - 6}" y="${top + 10}" text-anchor="end" class="tick">${esc(max.toLocaleString("en-US"))}</text>`;
    svg += `<text x="${left - 6}" y="${base}" text-anchor="end" class="tick">0</text>`;
    days.forEach((day, di) => {
      const p = mine.find((m) => m.day === day);
      const x = left + di * slot + (slot - barW) / 2;
      svg += `<text x="${x + barW / 2}" y="${base + 14}" text-anchor="middle" class="tick">${esc(day.slice(5))}</text>`;
      if (!p) return;
      const h = Math.max(1, ((rowH - 40) * value(p)) / max);
      svg += `<rect x="${x}" y="${base - h}" width="${barW}" height="${h}" fill="${color}" data-testid="spend-bar" data-day="${esc(day)}" data-token="${esc(token)}" data-raw="${esc(p.raw)}"><title>${esc(day)}: ${esc(p.text)} ${esc(p.symbol)}</title></rect>`;
      svg += `<text x="${x + barW / 2}" y="${base - h - 4}" text-anchor="middle" class="tick">${esc(p.text)}</text>`;
    });
  });
  const height = tokens.length * (rowH + 30) + 10;
  return `<svg class="chart" data-testid="spend-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="spend per token per day">${svg}</svg>`;
}
