import type { Estimate } from "../estimate/estimate.js";
import { leakLine } from "./leaks.js";
import { compactNumber } from "./text.js";

/** The dry-run report: requests, tokens and cost per prompt × provider, then the totals and assumptions. */
export function renderEstimate(estimate: Estimate): string {
  const header = ["prompt", "provider", "requests", "cached", "tokens in", "tokens out ≤", "cost ≤"];
  const money = (usd: number | null) =>
    usd === null ? "?" : `$${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;
  const rows = estimate.rows.map((r) => [
    r.prompt,
    r.provider,
    String(r.requests),
    String(r.cached),
    compactNumber(r.promptTokens),
    compactNumber(r.completionTokens),
    money(r.cost),
  ]);
  const t = estimate.totals;
  rows.push([
    "total",
    "",
    String(t.requests),
    String(t.cached),
    compactNumber(t.promptTokens),
    compactNumber(t.completionTokens),
    // Unknown prices are not free: a total that left rows out says so.
    t.unpriced > 0 && t.cost !== null ? `${money(t.cost)} + ?` : money(t.cost),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const lines = ["dry run: nothing was sent", "", line(header), ...rows.map(line)];
  // The guard's count is the same for every provider of a prompt: one line per prompt.
  const guardLines = new Map<string, string>();
  for (const r of estimate.rows) {
    if (r.leaks && !guardLines.has(r.prompt))
      guardLines.set(r.prompt, leakLine(r.prompt, r.leaks.checked, r.leaks, r.leaks.guarded));
  }
  if (guardLines.size > 0) lines.push("", ...guardLines.values());
  if (estimate.assumptions.length > 0) lines.push("", ...estimate.assumptions.map((a) => `note: ${a}`));
  return `${lines.join("\n")}\n`;
}
