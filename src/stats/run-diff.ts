/**
 * Two runs of the same cases compared case by case (by prompt, provider and case id): the accuracy
 * of each variant in both and the cases that flipped. What `eval --watch` says after each run, and
 * what colours the HTML report's two-run view (its page script applies the same rule). A case's
 * results are folded as the summary and `compare` fold them (stats/fold.ts): each shot draw's
 * repeats by `require`, and the case passes when every draw passed.
 */
import type { CaseResult, SummaryRow } from "../record/types.js";
import {
  emptyTally,
  foldedFailure,
  foldedPass,
  type RepeatRequire,
  type RunTally,
  tallyRun,
} from "./fold.js";

/**
 * What a case came to in one variant of one run, its results (draws, repeats) folded: `mixed` when
 * some of its shot draws passed and some did not.
 */
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
  "id" | "prompt" | "provider" | "draw" | "pass" | "unparsed" | "error" | "expected" | "extracted" | "output"
>;

/** What a comparison reads of a run: a record, or its summary and its cases' verdicts alone. */
export interface DiffInput {
  summary: SummaryRow[];
  cases: DiffCase[];
  /** The run's config as the record keeps it: how a repeated case counts (`repeat.require`). */
  config?: { repeat?: { require: RepeatRequire } };
}

type Cell = DiffCase;

/**
 * Compares two runs of the same cases. A case passes in a variant as {@link statusOf} folds it,
 * both runs by the later one's `require` (as `compare` does); a case that passes in some of its
 * shot draws and not others (`mixed`) is no flip, as its accuracy is neither 0 nor 1.
 */
export function diffRuns(base: DiffInput, head: DiffInput): RunDiff {
  const require = head.config?.repeat?.require ?? "majority";
  const before = groupCells(base.cases);
  const after = groupCells(head.cases);
  const flips: RunDiffFlip[] = [];
  const counts = new Map<string, { fixed: number; broken: number }>();
  for (const [key, results] of after) {
    const earlier = before.get(key);
    if (!earlier) continue;
    const from = statusOf(earlier, require);
    const to = statusOf(results, require);
    if ((from === "pass") === (to === "pass") || from === "mixed" || to === "mixed") continue;
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

/**
 * What several results of one case and variant came to: each shot draw's repeats folded by
 * `require` (default majority, as the summary's), `pass` when every draw passed, `mixed` when some
 * did; else how the case failed (`foldedFailure` of all its results).
 */
export function statusOf(
  results: Pick<CaseResult, "pass" | "unparsed" | "error" | "draw">[],
  require: RepeatRequire = "majority",
): CellStatus {
  const draws = new Map<number, RunTally>();
  const all = emptyTally();
  for (const r of results) {
    const run = { pass: r.pass, unparsed: r.unparsed, error: r.error, score: 0 };
    let tally = draws.get(r.draw ?? 0);
    if (!tally) {
      tally = emptyTally();
      draws.set(r.draw ?? 0, tally);
    }
    tallyRun(tally, run);
    tallyRun(all, run);
  }
  let passed = 0;
  for (const tally of draws.values()) if (foldedPass(tally, require)) passed++;
  if (passed > 0) return passed === draws.size ? "pass" : "mixed";
  const failure = foldedFailure(all);
  return failure === "failed" ? "fail" : failure;
}
