/** Human-readable reports of ERC-7562 violations. */
import type { Violation } from "./types.js";

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * Format violations as a fixed-width table (rule, op, entity, contract, opcode, slot/target, depth, pc,
 * count, reason). Returns "no ERC-7562 violations" when the list is empty.
 */
export function formatViolations(violations: readonly Violation[]): string {
  if (violations.length === 0) return "no ERC-7562 violations";
  const rows = [["rule", "op", "entity", "contract", "opcode", "slot / target", "depth", "pc", "×", "reason"]];
  for (const v of violations) {
    rows.push([
      v.rule,
      String(v.opIndex),
      v.entity,
      v.name ? `${v.name} ${v.address}` : v.address,
      v.opcode,
      v.slot ?? v.target ?? "",
      String(v.depth),
      String(v.pc),
      String(v.count),
      v.reason,
    ]);
  }
  return table(rows);
}
