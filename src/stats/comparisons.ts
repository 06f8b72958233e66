/**
 * Paired comparisons of every variant with the baseline, built as the cases stream by: the cases
 * of a record come case by case (every variant of case 1, then of case 2), so the results of one
 * case are paired the moment the next case starts, and memory holds one number per case and
 * comparison (for the bootstrap), never the cases themselves.
 */
import type { CompareSettings } from "../config/types.js";
import { createKeySet, cyrb53 } from "../key-set.js";
import type { Comparison } from "../record/types.js";
import { emptyTally, foldedPass, type RepeatRequire, type RunTally, tallyRun } from "./fold.js";
import { bootstrapMean, holmAdjust, mcnemarExact, newcombePairedInterval } from "./paired.js";

/** The fields of a case result a comparison reads. */
export interface ComparisonInput {
  id: string;
  prompt: string;
  provider: string;
  pass: boolean;
  score: number;
  unparsed: boolean;
  error: unknown;
  draw?: number;
}

/** What the accumulator needs to know of the run. */
export interface ComparisonOptions {
  /** The baseline: a prompt id, a provider label, or both (the other side is the variant's own). */
  baseline: { prompt?: string; provider?: string };
  compare: CompareSettings;
  /** The run's seed; each comparison's bootstrap derives its own from it. */
  seed: number;
  /** How repeated runs of a case count (`repeat: k`). */
  require?: RepeatRequire;
  /** Prompt id → configured id, for prompts swept into variants (marks the best of each sweep). */
  sweeps?: Map<string, string>;
  /**
   * Compare with another run instead: each variant is paired with the same variant (prompt and
   * provider) of that run, case by case. `baseline` is then ignored.
   */
  against?: BaseIndex;
}

/** One variant's outcome on one case: its runs and draws folded. */
export interface CaseValue {
  /** Share of its draws that passed (0 or 1 without draws). */
  accuracy: number;
  /** Mean score of its runs. */
  score: number;
  errored: boolean;
}

/** A growable array of doubles. */
class Doubles {
  data = new Float64Array(64);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

interface Pairing {
  prompt: string;
  provider: string;
  baseline: { prompt: string; provider: string };
  counts: { a: number; b: number; c: number; d: number };
  /** A case whose accuracy was neither 0 nor 1 (several draws): accuracy is then bootstrapped too. */
  fractional: boolean;
  /** A case score neither 0 nor 1: the scores are graded and compared on their own. */
  graded: boolean;
  accuracyDiffs: Doubles;
  scoreDiffs: Doubles;
  accuracySums: [number, number];
  scoreSums: [number, number];
  scoreWins: number;
  scoreLosses: number;
  excludedErrors: number;
  baselineMissing: number;
  /** Cases where both sides had a result (paired, or excluded for an error). */
  together: number;
}

/** A variant's key: prompt and provider. */
export const variantKey = (prompt: string, provider: string) => `${prompt}\u0000${provider}`;

/** One case's results, each variant's runs and draws folded into a {@link CaseValue}. */
export type CaseValues = Map<string, { prompt: string; provider: string; value: CaseValue }>;

/**
 * Collects the results of one case at a time (records hold them case by case) and hands each
 * finished case on with every variant's runs and draws folded: passed by `require` per draw, the
 * share of draws passed, the mean score. With `onError: fail` an errored run is a failed one.
 */
export function createCaseGrouper(
  options: { require?: RepeatRequire; onError: CompareSettings["onError"] },
  onCase: (id: string, values: CaseValues) => void,
) {
  const require = options.require ?? "majority";
  const closed = createKeySet();
  let currentId: string | undefined;
  /** The current case's results: variant → draw → runs. */
  let current = new Map<string, { prompt: string; provider: string; draws: Map<number, RunTally> }>();

  const flush = () => {
    if (currentId === undefined) return;
    closed.add(currentId);
    const values: CaseValues = new Map();
    for (const [k, entry] of current) {
      let passed = 0;
      let scoreSum = 0;
      let runs = 0;
      let errored = false;
      for (const tally of entry.draws.values()) {
        if (foldedPass(tally, require)) passed++;
        scoreSum += tally.scoreSum;
        runs += tally.runs;
        if (tally.errors > 0) errored = true;
      }
      values.set(k, {
        prompt: entry.prompt,
        provider: entry.provider,
        value: { accuracy: passed / entry.draws.size, score: runs === 0 ? 0 : scoreSum / runs, errored },
      });
    }
    const id = currentId;
    currentId = undefined;
    current = new Map();
    onCase(id, values);
  };

  return {
    /** Adds one finished case result; results must come case by case, as records hold them. */
    add(result: ComparisonInput): void {
      if (result.id !== currentId) {
        flush();
        if (closed.has(result.id)) {
          throw new RangeError(
            `case ${JSON.stringify(result.id)} appears again after other cases: a record's results must be grouped by case`,
          );
        }
        currentId = result.id;
      }
      const k = variantKey(result.prompt, result.provider);
      let entry = current.get(k);
      if (!entry) {
        entry = { prompt: result.prompt, provider: result.provider, draws: new Map() };
        current.set(k, entry);
      }
      const draw = result.draw ?? 0;
      let tally = entry.draws.get(draw);
      if (!tally) {
        tally = emptyTally();
        entry.draws.set(draw, tally);
      }
      const failed = options.onError === "fail" && result.error;
      tallyRun(tally, {
        pass: failed ? false : result.pass,
        unparsed: result.unparsed,
        error: result.error,
        score: result.score,
      });
    },
    /** Hands on the last case. */
    flush,
  };
}

/** Another run's per-case values, held as 64-bit hashes of (variant, case) → values: the side compared against. */
export interface BaseIndex {
  get(prompt: string, provider: string, id: string): CaseValue | undefined;
  /** Cases the variant had in that run. */
  count(prompt: string, provider: string): number;
  /** The variants of that run, in the order first seen. */
  variants(): { prompt: string; provider: string }[];
}

/**
 * Reads a run's results (case by case, as a record holds them) into a {@link BaseIndex}: about 40
 * bytes a case and variant, never the cases' text.
 */
export function createBaseIndex(options: { require?: RepeatRequire; onError: CompareSettings["onError"] }) {
  const accuracy = new Map<number, number>();
  const score = new Map<number, number>();
  const counts = new Map<string, number>();
  const names = new Map<string, { prompt: string; provider: string }>();
  const hash = (prompt: string, provider: string, id: string) =>
    cyrb53(`${prompt}\u0000${provider}\u0000${id}`);
  const grouper = createCaseGrouper(options, (id, values) => {
    for (const [k, { prompt, provider, value }] of values) {
      const h = hash(prompt, provider, id);
      // The errored flag rides in the sign of the accuracy: −1 − accuracy.
      accuracy.set(h, value.errored ? -1 - value.accuracy : value.accuracy);
      score.set(h, value.score);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      if (!names.has(k)) names.set(k, { prompt, provider });
    }
  });
  const index: BaseIndex = {
    get(prompt, provider, id) {
      const h = hash(prompt, provider, id);
      const a = accuracy.get(h);
      if (a === undefined) return undefined;
      return { accuracy: a < 0 ? -1 - a : a, score: score.get(h) ?? 0, errored: a < 0 };
    },
    count: (prompt, provider) => counts.get(variantKey(prompt, provider)) ?? 0,
    variants: () => [...names.values()],
  };
  return {
    add: grouper.add,
    /** The index, once every case has been added. */
    finish(): BaseIndex {
      grouper.flush();
      return index;
    },
  };
}

/**
 * Pairs each variant with the baseline case by case and, at the end, tests the differences:
 * McNemar's exact test and Newcombe's paired interval for pass/fail, the seeded paired bootstrap for
 * graded scores (and for accuracies averaged over shot draws), Holm's correction across the
 * variants, and a verdict at α.
 */
export function createComparisonAccumulator(options: ComparisonOptions) {
  const { baseline, compare, against } = options;
  const pairings = new Map<string, Pairing>();
  /** Cases each baseline variant answered, to count the cases a variant lacks. */
  const baselineCases = new Map<string, number>();

  const baselineOf = (prompt: string, provider: string) =>
    against
      ? { prompt, provider }
      : { prompt: baseline.prompt ?? prompt, provider: baseline.provider ?? provider };

  const pair = (id: string, values: CaseValues) => {
    for (const [k, entry] of values) {
      const base = baselineOf(entry.prompt, entry.provider);
      const baseKey = variantKey(base.prompt, base.provider);
      if (!against && baseKey === k) {
        baselineCases.set(k, (baselineCases.get(k) ?? 0) + 1);
        continue;
      }
      let pairing = pairings.get(k);
      if (!pairing) {
        pairing = {
          prompt: entry.prompt,
          provider: entry.provider,
          baseline: base,
          counts: { a: 0, b: 0, c: 0, d: 0 },
          fractional: false,
          graded: false,
          accuracyDiffs: new Doubles(),
          scoreDiffs: new Doubles(),
          accuracySums: [0, 0],
          scoreSums: [0, 0],
          scoreWins: 0,
          scoreLosses: 0,
          excludedErrors: 0,
          baselineMissing: 0,
          together: 0,
        };
        pairings.set(k, pairing);
      }
      const mine = entry.value;
      const theirs = against ? against.get(base.prompt, base.provider, id) : values.get(baseKey)?.value;
      if (!theirs) {
        pairing.baselineMissing++;
        continue;
      }
      pairing.together++;
      if (compare.onError === "exclude" && (mine.errored || theirs.errored)) {
        pairing.excludedErrors++;
        continue;
      }
      const binary = (v: number) => v === 0 || v === 1;
      if (!binary(mine.accuracy) || !binary(theirs.accuracy)) pairing.fractional = true;
      else if (mine.accuracy === 1 && theirs.accuracy === 1) pairing.counts.a++;
      else if (mine.accuracy === 1) pairing.counts.b++;
      else if (theirs.accuracy === 1) pairing.counts.c++;
      else pairing.counts.d++;
      if (!binary(mine.score) || !binary(theirs.score)) pairing.graded = true;
      pairing.accuracyDiffs.push(mine.accuracy - theirs.accuracy);
      pairing.scoreDiffs.push(mine.score - theirs.score);
      pairing.accuracySums[0] += theirs.accuracy;
      pairing.accuracySums[1] += mine.accuracy;
      pairing.scoreSums[0] += theirs.score;
      pairing.scoreSums[1] += mine.score;
      if (mine.score > theirs.score) pairing.scoreWins++;
      else if (mine.score < theirs.score) pairing.scoreLosses++;
    }
  };
  const grouper = createCaseGrouper({ require: options.require, onError: compare.onError }, pair);
  const baseCount = (pairing: Pairing) =>
    against
      ? against.count(pairing.baseline.prompt, pairing.baseline.provider)
      : (baselineCases.get(variantKey(pairing.baseline.prompt, pairing.baseline.provider)) ?? 0);

  return {
    /** Adds one finished case result; results must come case by case, as records hold them. */
    add: grouper.add,

    /** The comparisons, in the order the variants were first seen; empty when none has a baseline. */
    comparisons(): Comparison[] {
      grouper.flush();
      const out: Comparison[] = [];
      let index = 0;
      for (const pairing of pairings.values()) {
        const seed = options.seed + 7919 * ++index;
        const n = pairing.accuracyDiffs.length;
        const baseTotal = baseCount(pairing);
        const excluded =
          pairing.excludedErrors + pairing.baselineMissing + Math.max(0, baseTotal - pairing.together);
        const shared = {
          prompt: pairing.prompt,
          provider: pairing.provider,
          baseline: pairing.baseline,
          n,
          excluded,
        };
        const accuracyBase = n === 0 ? 0 : pairing.accuracySums[0] / n;
        const accuracy = n === 0 ? 0 : pairing.accuracySums[1] / n;
        if (!pairing.fractional) {
          const { a, b, c, d } = pairing.counts;
          out.push({
            ...shared,
            metric: "accuracy",
            baselineValue: accuracyBase,
            value: accuracy,
            delta: accuracy - accuracyBase,
            ci95: newcombePairedInterval({ a, b, c, d }),
            interval: "newcombe",
            p: mcnemarExact(b, c, { midP: compare.midP }),
            pHolm: 1,
            wins: b,
            losses: c,
            verdict: "no detectable difference",
          });
        } else {
          const diffs = pairing.accuracyDiffs.view();
          const boot = bootstrapMean(diffs, { resamples: compare.bootstrap, seed });
          out.push({
            ...shared,
            metric: "accuracy",
            baselineValue: accuracyBase,
            value: accuracy,
            delta: boot.mean,
            ci95: boot.ci95,
            interval: "bootstrap",
            p: boot.p,
            pHolm: 1,
            wins: countWhere(diffs, (v) => v > 0),
            losses: countWhere(diffs, (v) => v < 0),
            verdict: "no detectable difference",
          });
        }
        if (pairing.graded) {
          const boot = bootstrapMean(pairing.scoreDiffs.view(), {
            resamples: compare.bootstrap,
            seed: seed + 1,
          });
          out.push({
            ...shared,
            metric: "score",
            baselineValue: n === 0 ? 0 : pairing.scoreSums[0] / n,
            value: n === 0 ? 0 : pairing.scoreSums[1] / n,
            delta: boot.mean,
            ci95: boot.ci95,
            interval: "bootstrap",
            p: boot.p,
            pHolm: 1,
            wins: pairing.scoreWins,
            losses: pairing.scoreLosses,
            verdict: "no detectable difference",
          });
        }
      }
      for (const metric of ["accuracy", "score"] as const) {
        const family = out.filter((c) => c.metric === metric);
        const adjusted = holmAdjust(family.map((c) => c.p));
        family.forEach((c, i) => {
          c.pHolm = adjusted[i];
          c.verdict = verdictOf(c.delta, c.pHolm, compare.alpha);
        });
      }
      markBestOfSweeps(out, options.sweeps);
      return out;
    },
  };
}

/** better / worse when the adjusted p is below α, else no detectable difference. */
export function verdictOf(delta: number, pHolm: number, alpha: number): Comparison["verdict"] {
  if (pHolm < alpha && delta > 0) return "better";
  if (pHolm < alpha && delta < 0) return "worse";
  return "no detectable difference";
}

function countWhere(values: Float64Array, test: (v: number) => boolean): number {
  let count = 0;
  for (const v of values) if (test(v)) count++;
  return count;
}

/** Within each sweep (variants of one configured prompt on one provider), marks the variant with the highest accuracy. */
function markBestOfSweeps(comparisons: Comparison[], sweeps: Map<string, string> | undefined): void {
  if (!sweeps || sweeps.size === 0) return;
  const groups = new Map<string, Comparison[]>();
  for (const c of comparisons) {
    if (c.metric !== "accuracy") continue;
    const base = sweeps.get(c.prompt);
    if (base === undefined) continue;
    const k = variantKey(base, c.provider);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const best = group.reduce((top, c) => (c.value > top.value ? c : top), group[0]);
    best.best = true;
  }
}

/** A sweep's variants → its configured id, from a record's config (prompts with a `baseId`). */
export function sweepsOf(prompts: { id: string; baseId?: string; sweep?: unknown }[]): Map<string, string> {
  return new Map(prompts.filter((p) => p.sweep !== undefined).map((p) => [p.id, p.baseId ?? p.id]));
}
