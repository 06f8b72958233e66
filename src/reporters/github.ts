/**
 * What a run shows in GitHub Actions: the Markdown report for the job's step summary, and workflow
 * commands that annotate the run: `::error` for each failed quality gate, `::warning` for each
 * prompt × provider whose share of unparsed answers is above a threshold. Only the text is made
 * here; the CLI decides whether it runs under GitHub Actions and where the text goes.
 */
import type { RunRecord } from "../record/types.js";
import { renderMarkdownReport } from "./markdown.js";
import { percent } from "./text.js";

/** Options of the GitHub Actions outputs. */
export interface GithubOptions {
  /** A variant whose unparsed share of answers is above this gets a `::warning` (default 0.05). */
  unparsedWarning?: number;
  /** Failing cases shown in the step summary (default 10). */
  maxFailures?: number;
}

/** The step summary (Markdown) and the workflow commands (one line each, without the newline). */
export interface GithubOutputs {
  summary: string;
  annotations: string[];
}

/** The default unparsed share above which a variant is annotated with a warning. */
export const UNPARSED_WARNING = 0.05;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** A workflow command's message, escaped as the Actions toolkit does (`%`, CR, LF). */
export function escapeCommandData(text: string): string {
  return text.replace(CONTROL, "").replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A workflow command's property value, escaped as the toolkit does (the data's escapes, plus `:` and `,`). */
export function escapeCommandProperty(text: string): string {
  return escapeCommandData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** One workflow command line, e.g. `::error title=…::message`. */
export function workflowCommand(
  command: "error" | "warning" | "notice",
  properties: Record<string, string>,
  message: string,
): string {
  const props = Object.entries(properties)
    .map(([name, value]) => `${name}=${escapeCommandProperty(value)}`)
    .join(",");
  return `::${command}${props ? ` ${props}` : ""}::${escapeCommandData(message)}`;
}

/** The step summary and annotations of a run record. */
export function renderGithub(record: RunRecord, options: GithubOptions = {}): GithubOutputs {
  const threshold = options.unparsedWarning ?? UNPARSED_WARNING;
  const annotations: string[] = [];
  for (const gate of record.gates ?? []) {
    if (gate.passed) continue;
    annotations.push(
      workflowCommand("error", { title: `promptsmith gate failed: ${gate.rule}` }, gate.message),
    );
  }
  for (const row of record.summary) {
    if (row.total === 0) continue;
    const share = row.unparsed / row.total;
    if (share <= threshold) continue;
    annotations.push(
      workflowCommand(
        "warning",
        { title: "promptsmith: unparsed answers" },
        `${row.prompt} · ${row.provider}: ${row.unparsed} of ${row.total} answers (${percent(share)}) could not be read, above ${percent(threshold)}`,
      ),
    );
  }
  return { summary: renderMarkdownReport(record, { maxFailures: options.maxFailures }), annotations };
}
