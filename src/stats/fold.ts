/**
 * Repeated runs of one case (`repeat: k`) folded into what the case counts as. Shared by the
 * summary and the paired comparisons, so both count a repeated case the same way.
 */

/** What a repeated case counts as: passed when all, a majority (more than half) or any of its runs passed. */
export type RepeatRequire = "all" | "majority" | "any";

/** The runs of one case so far. */
export interface RunTally {
  runs: number;
  passes: number;
  errors: number;
  unparsed: number;
  scoreSum: number;
}

/** An empty tally. */
export function emptyTally(): RunTally {
  return { runs: 0, passes: 0, errors: 0, unparsed: 0, scoreSum: 0 };
}

/** Adds one run's outcome to a tally. */
export function tallyRun(
  tally: RunTally,
  run: { pass: boolean; unparsed: boolean; error: unknown; score: number },
): void {
  tally.runs++;
  if (run.error) tally.errors++;
  else if (run.pass) tally.passes++;
  else if (run.unparsed) tally.unparsed++;
  // An errored run scores nothing, whatever its record says.
  tally.scoreSum += run.error ? 0 : Number.isFinite(run.score) ? run.score : 0;
}

/** Whether the case passes under `require`. A single run passes when it passed. */
export function foldedPass(tally: RunTally, require: RepeatRequire): boolean {
  if (tally.runs === 0) return false;
  if (require === "all") return tally.passes === tally.runs;
  if (require === "any") return tally.passes > 0;
  return tally.passes * 2 > tally.runs;
}

/**
 * What a case that did not pass counts as: an error when every run errored, unparsed when every
 * run that answered and did not pass was unparsed, else failed.
 */
export function foldedFailure(tally: RunTally): "error" | "unparsed" | "failed" {
  if (tally.errors === tally.runs) return "error";
  const answeredWrong = tally.runs - tally.errors - tally.passes;
  return answeredWrong > 0 && tally.unparsed === answeredWrong ? "unparsed" : "failed";
}
