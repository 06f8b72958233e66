import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { CONFIG_FILE_NAMES } from "./defaults.js";
import { pathKind } from "./files.js";
import { buildSuite } from "./normalize.js";
import type { ConfigInput } from "./schema.js";
import { createInlineSource, parseConfigSource } from "./source.js";
import type { Suite } from "./types.js";

/** Options of `loadConfig`. */
export interface LoadConfigOptions {
  /** Environment for defaults (PROMPTSMITH_MODEL); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory a relative config path is resolved against; default process.cwd(). */
  cwd?: string;
}

/** Options of `parseConfig`. */
export interface ParseConfigOptions extends LoadConfigOptions {
  /** The config's file name, as shown in error locations; resolved against cwd for `Suite.configPath`. */
  file: string;
  /** Directory relative paths in the config are resolved against; default the file's directory. */
  baseDir?: string;
}

/** Options of `createSuite`. */
export interface CreateSuiteOptions {
  /** Directory relative paths in the config are resolved against; default process.cwd(). */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Name used in error locations; default "<inline>". */
  file?: string;
}

/** The config file a path stands for: the file itself, or the first of CONFIG_FILE_NAMES in a directory. */
export async function findConfigFile(target: string): Promise<string | undefined> {
  const kind = await pathKind(target);
  if (kind === "file") return target;
  if (kind !== "directory") return undefined;
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = path.join(target, name);
    if ((await pathKind(candidate)) === "file") return candidate;
  }
  return undefined;
}

/**
 * Loads, validates and normalizes a config. `configPath` is a file (.yaml, .yml, .json) or a
 * directory holding promptsmith.yaml/.yml/.json; default the current directory.
 */
export async function loadConfig(configPath?: string, options: LoadConfigOptions = {}): Promise<Suite> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const target = path.resolve(cwd, configPath ?? ".");
  const file = await findConfigFile(target);
  if (!file) {
    const isDirectory = (await pathKind(target)) === "directory";
    throw new UserError({
      code: "config-not-found",
      message: isDirectory
        ? `no ${CONFIG_FILE_NAMES.slice(0, -1).join(", ")} or ${CONFIG_FILE_NAMES.at(-1)} in ${displayPath(target, cwd)}`
        : `config not found: ${displayPath(target, cwd)}`,
      location: isDirectory ? undefined : { file: displayPath(target, cwd) },
      hint: isDirectory
        ? "run `promptsmith init` to create one, or pass the config file's path"
        : "check the path, or run `promptsmith init` to create a config",
    });
  }
  const text = await readFile(file, "utf8");
  return parseConfig(text, {
    file: displayPath(file, cwd),
    baseDir: path.dirname(file),
    env: options.env,
    cwd,
  });
}

/** Parses and validates config text (YAML or JSON); for tests and the library API. */
export async function parseConfig(text: string, options: ParseConfigOptions): Promise<Suite> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const configPath = path.resolve(cwd, options.file);
  const baseDir = path.resolve(cwd, options.baseDir ?? path.dirname(configPath));
  const source = parseConfigSource(text, options.file);
  return buildSuite(source, { configPath, baseDir, env: options.env ?? process.env });
}

/** Validates and normalizes a config built in code (see `defineConfig`); locations name only the file. */
export async function createSuite(raw: unknown, options: CreateSuiteOptions = {}): Promise<Suite> {
  const source = createInlineSource(raw, options.file ?? "<inline>");
  const baseDir = path.resolve(options.baseDir ?? process.cwd());
  return buildSuite(source, { configPath: "<inline>", baseDir, env: options.env ?? process.env });
}

/** Types a config written in code; returns it unchanged (validation happens in `createSuite`). */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}

// Paths inside the working directory print relative, as the user would type them.
function displayPath(absolute: string, cwd: string): string {
  const relative = path.relative(cwd, absolute);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : absolute;
}
