import type { SummaryRow } from "../record/types.js";
import { quantileSorted, wilsonInterval } from "./interval.js";

/** The fields of a case result the summary needs. */
export interface SummaryInput {
  prompt: string;
  provider: string;
  pass: boolean;
  unparsed: boolean;
  error: unknown;
  latencyMs: number;
  tokens: { prompt: number; completion: number };
}

interface Group {
  prompt: string;
  provider: string;
  total: number;
  passed: number;
  errors: number;
  unparsed: number;
  promptTokens: number;
  completionTokens: number;
  latencies: number[];
}

/**
 * Builds the summary incrementally, so memory grows with the number of variants (and one latency
 * number per answered case), never with the cases' text.
 */
export function createSummaryAccumulator() {
  const groups = new Map<string, Group>();

  return {
    /** Adds one finished case. */
    add(result: SummaryInput): void {
      const key = `${result.prompt}\u0000${result.provider}`;
      let group = groups.get(key);
      if (!group) {
        group = {
          prompt: result.prompt,
          provider: result.provider,
          total: 0,
          passed: 0,
          errors: 0,
          unparsed: 0,
          promptTokens: 0,
          completionTokens: 0,
          latencies: [],
        };
        groups.set(key, group);
      }
      group.total++;
      if (result.error) group.errors++;
      else if (result.pass) group.passed++;
      else if (result.unparsed) group.unparsed++;
      if (!result.error) group.latencies.push(result.latencyMs);
      group.promptTokens += result.tokens.prompt;
      group.completionTokens += result.tokens.completion;
    },

    /** The summary rows, in the order the variants were first seen. */
    rows(): SummaryRow[] {
      return [...groups.values()].map((g) => {
        const sorted = Float64Array.from(g.latencies).sort();
        return {
          prompt: g.prompt,
          provider: g.provider,
          total: g.total,
          passed: g.passed,
          failed: g.total - g.passed - g.errors - g.unparsed,
          errors: g.errors,
          unparsed: g.unparsed,
          accuracy: g.total === 0 ? 0 : g.passed / g.total,
          ci95: wilsonInterval(g.passed, g.total),
          latencyMs: {
            p50: Math.round(quantileSorted(sorted, 0.5)),
            p95: Math.round(quantileSorted(sorted, 0.95)),
          },
          tokens: { prompt: g.promptTokens, completion: g.completionTokens },
        };
      });
    },
  };
}

export type SummaryAccumulator = ReturnType<typeof createSummaryAccumulator>;
