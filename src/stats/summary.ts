import type { SummaryRow } from "../record/types.js";
import {
  emptyTally,
  foldedFailure,
  foldedPass,
  type RepeatRequire,
  type RunTally,
  tallyRun,
} from "./fold.js";
import { quantileSorted, wilsonInterval } from "./interval.js";
import { bootstrapMean, DEFAULT_RESAMPLES } from "./paired.js";

/** How the summary folds repeated runs and draws the intervals of mean scores. */
export interface SummaryOptions {
  /** What a case run `repeat: k` times counts as (default majority). */
  require?: RepeatRequire;
  /** The run's seed, for the bootstrap of graded mean scores (default 1). */
  seed?: number;
  /** Bootstrap resamples (default 10,000). */
  bootstrap?: number;
}

/** The flaky case ids a summary row lists (the count is exact). */
const FLAKY_LISTED = 20;

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
  /** Case id and score: with `repeat`, the runs of one case are folded into one. */
  id?: string;
  score?: number;
  repeat?: number;
  /** Each scorer's own result, when the case has them. */
  scores?: Record<string, { pass: boolean; score: number; unparsed?: boolean }>;
  /** The tokens of the judges' calls, by the judge's label. */
  judgeTokens?: Record<string, { prompt: number; completion: number }>;
}

/** Running totals of one scorer in one group. */
interface ScorerTally {
  n: number;
  sum: number;
  passes: number;
  unparsed: number;
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
  /** Per scorer name, in the order first seen: every run it scored counts. */
  scorers: Map<string, ScorerTally>;
  /** The judges' tokens by the judge's label, when any judge was asked. */
  judgeTokens?: Map<string, { prompt: number; completion: number }>;
  /** Every counted case's score, for the mean and its interval. */
  scores: Float64Array;
  scoreCount: number;
  graded: boolean;
  /** Repeated runs: the case being tallied, and what the finished ones came to. */
  repeat?: {
    unit?: { id: string; draw: number | undefined; tally: RunTally };
    k: number;
    units: number;
    anyPassed: number;
    allPassed: number;
    runs: number;
    runPasses: number;
    flaky: number;
    flakyIds: string[];
  };
}

/**
 * Builds the summary incrementally, so memory grows with the number of variants (and one latency
 * number per answered case), never with the cases' text. The summary is a function of the cases
 * alone, so merged shards and resumed runs summarise exactly like one uninterrupted run.
 */
export function createSummaryAccumulator(options: SummaryOptions = {}) {
  const groups = new Map<string, Group>();
  const require = options.require ?? "majority";

  /** Counts one case (or the folded runs of a repeated one) into its group. */
  const count = (
    group: Group,
    outcome: { passed: boolean; failure: "error" | "unparsed" | "failed"; score: number; draw?: number },
  ) => {
    group.total++;
    if (outcome.passed) group.passed++;
    else if (outcome.failure === "error") group.errors++;
    else if (outcome.failure === "unparsed") group.unparsed++;
    if (group.scoreCount === group.scores.length) {
      const bigger = new Float64Array(group.scores.length * 2);
      bigger.set(group.scores);
      group.scores = bigger;
    }
    group.scores[group.scoreCount++] = outcome.score;
    if (outcome.score !== 0 && outcome.score !== 1) group.graded = true;
    if (outcome.draw !== undefined) {
      const tally = group.draws.get(outcome.draw) ?? [0, 0];
      tally[0] += outcome.passed ? 1 : 0;
      tally[1] += 1;
      group.draws.set(outcome.draw, tally);
    }
  };

  /** Folds the runs of the repeated case being tallied into its group. */
  const closeUnit = (group: Group) => {
    const state = group.repeat;
    const unit = state?.unit;
    if (!state || !unit) return;
    state.unit = undefined;
    const { tally } = unit;
    const passed = foldedPass(tally, require);
    count(group, {
      passed,
      failure: passed ? "failed" : foldedFailure(tally),
      score: tally.runs === 0 ? 0 : tally.scoreSum / tally.runs,
      draw: unit.draw,
    });
    state.units++;
    state.k = Math.max(state.k, tally.runs);
    state.runs += tally.runs;
    state.runPasses += tally.passes;
    if (tally.passes > 0) state.anyPassed++;
    if (tally.passes === tally.runs) state.allPassed++;
    if (tally.passes > 0 && tally.passes < tally.runs) {
      state.flaky++;
      if (state.flakyIds.length < FLAKY_LISTED) state.flakyIds.push(unit.id);
    }
  };

  return {
    /** Adds one finished case (one run of it, with `repeat`; a repeated case's runs come together). */
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
          scorers: new Map(),
          scores: new Float64Array(64),
          scoreCount: 0,
          graded: false,
        };
        groups.set(key, group);
      }
      if (!result.error) group.latencies.push(result.latencyMs);
      if (result.cached && !result.error) group.cacheHits++;
      group.promptTokens += result.tokens.prompt;
      group.completionTokens += result.tokens.completion;
      if (result.judgeTokens) {
        group.judgeTokens ??= new Map();
        for (const [label, usage] of Object.entries(result.judgeTokens)) {
          const into = group.judgeTokens.get(label) ?? { prompt: 0, completion: 0 };
          into.prompt += usage.prompt;
          into.completion += usage.completion;
          group.judgeTokens.set(label, into);
        }
      }
      if (result.samples) {
        group.sampledCases++;
        group.sampleCount += result.samples.length;
        group.samplePasses += result.samples.filter((s) => s.pass).length;
        group.agreementSum += result.agreement ?? 0;
        group.maxSamples = Math.max(group.maxSamples, result.samples.length);
      }
      if (result.scores && !result.error) {
        for (const [name, part] of Object.entries(result.scores)) {
          let tally = group.scorers.get(name);
          if (!tally) {
            tally = { n: 0, sum: 0, passes: 0, unparsed: 0 };
            group.scorers.set(name, tally);
          }
          tally.n++;
          tally.sum += part.score;
          if (part.pass) tally.passes++;
          if (part.unparsed) tally.unparsed++;
        }
      }
      // Counted once a case (its first run when it repeats), as `total` counts cases.
      if (result.leaks && result.leaks.length > 0 && !(result.repeat !== undefined && result.repeat > 0)) {
        group.leakCases++;
        if (result.leaks.some((leak) => leak.action === "excluded")) group.leakExcluded++;
        if (result.leaks.some((leak) => leak.action === "flagged")) group.leakFlagged++;
      }
      const score = result.error ? 0 : (result.score ?? (result.pass ? 1 : 0));
      if (result.repeat === undefined) {
        const passed = result.pass && !result.error;
        count(group, {
          passed,
          failure: result.error ? "error" : result.unparsed ? "unparsed" : "failed",
          score,
          draw: result.draw,
        });
        return;
      }
      group.repeat ??= {
        k: 0,
        units: 0,
        anyPassed: 0,
        allPassed: 0,
        runs: 0,
        runPasses: 0,
        flaky: 0,
        flakyIds: [],
      };
      const unit = group.repeat.unit;
      const id = result.id ?? "";
      if (!unit || unit.id !== id || unit.draw !== result.draw) {
        closeUnit(group);
        group.repeat.unit = { id, draw: result.draw, tally: emptyTally() };
      }
      tallyRun(group.repeat.unit!.tally, { ...result, score });
    },

    /** The summary rows, in the order the variants were first seen. */
    rows(): SummaryRow[] {
      for (const g of groups.values()) closeUnit(g);
      return [...groups.values()].map((g, index) => {
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
          compliance: g.total === 0 ? 0 : (g.total - g.unparsed - g.errors) / g.total,
          ...meanScoreOf(g, {
            seed: (options.seed ?? 1) + 104729 * (index + 1),
            resamples: options.bootstrap,
          }),
        };
        if (g.repeat && g.repeat.units > 0) {
          const r = g.repeat;
          row.repeat = {
            k: r.k,
            require,
            passAtK: r.anyPassed / r.units,
            passHatK: r.allPassed / r.units,
            passAt1: r.runs === 0 ? 0 : r.runPasses / r.runs,
            flaky: r.flaky,
            flakyIds: r.flakyIds,
          };
        }
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
        if (g.judgeTokens) row.judgeTokens = Object.fromEntries(g.judgeTokens);
        if (g.scorers.size > 0) {
          row.scorers = {};
          for (const [name, t] of g.scorers) {
            row.scorers[name] = { n: t.n, mean: t.sum / t.n, passRate: t.passes / t.n, unparsed: t.unparsed };
          }
        }
        return row;
      });
    },
  };
}

/**
 * The mean score and its 95% interval: for pass/fail scores (every score 0 or 1) the mean is a
 * proportion and gets the Wilson interval, which behaves at 0% and 100% where a bootstrap collapses
 * to a point; graded scores get the seeded percentile bootstrap.
 */
function meanScoreOf(
  g: Group,
  bootstrap: { seed: number; resamples?: number },
): { meanScore: number; scoreCi95: [number, number] } {
  const scores = g.scores.subarray(0, g.scoreCount);
  if (!g.graded) {
    let ones = 0;
    for (const s of scores) ones += s;
    return {
      meanScore: g.scoreCount === 0 ? 0 : ones / g.scoreCount,
      scoreCi95: wilsonInterval(ones, g.scoreCount),
    };
  }
  const { mean, ci95 } = bootstrapMean(scores, {
    seed: bootstrap.seed,
    resamples: bootstrap.resamples ?? DEFAULT_RESAMPLES,
  });
  return { meanScore: mean, scoreCi95: ci95 };
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
