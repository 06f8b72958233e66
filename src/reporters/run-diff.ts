import { Chalk } from "chalk";
import type { CellStatus, RunDiff } from "../stats/run-diff.js";
import { oneLine, percent, sanitizeForTerminal, showValue } from "./text.js";

/** Options of the terminal comparison. */
export interface RunDiffReportOptions {
  /** Names of the two runs (default "base" and "head"). */
  labels?: { base: string; head: string };
  color?: boolean;
  /** Terminal width for cutting long lines (default 100). */
  width?: number;
  /** How many flips to list (default 20). */
  maxFlips?: number;
}

const MARK: Record<CellStatus, string> = { pass: "✓", fail: "✗", unparsed: "?", error: "!", mixed: "~" };

/** Two runs in the terminal: accuracy per variant before and after, then the cases that flipped. */
export function renderRunDiff(diff: RunDiff, options: RunDiffReportOptions = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = Math.max(60, options.width ?? 100);
  const labels = options.labels ?? { base: "base", head: "head" };
  const header = ["prompt", "provider", labels.base, labels.head, "change", "fixed", "broken"];
  const rows = diff.variants.map((v) => [
    sanitizeForTerminal(v.prompt),
    sanitizeForTerminal(v.provider),
    v.base === undefined ? "–" : percent(v.base),
    v.head === undefined ? "–" : percent(v.head),
    v.base === undefined || v.head === undefined ? "–" : points(v.head - v.base),
    String(v.fixed),
    String(v.broken),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (text: string, i: number) => (i >= 2 ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const lines = [c.dim(header.map(pad).join("  "))];
  diff.variants.forEach((v, index) => {
    const cells = rows[index].map(pad);
    const delta = v.base !== undefined && v.head !== undefined ? v.head - v.base : 0;
    if (delta > 0) cells[4] = c.green(cells[4]);
    if (delta < 0) cells[4] = c.red(cells[4]);
    if (v.broken > 0) cells[6] = c.red(cells[6]);
    if (v.fixed > 0) cells[5] = c.green(cells[5]);
    lines.push(cells.join("  "));
  });
  if (diff.flips.length === 0) {
    lines.push("", c.dim("no case flipped"));
    return `${lines.join("\n")}\n`;
  }
  const worse = diff.flips.filter((f) => f.direction === "worse").length;
  const shown = diff.flips.slice(0, options.maxFlips ?? 20);
  lines.push(
    "",
    c.bold(
      `Flipped (${diff.flips.length}: ${worse} worse, ${diff.flips.length - worse} better)${shown.length < diff.flips.length ? `, the first ${shown.length}` : ""}`,
    ),
  );
  for (const flip of shown) {
    const arrow = `${MARK[flip.from]}→${MARK[flip.to]}`;
    const where = sanitizeForTerminal(`${flip.prompt} · ${flip.provider} · case ${flip.id}`);
    const { result } = flip;
    const now = result.error
      ? `${result.error.kind}: ${result.error.message}`
      : `expected ${showValue(result.expected)}  extracted ${result.extracted ?? "(nothing)"}`;
    const tail = sanitizeForTerminal(oneLine(now, Math.max(20, width - where.length - 10)));
    lines.push(`  ${flip.direction === "worse" ? c.red(arrow) : c.green(arrow)} ${where}  ${c.dim(tail)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** 0.2 → "+20.0 pts". */
function points(delta: number): string {
  return `${delta >= 0 ? "+" : "−"}${Math.abs(delta * 100).toFixed(1)} pts`;
}
