import { Chalk } from "chalk";
import type { CaseResult, RunRecord, SummaryRow } from "../record/types.js";
import { comparisonLines, failedGateLines } from "./comparisons.js";
import { leakLines } from "./leaks.js";
import { compactNumber, duration, oneLine, percent, sanitizeForTerminal, showValue } from "./text.js";

/** Options of the terminal report. */
export interface TerminalReportOptions {
  /** Use colours (the CLI turns this off for NO_COLOR and non-TTY output). */
  color?: boolean;
  /** How many failing cases to show (default 5). */
  maxFailures?: number;
  /** Terminal width for cutting long lines (default 100). */
  width?: number;
}

/** The human report of a run: a table of variants, then the first failures. */
export function renderTerminalReport(record: RunRecord, options: TerminalReportOptions = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = Math.max(60, options.width ?? 100);
  const lines: string[] = [];

  const calls = record.summary.reduce((n, row) => n + row.total, 0);
  const hits = record.summary.reduce((n, row) => n + (row.cacheHits ?? 0), 0);
  const elapsed = record.finishedAt
    ? Date.parse(record.finishedAt) - Date.parse(record.startedAt)
    : undefined;
  const title = [
    record.config.description,
    `${calls} ${calls === 1 ? "job" : "jobs"}`,
    hits > 0 ? `${hits} from cache` : undefined,
    judgeLine(record),
    costLine(record),
    elapsed !== undefined ? duration(elapsed) : undefined,
  ]
    .filter(Boolean)
    .join(" · ");
  lines.push(c.bold(`promptsmith · ${sanitizeForTerminal(title)}`));
  if (record.status === "interrupted")
    lines.push(c.yellow("interrupted: the numbers cover the cases that finished"));
  if (record.status === "stopped") lines.push(c.yellow(`stopped early: ${record.stopReason ?? "see above"}`));
  lines.push("");

  const sampled = record.summary.some((r) => r.samples);
  const drawn = record.summary.some((r) => r.draws);
  const header = [
    "prompt",
    "provider",
    "accuracy",
    "95% CI",
    "parsed",
    "pass",
    "fail",
    "err",
    "unparsed",
    "p50",
    "tokens in/out",
  ];
  if (sampled) header.push("single", "agree");
  if (drawn) header.push("draws mean ± sd");
  const repeated = record.summary.some((r) => r.repeat);
  if (repeated) header.push("pass@k", "pass^k", "flaky");
  // Each scorer's own column when the cases carry per-scorer results: mean score, then pass rate.
  const scorerNames = [...new Set(record.summary.flatMap((r) => Object.keys(r.scorers ?? {})))];
  header.push(...scorerNames.map((name) => sanitizeForTerminal(name)));
  const best = Math.max(...record.summary.map((r) => r.accuracy));
  const rows = record.summary.map((row) => [
    ...summaryCells(row),
    ...(sampled
      ? [
          row.samples ? percent(row.samples.singleAccuracy) : "–",
          row.samples ? percent(row.samples.agreement, 0) : "–",
        ]
      : []),
    ...(drawn ? [row.draws ? `${percent(row.draws.mean)} ± ${(row.draws.sd * 100).toFixed(1)}` : "–"] : []),
    ...(repeated
      ? row.repeat
        ? [percent(row.repeat.passAtK), percent(row.repeat.passHatK), String(row.repeat.flaky)]
        : ["–", "–", "–"]
      : []),
    ...scorerNames.map((name) => {
      const s = row.scorers?.[name];
      return s ? `${s.mean.toFixed(2)} ${percent(s.passRate, 0)}` : "–";
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = new Set(header.map((_, i) => i).filter((i) => i >= 2 && i !== 3));
  const pad = (text: string, i: number) =>
    numeric.has(i) ? text.padStart(widths[i]) : text.padEnd(widths[i]);
  lines.push(c.dim(header.map(pad).join("  ")));
  record.summary.forEach((row, index) => {
    const cells = rows[index].map(pad);
    cells[2] = row.accuracy === best && record.summary.length > 1 ? c.green.bold(cells[2]) : c.bold(cells[2]);
    if (row.errors > 0) cells[7] = c.red(cells[7]);
    if (row.unparsed > 0) cells[8] = c.yellow(cells[8]);
    lines.push(cells.join("  "));
  });

  if (sampled)
    lines.push(
      c.dim("accuracy is the majority vote over the samples (maj@n); single is one sample's accuracy"),
    );
  if (repeated) {
    const row = record.summary.find((r) => r.repeat)!;
    lines.push(
      c.dim(
        `each case ran ${row.repeat!.k} times; accuracy counts a case passed when ${row.repeat!.require === "majority" ? "most" : row.repeat!.require} of its runs passed; pass@k: any passed, pass^k: all passed`,
      ),
    );
  }
  if (scorerNames.length > 0)
    lines.push(
      c.dim(`${scorerNames.map(sanitizeForTerminal).join(", ")}: each scorer's mean score and pass rate`),
    );
  lines.push(...intervalChart(record, c, width));
  lines.push(...sweepCharts(record, c, width));
  const leaks = leakLines(record);
  if (leaks.length > 0) lines.push("", ...leaks);
  lines.push(...comparisonLines(record.comparisons ?? [], c, { alpha: record.config.compare?.alpha }));
  lines.push(...failedGateLines(record.gates, c));

  const failures = record.cases.filter((r) => !r.pass);
  const totalFailing = record.summary.reduce((n, row) => n + row.total - row.passed, 0);
  const shown = pickFailures(failures, options.maxFailures ?? 5);
  if (shown.length > 0) {
    lines.push("", c.bold(`Failures (${shown.length} of ${totalFailing})`));
    for (const result of shown) lines.push(...failureLines(result, c, width));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Accuracy per variant on one 0–100% scale: the 95% interval as a bar, the accuracy as a dot, so
 * overlapping intervals (no clear winner) show at a glance. Plain characters without colour.
 */
function intervalChart(record: RunRecord, c: InstanceType<typeof Chalk>, width: number): string[] {
  const rows = record.summary;
  if (rows.length === 0) return [];
  const names = rows.map((row) => sanitizeForTerminal(`${row.prompt} · ${row.provider}`));
  const nameWidth = Math.min(32, Math.max(...names.map((n) => n.length)));
  // Two spaces of indent, two between name and bar, then "  70.0%  40–89%".
  const barWidth = Math.max(10, Math.min(50, width - nameWidth - 22));
  const best = Math.max(...rows.map((r) => r.accuracy));
  const at = (value: number) => Math.round(Math.min(1, Math.max(0, value)) * (barWidth - 1));
  const scale = Array.from({ length: barWidth }, () => " ");
  for (const [label, start] of [
    ["0%", 0],
    ["50%", at(0.5) - 1],
    ["100%", barWidth - 4],
  ] as const) {
    for (let i = 0; i < label.length; i++) scale[start + i] = label[i];
  }
  const lines = [
    "",
    c.bold("accuracy and its 95% interval"),
    `${" ".repeat(nameWidth + 4)}${c.dim(scale.join("").trimEnd())}`,
  ];
  rows.forEach((row, index) => {
    const [low, high, dot] = [at(row.ci95[0]), at(row.ci95[1]), at(row.accuracy)];
    const dotMark = row.accuracy === best && rows.length > 1 ? c.green.bold("●") : c.bold("●");
    const bar =
      c.dim("·".repeat(Math.min(low, dot))) +
      c.cyan("━".repeat(Math.max(0, dot - low))) +
      dotMark +
      c.cyan("━".repeat(Math.max(0, high - dot))) +
      c.dim("·".repeat(barWidth - 1 - Math.max(high, dot)));
    const name = oneLine(names[index], nameWidth).padEnd(nameWidth);
    const interval = `${percent(row.ci95[0], 0)}–${percent(row.ci95[1], 0)}`;
    lines.push(`  ${name}  ${bar}  ${percent(row.accuracy).padStart(6)}  ${c.dim(interval)}`);
  });
  return lines;
}

const SPARKS = "▁▂▃▄▅▆▇█";

/** The judges' tokens, in and out, over the whole run (the table's tokens are the answers'). */
function judgeLine(record: RunRecord): string | undefined {
  let prompt = 0;
  let completion = 0;
  for (const row of record.summary) {
    for (const usage of Object.values(row.judgeTokens ?? {})) {
      prompt += usage.prompt;
      completion += usage.completion;
    }
  }
  return prompt + completion > 0
    ? `judges ${compactNumber(prompt)}/${compactNumber(completion)} tokens`
    : undefined;
}

/** The run's estimated spend at list price (answers and judges), when a provider has a price and something was spent. */
function costLine(record: RunRecord): string | undefined {
  const cost = record.summary.reduce((sum, row) => sum + (row.cost ?? 0), 0);
  return cost > 0 ? `≈$${cost.toFixed(cost < 1 ? 4 : 2)}` : undefined;
}

/**
 * For prompts swept over `k`: a sparkline of accuracy against k (on the 0–100% scale), one per
 * provider and combination of the other swept values, and the values themselves as far as they fit.
 */
function sweepCharts(record: RunRecord, c: InstanceType<typeof Chalk>, width: number): string[] {
  const sweeps = new Map(
    record.config.prompts.filter((p) => p.sweep && "k" in p.sweep).map((p) => [p.id, p]),
  );
  if (sweeps.size === 0) return [];
  const groups = new Map<string, { k: number; accuracy: number }[]>();
  for (const row of record.summary) {
    const prompt = sweeps.get(row.prompt);
    if (!prompt?.sweep) continue;
    const { k, ...others } = prompt.sweep;
    const rest = Object.entries(others)
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(",");
    const key = `${prompt.baseId ?? prompt.id}${rest ? ` (${rest})` : ""} · ${row.provider}`;
    groups.set(key, [...(groups.get(key) ?? []), { k: Number(k), accuracy: row.accuracy }]);
  }
  const charted = [...groups].filter(([, points]) => points.length >= 2);
  if (charted.length === 0) return [];
  const titleWidth = Math.min(40, Math.max(...charted.map(([title]) => sanitizeForTerminal(title).length)));
  const lines = ["", c.bold("accuracy by k")];
  for (const [title, points] of charted) {
    points.sort((a, b) => a.k - b.k);
    const spark = points
      .map((p) => SPARKS[Math.round(Math.min(1, Math.max(0, p.accuracy)) * (SPARKS.length - 1))])
      .join("");
    const head = `  ${oneLine(sanitizeForTerminal(title), titleWidth).padEnd(titleWidth)}  ${c.green(spark)}  `;
    const room = width - (titleWidth + points.length + 6);
    const at = (p: { k: number; accuracy: number }) => `k=${p.k} ${percent(p.accuracy)}`;
    const best = points.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    // Every value when they fit, else the ends and the best, else the best alone.
    const choices = [
      points.map(at).join(" · "),
      `${at(points[0])} … ${at(points[points.length - 1])}, best ${at(best)}`,
      `best ${at(best)}`,
    ];
    const values = choices.find((text) => text.length <= room) ?? choices[choices.length - 1];
    lines.push(`${head}${c.dim(values)}`);
  }
  return lines;
}

/**
 * Failures worth reading: different cases first (a sweep fails the same case in every variant),
 * then the rest in order.
 */
function pickFailures(failures: CaseResult[], max: number): CaseResult[] {
  const seen = new Set<string>();
  const distinct = failures.filter((f) => !seen.has(f.id) && seen.add(f.id));
  const rest = failures.filter((f) => !distinct.includes(f));
  return [...distinct, ...rest].slice(0, max);
}

function summaryCells(row: SummaryRow): string[] {
  return [
    sanitizeForTerminal(row.prompt),
    sanitizeForTerminal(row.provider),
    percent(row.accuracy),
    `${percent(row.ci95[0], 0)}–${percent(row.ci95[1], 0)}`,
    row.compliance === undefined ? "–" : percent(row.compliance, 0),
    String(row.passed),
    String(row.failed),
    String(row.errors),
    String(row.unparsed),
    row.total > row.errors ? duration(row.latencyMs.p50) : "–",
    `${compactNumber(row.tokens.prompt)}/${compactNumber(row.tokens.completion)}`,
  ];
}

function failureLines(result: CaseResult, c: InstanceType<typeof Chalk>, width: number): string[] {
  const mark = result.error ? c.red("!") : result.unparsed ? c.yellow("?") : c.red("✗");
  const where = `${result.prompt} · ${result.provider} · case ${result.id}`;
  const lines = [`  ${mark} ${sanitizeForTerminal(where)}`];
  if (result.error) {
    lines.push(
      `    ${c.red(sanitizeForTerminal(oneLine(`${result.error.kind}: ${result.error.message}`, width - 4)))}`,
    );
    return lines;
  }
  const expected = sanitizeForTerminal(oneLine(showValue(result.expected), 40));
  const extracted =
    result.extracted === null ? c.yellow("(nothing)") : sanitizeForTerminal(oneLine(result.extracted, 40));
  lines.push(`    expected ${c.green(expected)}  extracted ${c.red(extracted)}`);
  // Most scorers' reasons restate expected vs extracted; show the reason only when it says more.
  const reason = sanitizeForTerminal(oneLine(result.reason, width - 4));
  if (!/^expected\b/.test(result.reason)) lines.push(c.dim(`    ${reason}`));
  if (result.output)
    lines.push(c.dim(`    output: ${sanitizeForTerminal(oneLine(result.output, width - 12))}`));
  return lines;
}
