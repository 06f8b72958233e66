/** The paired comparisons and the gates of a record, as text: shared by the terminal report and `compare`. */
import type { Comparison, GateResult } from "../record/types.js";
import { formatP } from "../stats/gates.js";
import { sanitizeForTerminal } from "./text.js";

/** Styling the terminal report applies (identity without colour). */
export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

/** A difference as signed points (+3.1, −2.0) for accuracy, or signed to 3 decimals for a score. */
export function signedDelta(value: number, metric: Comparison["metric"]): string {
  const text = metric === "accuracy" ? (Math.abs(value) * 100).toFixed(1) : Math.abs(value).toFixed(3);
  if (Number(text) === 0) return ` ${text}`;
  return value < 0 ? `−${text}` : `+${text}`;
}

/** The table's rows: variant, Δ, 95% interval, p, p(Holm), wins/losses, verdict. */
export function comparisonCells(c: Comparison, withBaseline: boolean): string[] {
  const name = withBaseline
    ? `${c.prompt} · ${c.provider}`
    : c.prompt === c.baseline.prompt
      ? c.provider
      : c.provider === c.baseline.provider
        ? c.prompt
        : `${c.prompt} · ${c.provider}`;
  return [
    `${sanitizeForTerminal(name)}${c.metric === "score" ? " (score)" : ""}${c.best ? " ★" : ""}`,
    signedDelta(c.delta, c.metric),
    `${signedDelta(c.ci95[0], c.metric)} to ${signedDelta(c.ci95[1], c.metric)}`,
    formatP(c.p),
    formatP(c.pHolm),
    `${c.wins}/${c.losses}`,
    c.verdict,
  ];
}

/** The comparison table of a run with a baseline, with a line saying what was tested. */
export function comparisonLines(
  comparisons: Comparison[],
  paint: Paint,
  options: { alpha?: number; title?: string } = {},
): string[] {
  if (comparisons.length === 0) return [];
  const bases = new Set(comparisons.map((c) => `${c.baseline.prompt} · ${c.baseline.provider}`));
  const lines: string[] = [];
  const title =
    options.title ??
    (bases.size === 1
      ? `Compared with the baseline ${[...bases][0]}`
      : "Compared with the baseline (each provider's own)");
  lines.push("", paint.bold(sanitizeForTerminal(title)));
  const header = ["variant", "Δ", "95% CI", "p", "p(Holm)", "wins/losses", "verdict"];
  const rows = comparisons.map((c) => comparisonCells(c, bases.size > 1));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (text: string, i: number) =>
    i === 0 || i === 6 ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  lines.push(paint.dim(header.map(pad).join("  ")));
  comparisons.forEach((c, index) => {
    const cells = rows[index].map(pad);
    if (c.verdict === "better") cells[6] = paint.green(cells[6]);
    if (c.verdict === "worse") cells[6] = paint.red(cells[6]);
    lines.push(cells.join("  ").trimEnd());
  });
  const excluded = comparisons.filter((c) => c.excluded > 0);
  const notes = [
    "Δ in accuracy points (scores: mean difference), paired by case: McNemar's exact test and Newcombe's interval (the bootstrap for scores and shot draws), p Holm-adjusted across variants",
    options.alpha !== undefined ? `verdicts at α ${options.alpha}` : undefined,
    comparisons.some((c) => c.best) ? "★ best of its sweep" : undefined,
  ].filter(Boolean);
  lines.push(paint.dim(notes.join("; ")));
  for (const c of excluded) {
    lines.push(
      paint.yellow(
        sanitizeForTerminal(
          `${c.prompt} · ${c.provider}: ${c.excluded} ${c.excluded === 1 ? "case" : "cases"} left out of the pairs (errored with onError: exclude, or on one side only)`,
        ),
      ),
    );
  }
  return lines;
}

/** One line per failed gate; nothing when every gate passed. */
export function failedGateLines(gates: GateResult[] | undefined, paint: Paint): string[] {
  const failed = (gates ?? []).filter((g) => !g.passed);
  if (failed.length === 0) return [];
  return [
    "",
    paint.red(paint.bold(`Gates failed (${failed.length} of ${gates!.length})`)),
    ...failed.map((g) => `  ${paint.red("✗")} ${g.rule}: ${sanitizeForTerminal(g.message)}`),
  ];
}
