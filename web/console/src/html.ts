/** Small helpers to write the pages as HTML strings safely. */

/** Escape text for HTML. */
export function esc(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** `0x1234…abcd`, with the full value in the title. */
export function short(value: string): string {
  return `<span class="mono" title="${esc(value)}">${esc(value.slice(0, 6))}…${esc(value.slice(-4))}</span>`;
}

/** Seconds → "2d 3h", "5m 10s", "now". */
export function span(seconds: number): string {
  if (seconds <= 0) return "now";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Unix seconds → ISO time, UTC. */
export function when(seconds: number): string {
  if (!seconds) return "-";
  if (seconds >= 2 ** 47) return "never";
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z").replace("T", " ");
}

/** A countdown element the page ticks (`to` in chain seconds). */
export function countdown(to: number, done = "now"): string {
  return `<span class="countdown" data-to="${to}" data-done="${esc(done)}"></span>`;
}
