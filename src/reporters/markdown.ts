/**
 * The Markdown report (`-o summary.md`, and the GitHub step summary): the summary table with
 * intervals, the comparisons against the baseline and the quality gates when the record has them,
 * then the first failures. Model output and dataset values are untrusted text: every one is
 * escaped for its place (a table cell, inline text, a fenced block), so no output can break a
 * table, open a link or inject HTML.
 */

import type { CaseResult, Comparison, GateResult, RunRecord, SummaryRow } from "../record/types.js";
import { formatP } from "../stats/gates.js";
import { signedDelta } from "./comparisons.js";
import { leakLines } from "./leaks.js";
import { compactNumber, duration, oneLine, percent, showValue } from "./text.js";

/** Options of the Markdown report. */
export interface MarkdownReportOptions {
  /** How many failing cases to show (default 10). */
  maxFailures?: number;
  /** Heading level of the title (default 2; the sections are one deeper). */
  headingLevel?: number;
}

/** Column alignment in a Markdown table. */
export type Align = "left" | "right";

// C0 controls but tab and newline, DEL and C1: invisible, and some break a GitHub summary's layout.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Untrusted text as one line of Markdown that reads as the text itself: whitespace runs become
 * one space, `&`, `<` and `>` become entities (no HTML gets through), the characters that open
 * inline syntax (emphasis, code, links, table pipes, strike-through, math) are backslash-escaped,
 * and so is a leading one that would start a heading, a list or a quote. An `@` that could start a
 * mention (not after a letter, digit or `_`, as in an address or a sweep's `cot@k=4`) is followed
 * by a zero-width joiner, so no output can mention (and notify) a GitHub user or team.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(CONTROL, "")
    .replace(/\s+/g, " ")
    .replace(/[\\`*_[\]|~$]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/(?<![A-Za-z0-9_])@/g, "@\u200d")
    .replace(/^(\s*)([#+\-=])/, "$1\\$2")
    .replace(/^(\s*\d+)([.)])/, "$1\\$2");
}

/** A GitHub-flavoured Markdown table; cells are used as given (escape untrusted text first). */
export function markdownTable(header: string[], rows: string[][], align: Align[] = []): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const rule = header.map((_, i) => (align[i] === "right" ? "--:" : ":--"));
  return [line(header), line(rule), ...rows.map(line)].join("\n");
}

/** A fenced code block that no backtick run inside `text` can close early. */
export function fencedBlock(text: string, language = "text"): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${text.replace(CONTROL, "")}\n${fence}`;
}

/** The summary table: one row per prompt × provider, with the accuracy's 95% interval. */
export function summaryTable(summary: SummaryRow[]): string {
  const scored = summary.some((row) => row.meanScore !== undefined);
  const compliance = summary.some((row) => row.compliance !== undefined);
  const repeated = summary.some((row) => row.repeat);
  const header = ["prompt", "provider", "accuracy", "95% CI", "pass", "fail", "err", "unparsed"];
  if (scored) header.push("score", "score 95% CI");
  if (compliance) header.push("compliance");
  if (repeated) header.push("pass@k", "pass^k", "flaky");
  header.push("p50", "tokens in/out");
  const rows = summary.map((row) => {
    const cells = [
      escapeMarkdown(row.prompt),
      escapeMarkdown(row.provider),
      `**${percent(row.accuracy)}**`,
      `${percent(row.ci95[0])} – ${percent(row.ci95[1])}`,
      String(row.passed),
      String(row.failed),
      String(row.errors),
      String(row.unparsed),
    ];
    if (scored) {
      cells.push(
        row.meanScore === undefined ? "–" : row.meanScore.toFixed(3),
        row.scoreCi95 ? `${row.scoreCi95[0].toFixed(3)} – ${row.scoreCi95[1].toFixed(3)}` : "–",
      );
    }
    if (compliance) cells.push(row.compliance === undefined ? "–" : percent(row.compliance));
    if (repeated) {
      cells.push(
        row.repeat ? `${percent(row.repeat.passAtK)} (k=${row.repeat.k})` : "–",
        row.repeat ? percent(row.repeat.passHatK) : "–",
        row.repeat ? String(row.repeat.flaky) : "–",
      );
    }
    cells.push(
      row.total > row.errors ? duration(row.latencyMs.p50) : "–",
      `${compactNumber(row.tokens.prompt)} / ${compactNumber(row.tokens.completion)}`,
    );
    return cells;
  });
  const align: Align[] = header.map((_, i) => (i < 2 ? "left" : "right"));
  return markdownTable(header, rows, align);
}

/** A difference as signed percentage points (accuracy) or a signed score difference. */
function signed(value: number, metric: Comparison["metric"]): string {
  // The terminal's text, without the space that keeps its columns aligned (it would break **bold**).
  return `${signedDelta(value, metric).trim()}${metric === "accuracy" ? " pp" : ""}`;
}

export { formatP };

const VERDICT_MARK: Record<Comparison["verdict"], string> = {
  better: "🟢 better",
  worse: "🔴 worse",
  "no detectable difference": "⚪ no detectable difference",
};

/** The paired comparisons against the baseline: Δ with its 95% interval, p, Holm's p, wins/losses, verdict. */
export function comparisonsTable(comparisons: Comparison[]): string {
  const header = [
    "variant",
    "baseline",
    "metric",
    "pairs",
    "Δ",
    "95% CI",
    "p",
    "p (Holm)",
    "wins / losses",
    "verdict",
  ];
  const rows = comparisons.map((c) => [
    `${escapeMarkdown(`${c.prompt} · ${c.provider}`)}${c.best ? " ★" : ""}`,
    escapeMarkdown(`${c.baseline.prompt} · ${c.baseline.provider}`),
    c.metric,
    c.excluded > 0 ? `${c.n} (${c.excluded} excluded)` : String(c.n),
    `**${signed(c.delta, c.metric)}**`,
    `${signed(c.ci95[0], c.metric)} … ${signed(c.ci95[1], c.metric)}`,
    formatP(c.p),
    formatP(c.pHolm),
    `${c.wins} / ${c.losses}`,
    VERDICT_MARK[c.verdict] ?? escapeMarkdown(c.verdict),
  ]);
  const align: Align[] = header.map((_, i) => (i < 3 || i === 9 ? "left" : "right"));
  return markdownTable(header, rows, align);
}

/** The quality gates: a line of counts, then each failed gate (passed ones are only counted). */
export function gatesList(gates: GateResult[]): string {
  const failed = gates.filter((g) => !g.passed);
  const head =
    failed.length === 0
      ? `✅ all ${gates.length} ${gates.length === 1 ? "gate" : "gates"} passed`
      : `❌ ${failed.length} of ${gates.length} ${gates.length === 1 ? "gate" : "gates"} failed`;
  return [
    head,
    ...failed.map((g) => `- ❌ **${escapeMarkdown(g.rule)}**: ${escapeMarkdown(g.message)}`),
  ].join("\n");
}

/** The Markdown report of a run: title, status, summary table, comparisons, gates, first failures. */
export function renderMarkdownReport(record: RunRecord, options: MarkdownReportOptions = {}): string {
  const level = Math.min(5, Math.max(1, options.headingLevel ?? 2));
  const h = (depth: number) => "#".repeat(level + depth);
  const blocks: string[] = [];

  const title = ["promptsmith", record.config.description].filter(Boolean).join(" · ");
  blocks.push(`${h(0)} ${escapeMarkdown(title)}`);
  const jobs = record.summary.reduce((n, row) => n + row.total, 0);
  const hits = record.summary.reduce((n, row) => n + (row.cacheHits ?? 0), 0);
  const elapsed = record.finishedAt
    ? Date.parse(record.finishedAt) - Date.parse(record.startedAt)
    : undefined;
  const facts = [
    `${jobs} ${jobs === 1 ? "job" : "jobs"}`,
    hits > 0 ? `${hits} from cache` : undefined,
    elapsed !== undefined && Number.isFinite(elapsed) ? duration(elapsed) : undefined,
    record.runId ? `run \`${record.runId.replace(/`/g, "")}\`` : undefined,
    record.shard ? `shard ${record.shard.index}/${record.shard.count}` : undefined,
  ].filter(Boolean);
  blocks.push(facts.join(" · "));
  if (record.status === "interrupted")
    blocks.push("> ⚠️ **interrupted**: the numbers cover the cases that finished");
  if (record.status === "stopped")
    blocks.push(`> ⚠️ **stopped early**: ${escapeMarkdown(record.stopReason ?? "see the log")}`);

  if (record.summary.length > 0) blocks.push(summaryTable(record.summary));
  else blocks.push("_No case finished._");
  const leaks = leakLines(record);
  if (leaks.length > 0) blocks.push(leaks.map((line) => `- ${escapeMarkdown(line)}`).join("\n"));

  if (record.comparisons && record.comparisons.length > 0) {
    blocks.push(`${h(1)} Comparisons against the baseline`, comparisonsTable(record.comparisons));
  }
  if (record.gates && record.gates.length > 0) blocks.push(`${h(1)} Quality gates`, gatesList(record.gates));

  const failing = record.summary.reduce((n, row) => n + row.total - row.passed, 0);
  const shown = firstFailures(record.cases, options.maxFailures ?? 10);
  if (shown.length > 0) {
    blocks.push(`${h(1)} Failures (${shown.length} of ${failing})`);
    for (const result of shown) blocks.push(failureBlock(result));
  }
  return `${blocks.join("\n\n")}\n`;
}

/** Different cases first (a sweep fails the same case in every variant), then the rest in order. */
function firstFailures(cases: CaseResult[], max: number): CaseResult[] {
  const failures = cases.filter((c) => !c.pass);
  const seen = new Set<string>();
  const distinct = new Set(failures.filter((f) => !seen.has(f.id) && seen.add(f.id)));
  const rest = failures.filter((f) => !distinct.has(f));
  return [...distinct, ...rest].slice(0, max);
}

/** One failing case, folded: what was expected and extracted in the summary line, the output inside. */
function failureBlock(result: CaseResult): string {
  const mark = result.error ? "⚠️ error" : result.unparsed ? "❔ unparsed" : "❌ wrong";
  // The summary line is inside an HTML block, where Markdown escapes would show: entities only.
  const where = escapeHtmlText(
    `${result.prompt} · ${result.provider} · case ${result.id}${result.draw !== undefined ? ` · draw ${result.draw}` : ""}${result.repeat !== undefined ? ` · run ${result.repeat}` : ""}`,
  );
  const lines = [`<details><summary>${mark}: ${where}</summary>`, ""];
  if (result.error) {
    lines.push(
      `**${escapeMarkdown(result.error.kind)}**: ${escapeMarkdown(oneLine(result.error.message, 500))}`,
    );
  } else {
    const extracted =
      result.extracted === null ? "_(nothing)_" : escapeMarkdown(oneLine(result.extracted, 200));
    lines.push(
      `expected **${escapeMarkdown(oneLine(showValue(result.expected), 200))}** · extracted **${extracted}**`,
    );
    if (result.reason) lines.push("", escapeMarkdown(oneLine(result.reason, 500)));
    if (result.output) lines.push("", fencedBlock(clip(result.output, 2000)));
  }
  lines.push("", "</details>");
  return lines.join("\n");
}

/** Untrusted text as one line inside HTML: whitespace runs as one space, `&`, `<`, `>` as entities. */
function escapeHtmlText(text: string): string {
  return text
    .replace(CONTROL, "")
    .replace(/\s+/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}
