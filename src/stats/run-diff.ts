/**
 * Two runs of the same cases compared case by case (by prompt, provider and case id): the accuracy
 * of each variant in both and the cases that flipped. What `eval --watch` says after each run, and
 * what colours the HTML report's two-run view (its page script applies the same rule).
 */
import type { CaseResult, SummaryRow } from "../record/types.js";

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
export interface RunDiffFlip {
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
  flips: RunDiffFlip[];
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
  const flips: RunDiffFlip[] = [];
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
