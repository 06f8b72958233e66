import { DEFAULT_COMPARE } from "../config/defaults.js";
import type { CaseResult, Comparison, RunRecord, SummaryRow } from "../record/types.js";
import { createComparisonAccumulator, sweepsOf } from "./comparisons.js";
import { createSummaryAccumulator } from "./summary.js";

/**
 * Everything a record says about its cases as a whole, built as they stream by: the summary, and
 * the paired comparisons when the config has a baseline. A function of the cases and the recorded
 * config alone, so a run, its resumed journal and its merged shards all come to the same numbers.
 */
export function createRecordStats(header: Pick<RunRecord, "config" | "seed">) {
  const { config } = header;
  const compare = { ...DEFAULT_COMPARE, ...config.compare };
  const seed = header.seed ?? 1;
  const summary = createSummaryAccumulator({
    require: config.repeat?.require,
    seed,
    bootstrap: compare.bootstrap,
  });
  const comparisons = config.baseline
    ? createComparisonAccumulator({
        baseline: config.baseline,
        compare,
        seed,
        require: config.repeat?.require,
        sweeps: sweepsOf(config.prompts),
      })
    : undefined;
  return {
    add(result: CaseResult): void {
      summary.add(result);
      comparisons?.add(result);
    },
    /** The summary rows, and the comparisons when there is a baseline. */
    end(): { summary: SummaryRow[]; comparisons?: Comparison[] } {
      return {
        summary: summary.rows(),
        ...(comparisons ? { comparisons: comparisons.comparisons() } : {}),
      };
    },
  };
}
