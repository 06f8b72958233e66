import { UserError } from "../../errors.js";
import {
  loadConfig,
  type SnapshotChange,
  type SnapshotRequestId,
  sanitizeForTerminal,
  snapshot,
} from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import { type CliIo, useColor } from "../io.js";
import { tuneHeapForLongRuns } from "../v8-flags.js";

/** Changed requests whose diff is printed in full; past them a line each, then a count. */
const FULL_DIFFS = 20;
/** Lines naming changed, added or removed requests, diffs aside, before the rest is only counted. */
const LISTED = 200;

/**
 * `promptsmith snapshot`: write every request the config would send to the snapshot file beside
 * it; `--check` compares instead and exits 1 with a diff per changed request.
 */
export async function snapshotCommand(
  configPath: string | undefined,
  flags: FlagValues<"check" | "update">,
  io: CliIo,
): Promise<number> {
  if (flags.check && flags.update) {
    throw new UserError({
      code: "usage",
      field: "--check",
      message: "--check and --update ask for opposite things",
      hint: "--check compares (for CI); --update writes the file again (after a change you meant)",
    });
  }
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  // Every request passes through memory once: as for eval, the heap grows in small steps.
  tuneHeapForLongRuns();
  if (!flags.check) {
    const result = await snapshot({ suite, mode: "write" });
    if (result.unreadable)
      io.stderr.write(
        `warning: the old snapshot could not be read (${sanitizeForTerminal(result.unreadable)}); it is replaced by the one written now\n`,
      );
    const since =
      result.existed && !result.unreadable
        ? result.changed + result.added + result.removed + result.settings === 0
          ? "; no request changed"
          : `; since the last one: ${counts(result)}${settingsNote(result)}`
        : "";
    io.stderr.write(`snapshot written to ${result.path}: ${plural(result.requests, "request")}${since}\n`);
    return ExitCode.ok;
  }

  const color = useColor(io.stdout, io.env);
  const paint = color ? await painter() : undefined;
  let diffs = 0;
  let listed = 0;
  const print = (change: SnapshotChange) => {
    if (change.kind === "setting") {
      // Few, and each stands for many requests: always in full.
      const title = `${change.status}: ${sanitizeForTerminal(change.setting)}`;
      io.stdout.write(
        `${paint ? paint.bold(title) : title}\n${colorDiff(sanitizeForTerminal(change.diff()), paint)}\n`,
      );
      return;
    }
    const title = `${change.kind}: ${describe(change.request)}`;
    if (change.kind === "changed" && diffs < FULL_DIFFS) {
      diffs++;
      io.stdout.write(
        `${paint ? paint.bold(title) : title}\n${colorDiff(sanitizeForTerminal(change.diff()), paint)}\n`,
      );
      return;
    }
    if (listed++ < LISTED) io.stdout.write(`${title}\n`);
  };
  const result = await snapshot({ suite, mode: "check", onChange: print });
  const requestDifferences = result.changed + result.added + result.removed;
  const differences = requestDifferences + result.settings;
  if (differences === 0) {
    io.stderr.write(`snapshot matches: ${plural(result.requests, "request")} as in ${result.path}\n`);
    return ExitCode.ok;
  }
  const unlisted = requestDifferences - diffs - Math.min(listed, LISTED);
  if (unlisted > 0) io.stdout.write(`… and ${plural(unlisted, "more difference")}\n`);
  io.stderr.write(
    `snapshot differs from ${result.path}: ${counts(result)} of ${plural(result.requests, "request")}${settingsNote(result)}\n` +
      "  hint: if the change is meant, run promptsmith snapshot --update and commit the file\n",
  );
  return ExitCode.gateFailed;
}

function describe(request: SnapshotRequestId): string {
  const parts = [
    `case ${JSON.stringify(request.case)}`,
    `prompt ${JSON.stringify(request.prompt)}`,
    `provider ${JSON.stringify(request.provider)}`,
  ];
  if (request.draw !== undefined) parts.push(`draw ${request.draw}`);
  return sanitizeForTerminal(parts.join(" · "));
}

function counts(result: { changed: number; added: number; removed: number }): string {
  return `${result.changed} changed, ${result.added} added, ${result.removed} removed`;
}

/** The setting lines (extraction templates, judges) that differ, when any do. */
function settingsNote(result: { settings: number }): string {
  if (result.settings === 0) return "";
  return `; ${plural(result.settings, "setting")} (extraction template, judge) ${result.settings === 1 ? "differs" : "differ"}`;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? word : `${word}s`}`;
}

type Paint = Awaited<ReturnType<typeof painter>>;

async function painter() {
  const { Chalk } = await import("chalk");
  const c = new Chalk({ level: 1 });
  return { bold: c.bold, red: c.red, green: c.green, cyan: c.cyan };
}

function colorDiff(diff: string, paint: Paint | undefined): string {
  if (!paint) return diff;
  return diff
    .split("\n")
    .map((line) =>
      line.startsWith("@@")
        ? paint.cyan(line)
        : line.startsWith("-")
          ? paint.red(line)
          : line.startsWith("+")
            ? paint.green(line)
            : line,
    )
    .join("\n");
}
