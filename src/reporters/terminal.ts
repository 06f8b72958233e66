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
  lines.push(...sweepCharts(record, c));
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

/** For prompts swept over `k`: accuracy against k, one bar per value, per provider and other swept values. */
function sweepCharts(record: RunRecord, c: InstanceType<typeof Chalk>): string[] {
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
  const lines: string[] = [];
  for (const [title, points] of groups) {
    if (points.length < 2) continue;
    lines.push("", c.bold(`accuracy by k: ${sanitizeForTerminal(title)}`));
    const width = Math.max(...points.map((p) => String(p.k).length));
    for (const point of points.sort((a, b) => a.k - b.k)) {
      const filled = Math.round(point.accuracy * 20);
      lines.push(
        `  k=${String(point.k).padEnd(width)}  ${c.green("█".repeat(filled))}${c.dim("░".repeat(20 - filled))}  ${percent(point.accuracy)}`,
      );
    }
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
