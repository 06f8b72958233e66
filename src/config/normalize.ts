import path from "node:path";
import { UserError } from "../errors.js";
import { normalizeComparison } from "./compare-specs.js";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import {
  DEFAULT_CACHE_PATH,
  DEFAULT_EXPECTED_FIELD,
  DEFAULT_KEEP_RUNS,
  DEFAULT_RUNS_DIR,
  DEFAULT_SEED,
  defaultProviderNote,
} from "./defaults.js";
import { checkDatasetExtension, pathKind, resolveExistingFile } from "./files.js";
import { createProblemCollector } from "./problems.js";
import { normalizePrompts } from "./prompt-specs.js";
import { normalizeProviders } from "./provider-specs.js";
import { configSchema } from "./schema.js";
import { normalizeCombine, normalizeScorers } from "./scorer-specs.js";
import type { ConfigSource } from "./source.js";
import type { Suite, TestsSpec } from "./types.js";

/** Where a config sits and what environment it is read in. */
export interface BuildSuiteOptions {
  /** Absolute path of the config file, or "<inline>". */
  configPath: string;
  /** Absolute directory that relative paths are resolved against. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Schema, then normalizing and cross-field rules, over one parsed config. Every problem found is
 * collected, and if there is any, one UserError carrying all of them is thrown.
 */
export async function buildSuite(source: ConfigSource, options: BuildSuiteOptions): Promise<Suite> {
  const raw = source.value;
  if (raw === null || raw === undefined) {
    throw new UserError({
      code: "config-invalid",
      message: "the config is empty",
      location: source.locate([]),
      hint: "add `prompts:` and `tests:`, or run `promptsmith init` for a starting point",
    });
  }
  const problems = createProblemCollector(source);

  // Normalizing looks at the raw value (guarding every access) so that a schema problem in one
  // part does not hide a missing file in another.
  const ctx: NormalizeContext = { baseDir: options.baseDir, env: options.env, problems, notes: [] };
  const fields = isRecord(raw) ? raw : {};
  const providers = normalizeProviders(fields.providers, ctx);
  const settings = normalizeSettings(fields, ctx);
  const prompts = await normalizePrompts(fields.prompts, ctx, { seed: settings.seed, providers });
  const tests = await normalizeTests(fields.tests, ctx);
  const scorers = await normalizeScorers(fields.scorer, ctx, providers);
  const combine = normalizeCombine(fields.combine, scorers, ctx, fields.scorer);
  const comparison = normalizeComparison(fields, ctx, { prompts, providers });
  // Last, so that the more specific problems found above can claim the parts they explain.
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) problems.addIssues(parsed.error.issues, configSchema);

  const error = problems.toError();
  if (error) throw error;
  if (!tests) throw new Error("config normalized without tests and without a problem");

  const suite: Suite = {
    configPath: options.configPath,
    baseDir: options.baseDir,
    providers,
    prompts,
    tests,
    scorers,
    ...settings,
    ...comparison,
  };
  if (typeof fields.description === "string") suite.description = fields.description;
  if (combine) suite.combine = combine;
  const listed = fields.providers;
  const notes = ctx.notes ?? [];
  if (listed === undefined || listed === null || (Array.isArray(listed) && listed.length === 0)) {
    notes.unshift(defaultProviderNote(options.env));
  }
  if (notes.length > 0) suite.providerNote = notes.join("\n");
  const partialsDir = path.join(options.baseDir, "templates", "partials");
  if ((await pathKind(partialsDir)) === "directory") suite.partialsDir = partialsDir;
  return suite;
}

/** The suite-wide settings: seed, response cache and runs directory, paths made absolute. */
export type SuiteSettings = Pick<Suite, "seed" | "cache" | "runsDir" | "keepRuns">;

/**
 * Reads `seed`, `cache` (`false`, `true` or `{ enabled, path }`), `runsDir` and `keepRuns`, filling in defaults;
 * a value of the wrong shape is left to the schema to report, and the default stands in meanwhile.
 */
export function normalizeSettings(fields: Record<string, unknown>, ctx: NormalizeContext): SuiteSettings {
  const seed = typeof fields.seed === "number" && Number.isInteger(fields.seed) ? fields.seed : DEFAULT_SEED;
  const cache = { enabled: true, path: path.resolve(ctx.baseDir, DEFAULT_CACHE_PATH) };
  if (typeof fields.cache === "boolean") cache.enabled = fields.cache;
  else if (isRecord(fields.cache)) {
    if (typeof fields.cache.enabled === "boolean") cache.enabled = fields.cache.enabled;
    if (isNonEmptyString(fields.cache.path)) cache.path = path.resolve(ctx.baseDir, fields.cache.path);
  }
  const runsDir = path.resolve(
    ctx.baseDir,
    isNonEmptyString(fields.runsDir) ? fields.runsDir : DEFAULT_RUNS_DIR,
  );
  const keepRuns =
    typeof fields.keepRuns === "number" && Number.isInteger(fields.keepRuns) && fields.keepRuns > 0
      ? fields.keepRuns
      : DEFAULT_KEEP_RUNS;
  return { seed, cache, runsDir, keepRuns };
}

/** Normalizes `tests` (a path, or `{ path, expected }`): path absolute, existing, of a known format. */
export async function normalizeTests(raw: unknown, ctx: NormalizeContext): Promise<TestsSpec | undefined> {
  const written = typeof raw === "string";
  const fields = written ? { path: raw } : isRecord(raw) ? raw : undefined;
  if (!fields || !isNonEmptyString(fields.path)) return undefined;
  const at = written ? ["tests"] : ["tests", "path"];
  if (!checkDatasetExtension(ctx, at, fields.path)) return undefined;
  const absolute = await resolveExistingFile(ctx, at, fields.path, {
    what: "dataset",
    code: "dataset-not-found",
  });
  if (!absolute) return undefined;
  return {
    path: absolute,
    expected: isNonEmptyString(fields.expected) ? fields.expected : DEFAULT_EXPECTED_FIELD,
  };
}
