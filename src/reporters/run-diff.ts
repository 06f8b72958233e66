import { Chalk } from "chalk";
import type { CaseResult, SummaryRow } from "../record/types.js";
import { oneLine, percent, sanitizeForTerminal, showValue } from "./text.js";

/** What a case came to in one variant of one run: its results (draws, repeats) taken together. */
export type CellStatus = "pass" | "fail" | "unparsed" | "error" | "mixed";

/** One variant's accuracy in both runs, and its cases that flipped each way. */
export interface RunDiffVariant {
  prompt: string;
  provider: string;
  /** Accuracy in the earlier run (absent when the variant is new). */
  base?: number;
  /** Accuracy in the later run (absent when the variant is gone). */
  head?: number;
  /** Cases that failed before and pass now. */
  fixed: number;
  /** Cases that passed before and fail now. */
  broken: number;
}

/** A case whose verdict changed between the runs in one variant. */
export interface Flip {
  id: string;
  prompt: string;
  provider: string;
  /** "worse": passed before, not now; "better": the other way. */
  direction: "worse" | "better";
  from: CellStatus;
  to: CellStatus;
  /** The later run's (first) result of the case. */
  result: Pick<CaseResult, "expected" | "extracted" | "output" | "error">;
}

/** Two runs compared case by case (by prompt, provider and case id). */
export interface RunDiff {
  variants: RunDiffVariant[];
  /** The flips, those that got worse first, each group in the later run's order. */
  flips: Flip[];
}

/** What a comparison reads of a case: its verdict, and what the flip list shows. */
export type DiffCase = Pick<
  CaseResult,
  "id" | "prompt" | "provider" | "pass" | "unparsed" | "error" | "expected" | "extracted" | "output"
>;

/** What a comparison reads of a run: a record, or its summary and its cases' verdicts alone. */
export interface DiffInput {
  summary: SummaryRow[];
  cases: DiffCase[];
}

type Cell = DiffCase;

/**
 * Compares two runs of the same cases. A case passes in a variant when every result it has there
 * passed (several with shot draws or repeats), as the HTML report colours its cells.
 */
export function diffRuns(base: DiffInput, head: DiffInput): RunDiff {
  const before = groupCells(base.cases);
  const after = groupCells(head.cases);
  const flips: Flip[] = [];
  const counts = new Map<string, { fixed: number; broken: number }>();
  for (const [key, results] of after) {
    const earlier = before.get(key);
    if (!earlier) continue;
    const from = statusOf(earlier);
    const to = statusOf(results);
    if ((from === "pass") === (to === "pass")) continue;
    const { id, prompt, provider } = results[0];
    const direction = to === "pass" ? "better" : "worse";
    flips.push({ id, prompt, provider, direction, from, to, result: results[0] });
    const variant = variantKey(results[0]);
    const count = counts.get(variant) ?? { fixed: 0, broken: 0 };
    if (direction === "better") count.fixed++;
    else count.broken++;
    counts.set(variant, count);
  }
  flips.sort((a, b) => (a.direction === b.direction ? 0 : a.direction === "worse" ? -1 : 1));

  const variants: RunDiffVariant[] = [];
  const baseRows = new Map(base.summary.map((row) => [variantKey(row), row]));
  const seen = new Set<string>();
  const add = (row: SummaryRow) => {
    const key = variantKey(row);
    if (seen.has(key)) return;
    seen.add(key);
    const earlier = baseRows.get(key);
    const later = head.summary.find((r) => variantKey(r) === key);
    variants.push({
      prompt: row.prompt,
      provider: row.provider,
      ...(earlier ? { base: earlier.accuracy } : {}),
      ...(later ? { head: later.accuracy } : {}),
      ...(counts.get(key) ?? { fixed: 0, broken: 0 }),
    });
  };
  for (const row of head.summary) add(row);
  for (const row of base.summary) add(row);
  return { variants, flips };
}

function variantKey(row: { prompt: string; provider: string }): string {
  return `${row.prompt}\u0000${row.provider}`;
}

function groupCells(cases: Cell[]): Map<string, Cell[]> {
  const cells = new Map<string, Cell[]>();
  for (const result of cases) {
    const key = `${variantKey(result)}\u0000${result.id}`;
    const list = cells.get(key);
    if (list) list.push(result);
    else cells.set(key, [result]);
  }
  return cells;
}

/** What several results of one case and variant came to. */
export function statusOf(results: Pick<CaseResult, "pass" | "unparsed" | "error">[]): CellStatus {
  let pass = 0;
  let error = 0;
  let unparsed = 0;
  for (const r of results) {
    if (r.error) error++;
    else if (r.unparsed) unparsed++;
    else if (r.pass) pass++;
  }
  const n = results.length;
  if (pass === n) return "pass";
  if (pass > 0) return "mixed";
  if (error === n) return "error";
  if (unparsed === n) return "unparsed";
  return "fail";
}

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
