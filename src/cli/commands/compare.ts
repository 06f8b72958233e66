import {
  compareRecordFiles,
  renderCompareMarkdown,
  renderCompareTerminal,
  UserError,
  workflowCommand,
} from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import { type CliIo, useColor } from "../io.js";

/** `promptsmith compare base.json head.json`: paired differences, flips, and the regression gate. */
export async function compareCommand(
  base: string,
  head: string,
  flags: FlagValues<"format" | "json" | "failOnRegression" | "alpha" | "maxDrop">,
  io: CliIo,
): Promise<number> {
  const format = flags.json ? "json" : (flags.format ?? "terminal");
  if (!["terminal", "markdown", "json"].includes(format)) {
    throw new UserError({
      code: "usage",
      field: "--format",
      message: `unknown format "${format}"`,
      hint: "use --format terminal, markdown or json",
    });
  }
  if (flags.maxDrop !== undefined && !flags.failOnRegression) {
    throw new UserError({
      code: "usage",
      field: "--max-drop",
      message: "it sets how a regression is judged, and no regression gate was asked for",
      hint: "add --fail-on-regression",
    });
  }
  const record = await compareRecordFiles(base, head, {
    compare: flags.alpha !== undefined ? { alpha: flags.alpha } : undefined,
    failOnRegression: flags.failOnRegression,
    maxDrop: flags.maxDrop,
  });
  io.stdout.write(
    format === "json"
      ? `${JSON.stringify(record, null, 2)}\n`
      : format === "markdown"
        ? renderCompareMarkdown(record)
        : renderCompareTerminal(record, {
            color: useColor(io.stdout, io.env),
            width: io.stdout.columns ?? 100,
          }),
  );
  const failed = (record.gates ?? []).filter((gate) => !gate.passed);
  // Markdown and JSON on stdout are data (a comment, a script's input): the gates go to stderr.
  const side = format === "terminal" ? io.stdout : io.stderr;
  if (format !== "terminal")
    for (const gate of failed) side.write(`gate failed: ${gate.rule}: ${gate.message}\n`);
  // Under GitHub Actions, and only there, each failed gate is an annotation on the run.
  if (io.env.GITHUB_ACTIONS === "true") {
    for (const gate of failed)
      side.write(
        `${workflowCommand("error", { title: `promptsmith gate failed: ${gate.rule}` }, gate.message)}\n`,
      );
  }
  return failed.length > 0 ? ExitCode.gateFailed : ExitCode.ok;
}
