import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { UserErrorCode } from "../errors.js";
import type { NormalizeContext } from "./context.js";
import { DATASET_EXTENSIONS } from "./defaults.js";
import { didYouMean } from "./did-you-mean.js";
import type { ConfigPath } from "./source.js";

/** Whether a path is a file, a directory or nothing. */
export async function pathKind(absolute: string): Promise<"file" | "directory" | undefined> {
  try {
    const info = await stat(absolute);
    return info.isDirectory() ? "directory" : "file";
  } catch {
    return undefined;
  }
}

/** What a missing file is called in messages and which code reports it. */
export interface FileRole {
  /** e.g. "template", "dataset". */
  what: string;
  code: UserErrorCode;
}

/**
 * Resolves `written` against the config's directory and checks that a file is there; reports a
 * problem at `at` otherwise, suggesting a near-miss name from the same directory when there is one.
 */
export function resolveExistingFile(
  ctx: NormalizeContext,
  at: ConfigPath,
  written: string,
  role: FileRole,
): Promise<string | undefined> {
  return resolveExisting(ctx, at, written, role, "file");
}

/** As resolveExistingFile, for a directory (a trailing slash is fine). */
export function resolveExistingDirectory(
  ctx: NormalizeContext,
  at: ConfigPath,
  written: string,
  role: FileRole,
): Promise<string | undefined> {
  return resolveExisting(ctx, at, written, role, "directory");
}

async function resolveExisting(
  ctx: NormalizeContext,
  at: ConfigPath,
  written: string,
  role: FileRole,
  want: "file" | "directory",
): Promise<string | undefined> {
  const absolute = path.resolve(ctx.baseDir, written);
  const kind = await pathKind(absolute);
  if (kind === want) return absolute;
  if (kind !== undefined) {
    ctx.problems.add({
      code: role.code,
      path: at,
      message: `expected a ${role.what} ${want}, received the ${kind} ${JSON.stringify(written)}`,
      hint: want === "file" ? "name a file inside it" : "name the directory that holds the files",
    });
    return undefined;
  }
  // A trailing slash (`docs/`) would make the near-miss lookup read the wrong directory.
  const bare = written.replace(/[\\/]+$/, "");
  ctx.problems.add({
    code: role.code,
    path: at,
    message:
      want === "file"
        ? `${role.what} not found: ${JSON.stringify(written)} (no file at ${absolute})`
        : `${role.what} directory not found: ${JSON.stringify(written)} (no directory at ${absolute})`,
    hint: await nearMissHint(path.resolve(ctx.baseDir, bare || "."), bare, ctx.baseDir),
  });
  return undefined;
}

async function nearMissHint(absolute: string, written: string, baseDir: string): Promise<string> {
  const relativeNote = `paths are relative to the config's directory, ${baseDir}`;
  let entries: string[];
  try {
    entries = await readdir(path.dirname(absolute));
  } catch {
    return relativeNote;
  }
  const guess = didYouMean(path.basename(absolute), entries);
  if (!guess) return relativeNote;
  // Keep the user's own spelling of the directory part so the suggestion can be pasted back.
  const slash = Math.max(written.lastIndexOf("/"), written.lastIndexOf("\\"));
  return `did you mean "${written.slice(0, slash + 1)}${guess}"?`;
}

/** Checks that a dataset path has an extension the dataset readers understand. */
export function checkDatasetExtension(ctx: NormalizeContext, at: ConfigPath, written: string): boolean {
  const extension = path.extname(written).toLowerCase();
  if ((DATASET_EXTENSIONS as readonly string[]).includes(extension)) return true;
  ctx.problems.add({
    path: at,
    message: `expected a dataset file (${DATASET_EXTENSIONS.join(" ")}), received ${JSON.stringify(written)}`,
    hint:
      extension === ".tsv" || extension === ".txt"
        ? "save it as .csv, or as .jsonl with one JSON object per line"
        : "rename or convert it to one of those formats",
  });
  return false;
}
