/** `promptsmith plan` as a short table. */
import type { PlanResult } from "../stats/power.js";
import { percent, sanitizeForTerminal } from "./text.js";

const points = (delta: number) => (Number.isFinite(delta) ? `${(delta * 100).toFixed(1)} points` : "none");
const count = (n: number) => (Number.isFinite(n) ? n.toLocaleString("en-US") : "more than any dataset");

/** The plan in a few lines: what the configured cases can show, and what a named difference needs. */
export function renderPlan(plan: PlanResult): string {
  const rows: [string, string][] = [
    ["cases in the dataset", count(plan.cases)],
    [
      "baseline accuracy",
      `${percent(plan.baseline.accuracy)}${plan.baseline.from ? ` (${plan.baseline.variant} in ${plan.baseline.from})` : " (assumed)"}`,
    ],
  ];
  if (plan.discordance)
    rows.push([
      "cases where variants disagree",
      `${percent(plan.discordance.value)} (${plan.discordance.pairs} against the baseline in ${plan.discordance.from})`,
    ]);
  rows.push([`smallest gain ${count(plan.cases)} cases can show`, points(plan.detectable)]);
  if (plan.needed) {
    rows.push([`cases needed for a gain of ${points(plan.needed.delta)}`, count(plan.needed.paired)]);
    rows.push(["  (an unpaired test would need, per variant)", count(plan.needed.unpaired)]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    `promptsmith plan · McNemar's test on paired cases · α ${plan.alpha} · power ${percent(plan.power, 0)}`,
    "",
    ...rows.map(([label, value]) => `${label.padEnd(width)}  ${sanitizeForTerminal(value)}`),
  ];
  if (plan.assumptions.length > 0) lines.push("", ...plan.assumptions.map((a) => `assumed: ${a}`));
  return `${lines.join("\n")}\n`;
}
