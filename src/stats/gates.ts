/**
 * Quality gates: the rules a CI run must meet, judged on a record's summary and comparisons.
 * A failed gate is what exit code 1 means, and nothing else sets it.
 */
import type { Thresholds } from "../config/types.js";
import type { Comparison, GateResult, RecordConfig, SummaryRow } from "../record/types.js";

/** The regression gate: `--fail-on-regression [--alpha] [--max-drop]`. */
export interface RegressionRule {
  /** Level at which a loss counts as real (on Holm's adjusted p). */
  alpha: number;
  /** Fail on a loss of more than this many percentage points, whatever the p-value. */
  maxDrop?: number;
  /** What the variants were compared with, for the messages: "the baseline", "base.json". */
  against: string;
}

/** What the gates are judged on. */
export interface GateInput {
  summary: SummaryRow[];
  comparisons?: Comparison[];
  /** Gates for every variant, and per prompt id (a prompt's own override the shared ones). */
  thresholds?: { all?: Thresholds; byPrompt?: Map<string, Thresholds> };
  regression?: RegressionRule;
}

/** A record's thresholds: the config's for every variant, and each prompt's own. */
export function thresholdsOf(config: RecordConfig): GateInput["thresholds"] | undefined {
  const byPrompt = new Map<string, Thresholds>();
  for (const prompt of config.prompts) if (prompt.thresholds) byPrompt.set(prompt.id, prompt.thresholds);
  if (!config.thresholds && byPrompt.size === 0) return undefined;
  return { all: config.thresholds, byPrompt };
}

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const points = (delta: number) => `${(Math.abs(delta) * 100).toFixed(1)} points`;

/** A count (≥ 1) or a share of the cases (< 1), as --max-errors reads it. */
function overLimit(
  count: number,
  total: number,
  limit: number,
): { actual: number; over: boolean; shown: string } {
  if (limit >= 1) return { actual: count, over: count > limit, shown: `${count} (limit ${limit})` };
  const share = total === 0 ? 0 : count / total;
  return { actual: share, over: share > limit, shown: `${pct(share)} (limit ${pct(limit)})` };
}

/**
 * Every gate the config and flags ask for, judged on every variant: passed ones too, so a report
 * can show what was checked. The message of a failed gate says which rule, on which variant, with
 * the numbers.
 */
export function judgeGates(input: GateInput): GateResult[] {
  const gates: GateResult[] = [];
  for (const row of input.summary) {
    const rules = { ...input.thresholds?.all, ...input.thresholds?.byPrompt?.get(row.prompt) };
    const who = `${row.prompt} · ${row.provider}`;
    const at = { prompt: row.prompt, provider: row.provider };
    if (rules.accuracy !== undefined) {
      const passed = row.accuracy >= rules.accuracy;
      gates.push({
        rule: "accuracy",
        ...at,
        passed,
        actual: row.accuracy,
        limit: rules.accuracy,
        message: `${who}: accuracy ${pct(row.accuracy)} ${passed ? "meets" : "is below"} the threshold ${pct(rules.accuracy)}`,
      });
    }
    if (rules.accuracyLower !== undefined) {
      const lower = row.ci95[0];
      const passed = lower >= rules.accuracyLower;
      gates.push({
        rule: "accuracyLower",
        ...at,
        passed,
        actual: lower,
        limit: rules.accuracyLower,
        message: `${who}: the 95% interval's lower bound ${pct(lower)} (accuracy ${pct(row.accuracy)}, ${row.total} cases) ${passed ? "meets" : "is below"} the threshold ${pct(rules.accuracyLower)}`,
      });
    }
    if (rules.score !== undefined) {
      const score = row.meanScore ?? row.accuracy;
      const passed = score >= rules.score;
      gates.push({
        rule: "score",
        ...at,
        passed,
        actual: score,
        limit: rules.score,
        message: `${who}: mean score ${score.toFixed(3)} ${passed ? "meets" : "is below"} the threshold ${rules.score}`,
      });
    }
    for (const rule of ["unparsed", "errors"] as const) {
      const limit = rules[rule];
      if (limit === undefined) continue;
      const { actual, over, shown } = overLimit(row[rule], row.total, limit);
      gates.push({
        rule,
        ...at,
        passed: !over,
        actual,
        limit,
        message: `${who}: ${rule === "errors" ? "errored cases" : "unparsed answers"} ${shown}${over ? ": too many" : ""}`,
      });
    }
  }
  const regression = input.regression;
  if (regression) {
    for (const c of input.comparisons ?? []) {
      const who = `${c.prompt} · ${c.provider}`;
      const at = { prompt: c.prompt, provider: c.provider };
      const what = c.metric === "accuracy" ? "accuracy" : "mean score";
      const numbers = `${c.metric === "accuracy" ? `${pct(c.baselineValue)} → ${pct(c.value)}` : `${c.baselineValue.toFixed(3)} → ${c.value.toFixed(3)}`}, 95% CI ${signed(c.ci95[0])} to ${signed(c.ci95[1])}, p ${formatP(c.p)} (Holm ${formatP(c.pHolm)}), ${c.wins} wins / ${c.losses} losses on ${c.n} cases`;
      const worse = c.delta < 0 && c.pHolm < regression.alpha;
      gates.push({
        rule: "regression",
        ...at,
        passed: !worse,
        actual: c.pHolm,
        limit: regression.alpha,
        message: worse
          ? `${who}: ${what} is significantly worse than ${regression.against} (${numbers}; Holm p < α ${regression.alpha})`
          : `${who}: ${what} not significantly worse than ${regression.against} (${numbers})`,
      });
      if (regression.maxDrop !== undefined && c.metric === "accuracy") {
        const dropped = -c.delta * 100;
        const over = dropped > regression.maxDrop;
        gates.push({
          rule: "max-drop",
          ...at,
          passed: !over,
          actual: dropped,
          limit: regression.maxDrop,
          message: `${who}: accuracy ${c.delta < 0 ? `fell ${points(c.delta)}` : `rose ${points(c.delta)}`} against ${regression.against} (${pct(c.baselineValue)} → ${pct(c.value)})${over ? `, more than --max-drop ${regression.maxDrop}` : ""}`,
        });
      }
    }
  }
  return gates;
}

/** A difference in accuracy as signed points: +3.1, −2.0. */
function signed(delta: number): string {
  const text = (Math.abs(delta) * 100).toFixed(1);
  return delta < 0 ? `−${text}` : `+${text}`;
}

/** A p-value as people read it: 0.032, 0.0004, < 0.0001. */
export function formatP(p: number): string {
  if (p < 0.0001) return "< 0.0001";
  if (p < 0.001) return p.toFixed(4);
  return p.toFixed(3);
}
