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
      const prices = new Map(config.providers.map((p) => [p.label, p.price]));
      // A judge is priced at its own provider's price, which need not be the answering provider's.
      const judgePrices = new Map((config.judges ?? []).map((p) => [p.label, p.price]));
      const costOf = (
        price: { input: number; output: number },
        tokens: { prompt: number; completion: number },
      ) => (tokens.prompt * price.input + tokens.completion * price.output) / 1_000_000;
      return {
        summary: summary.rows().map((row) => {
          let cost: number | undefined;
          const price = prices.get(row.provider);
          if (price) cost = costOf(price, row.tokens);
          for (const [label, tokens] of Object.entries(row.judgeTokens ?? {})) {
            const judgePrice = judgePrices.has(label) ? judgePrices.get(label) : prices.get(label);
            if (judgePrice) cost = (cost ?? 0) + costOf(judgePrice, tokens);
          }
          return cost === undefined ? row : { ...row, cost };
        }),
        ...(comparisons ? { comparisons: comparisons.comparisons() } : {}),
      };
    },
  };
}
