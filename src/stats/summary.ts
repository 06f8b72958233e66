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
  cached?: boolean;
  draw?: number;
  samples?: { pass: boolean }[];
  agreement?: number;
  /** Copies of the case the contamination guard excluded or flagged. */
  leaks?: readonly { action: "excluded" | "flagged" }[];
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
  cacheHits: number;
  latencies: number[];
  sampleCount: number;
  samplePasses: number;
  sampledCases: number;
  agreementSum: number;
  maxSamples: number;
  /** Per draw: [passed, total]. */
  draws: Map<number, [number, number]>;
  leakCases: number;
  leakExcluded: number;
  leakFlagged: number;
}

/**
 * Builds the summary incrementally, so memory grows with the number of variants (and one latency
 * number per answered case), never with the cases' text. The summary is a function of the cases
 * alone, so merged shards and resumed runs summarise exactly like one uninterrupted run.
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
          cacheHits: 0,
          latencies: [],
          sampleCount: 0,
          samplePasses: 0,
          sampledCases: 0,
          agreementSum: 0,
          maxSamples: 0,
          draws: new Map(),
          leakCases: 0,
          leakExcluded: 0,
          leakFlagged: 0,
        };
        groups.set(key, group);
      }
      group.total++;
      if (result.error) group.errors++;
      else if (result.pass) group.passed++;
      else if (result.unparsed) group.unparsed++;
      if (!result.error) group.latencies.push(result.latencyMs);
      if (result.cached && !result.error) group.cacheHits++;
      group.promptTokens += result.tokens.prompt;
      group.completionTokens += result.tokens.completion;
      if (result.samples) {
        group.sampledCases++;
        group.sampleCount += result.samples.length;
        group.samplePasses += result.samples.filter((s) => s.pass).length;
        group.agreementSum += result.agreement ?? 0;
        group.maxSamples = Math.max(group.maxSamples, result.samples.length);
      }
      if (result.draw !== undefined) {
        const tally = group.draws.get(result.draw) ?? [0, 0];
        tally[0] += result.pass && !result.error ? 1 : 0;
        tally[1] += 1;
        group.draws.set(result.draw, tally);
      }
      if (result.leaks && result.leaks.length > 0) {
        group.leakCases++;
        if (result.leaks.some((leak) => leak.action === "excluded")) group.leakExcluded++;
        if (result.leaks.some((leak) => leak.action === "flagged")) group.leakFlagged++;
      }
    },

    /** The summary rows, in the order the variants were first seen. */
    rows(): SummaryRow[] {
      return [...groups.values()].map((g) => {
        const sorted = Float64Array.from(g.latencies).sort();
        const row: SummaryRow = {
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
          cacheHits: g.cacheHits,
        };
        if (g.sampledCases > 0) {
          row.samples = {
            n: g.maxSamples,
            singleAccuracy: g.sampleCount === 0 ? 0 : g.samplePasses / g.sampleCount,
            agreement: g.agreementSum / g.sampledCases,
          };
        }
        if (g.draws.size > 0) {
          const accuracies = [...g.draws.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([, [passed, total]]) => (total === 0 ? 0 : passed / total));
          const { mean, sd } = meanAndSd(accuracies);
          row.draws = { n: accuracies.length, accuracies, mean, sd };
        }
        if (g.leakCases > 0)
          row.leaks = { cases: g.leakCases, excluded: g.leakExcluded, flagged: g.leakFlagged };
        return row;
      });
    },
  };
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function meanAndSd(values: number[]): { mean: number; sd: number } {
  if (values.length === 0) return { mean: 0, sd: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, sd: 0 };
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

export type SummaryAccumulator = ReturnType<typeof createSummaryAccumulator>;
