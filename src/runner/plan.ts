/**
 * `promptsmith plan`: before paying for a comparison, how small a difference the configured cases
 * can show, and how many cases a difference the user cares about needs. McNemar's test on paired
 * cases, planned with Connor's formula (stats/power.ts).
 */
import { basename } from "node:path";
import { DEFAULT_COMPARE } from "../config/defaults.js";
import type { Suite } from "../config/types.js";
import { readRows } from "../dataset/index.js";
import { openRecordStream } from "../record/read.js";
import { createComparisonAccumulator } from "../stats/comparisons.js";
import {
  independentDiscordance,
  minimumDetectableDifference,
  type PlanResult,
  pairedSampleSize,
  unpairedSampleSize,
} from "../stats/power.js";
import { createSummaryAccumulator } from "../stats/summary.js";

/** Options of {@link plan}. */
export interface PlanOptions {
  suite: Suite;
  /** A results file of an earlier run: the baseline's accuracy and how often variants disagree. */
  from?: string;
  /** The difference in accuracy to plan for (0.03 = 3 points). */
  delta?: number;
  alpha?: number;
  power?: number;
}

export type { PlanResult };

/** The baseline accuracy assumed when no results file says otherwise. */
export const ASSUMED_ACCURACY = 0.5;

/** Plans a paired comparison for a suite's cases. */
export async function plan(options: PlanOptions): Promise<PlanResult> {
  const { suite } = options;
  const alpha = options.alpha ?? suite.compare?.alpha ?? DEFAULT_COMPARE.alpha;
  const power = options.power ?? 0.8;
  let cases = 0;
  for await (const _row of readRows(suite.tests.path)) cases++;

  const assumptions: string[] = [];
  let baseline: PlanResult["baseline"] = { accuracy: ASSUMED_ACCURACY };
  let discordance: PlanResult["discordance"];
  if (options.from) {
    const measured = await measure(options.from, suite.baseline);
    baseline = measured.baseline;
    discordance = measured.discordance;
  } else {
    assumptions.push(
      `the baseline's accuracy is taken as ${ASSUMED_ACCURACY * 100}% (the hardest case to plan for); --from results.json uses a measured one`,
    );
  }
  const psi = (delta: number) =>
    discordance
      ? Math.max(discordance.value, delta)
      : independentDiscordance(baseline.accuracy, baseline.accuracy + delta);
  if (!discordance) {
    assumptions.push(
      "variants are taken to be right or wrong independently of each other; real variants of one model agree more often, so this asks for more cases than needed (--from with a results file of two variants measures it)",
    );
  }
  const detectable = minimumDetectableDifference(cases, baseline.accuracy, {
    alpha,
    power,
    discordance: psi,
  });
  const result: PlanResult = { cases, alpha, power, baseline, detectable, assumptions };
  if (discordance) result.discordance = discordance;
  if (options.delta !== undefined) {
    const target = Math.min(1, baseline.accuracy + options.delta);
    result.needed = {
      delta: options.delta,
      paired: pairedSampleSize(options.delta, psi(options.delta), { alpha, power }),
      unpaired: unpairedSampleSize(baseline.accuracy, target, { alpha, power }),
    };
  }
  return result;
}

/**
 * The baseline's accuracy in an earlier run (the config's baseline, else the record's, else its
 * first variant) and the share of cases on which another variant disagreed with it.
 */
async function measure(
  path: string,
  configured: Suite["baseline"],
): Promise<{ baseline: PlanResult["baseline"]; discordance?: PlanResult["discordance"] }> {
  const stream = await openRecordStream(path);
  const summary = createSummaryAccumulator();
  let pairing: ReturnType<typeof createComparisonAccumulator> | undefined;
  let base: { prompt?: string; provider?: string } | undefined = configured ?? stream.header.config.baseline;
  for await (const result of stream.cases) {
    summary.add(result);
    base ??= { prompt: result.prompt, provider: result.provider };
    pairing ??= createComparisonAccumulator({ baseline: base, compare: DEFAULT_COMPARE, seed: 1 });
    pairing.add(result);
  }
  const rows = summary.rows();
  const row =
    rows.find(
      (r) => (base?.prompt ?? r.prompt) === r.prompt && (base?.provider ?? r.provider) === r.provider,
    ) ?? rows[0];
  const name = basename(path);
  const baseline = row
    ? { accuracy: row.accuracy, from: name, variant: `${row.prompt} · ${row.provider}` }
    : { accuracy: ASSUMED_ACCURACY };
  const pairs = (pairing?.comparisons() ?? []).filter((c) => c.metric === "accuracy" && c.n > 0);
  if (pairs.length === 0) return { baseline };
  // The variants closest to the baseline disagree least; planning takes the typical one (the median).
  const shares = pairs.map((c) => (c.wins + c.losses) / c.n).sort((a, b) => a - b);
  const value = shares[Math.floor((shares.length - 1) / 2)];
  return {
    baseline,
    discordance: {
      value,
      from: name,
      pairs: pairs.map((c) => `${c.prompt} · ${c.provider}`).join(", "),
    },
  };
}
