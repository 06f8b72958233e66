import { appendFileSync } from "node:fs";
import { type RunRecord, renderGithub } from "../index.js";
import type { CliIo } from "./io.js";

/**
 * Under GitHub Actions (`GITHUB_ACTIONS=true`), and only there: appends the Markdown report to the
 * job's step summary (`$GITHUB_STEP_SUMMARY`) and prints the annotations (`::error` for each failed
 * gate, `::warning` for a high unparsed share). They go to stdout, where the runner reads workflow
 * commands, unless stdout carries JSON for a script (`--json`): then to stderr, which it reads too.
 */
export function writeGithubOutputs(record: RunRecord, io: CliIo, options: { json?: boolean } = {}): void {
  if (io.env.GITHUB_ACTIONS !== "true") return;
  const { summary, annotations } = renderGithub(record);
  const summaryPath = io.env.GITHUB_STEP_SUMMARY;
  if (summaryPath) {
    try {
      appendFileSync(summaryPath, `${summary}\n`);
    } catch (error) {
      // The run's results are written; a summary the runner cannot take is worth a line, not a failure.
      io.stderr.write(
        `warning: could not append the step summary to ${summaryPath}: ${(error as Error).message}\n`,
      );
    }
  }
  const out = options.json ? io.stderr : io.stdout;
  for (const line of annotations) out.write(`${line}\n`);
}
