import { defaultLocalModelRef } from "../models.js";
import type { ProviderSpec } from "../providers/types.js";
import type { ScorerSpec } from "../scorers/types.js";
import type { CompareSettings } from "./types.js";

/** File names looked for, in this order, when the config path is a directory. */
export const CONFIG_FILE_NAMES = ["promptsmith.yaml", "promptsmith.yml", "promptsmith.json"] as const;

/** The model used when a config names no provider and PROMPTSMITH_MODEL is unset. */
export const DEFAULT_MODEL = "gpt-4o-mini";

/** The dataset field holding the gold answer when `tests.expected` is not given. */
export const DEFAULT_EXPECTED_FIELD = "expected";

/** Dataset extensions the dataset readers understand. */
export const DATASET_EXTENSIONS = [".jsonl", ".ndjson", ".json", ".csv", ".yaml", ".yml"] as const;

/** Whether the environment points at an OpenAI-compatible endpoint (or names a model for one). */
function hasOpenAIEndpoint(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.OPENAI_API_KEY?.trim() || env.OPENAI_BASE_URL?.trim() || env.PROMPTSMITH_MODEL?.trim());
}

/**
 * The providers of a config that names none: an OpenAI-compatible endpoint when the environment
 * names one (OPENAI_API_KEY, OPENAI_BASE_URL or PROMPTSMITH_MODEL), else the built-in local model,
 * so a fresh machine with no account and no server still gets a real evaluation.
 */
export function defaultProviders(env: NodeJS.ProcessEnv = process.env): ProviderSpec[] {
  if (hasOpenAIEndpoint(env)) {
    // An empty PROMPTSMITH_MODEL would make the invalid id "openai:", so it counts as unset.
    const model = env.PROMPTSMITH_MODEL?.trim() || DEFAULT_MODEL;
    const id = `openai:${model}`;
    return [{ id, label: id, params: {} }];
  }
  const ref = defaultLocalModelRef(env);
  const name = ref
    .split("/")
    .at(-1)!
    .replace(/\.gguf$/i, "");
  return [{ id: `local:${ref}`, label: `local:${name}`, params: {} }];
}

/** The one line that says which provider a config without providers runs on, and why. */
export function defaultProviderNote(env: NodeJS.ProcessEnv = process.env): string {
  const [spec] = defaultProviders(env);
  if (spec.id.startsWith("openai:")) {
    return `no providers in the config: using ${spec.id}${env.OPENAI_BASE_URL?.trim() ? ` at ${env.OPENAI_BASE_URL.trim()}` : ""}`;
  }
  return `no providers in the config and no OPENAI_API_KEY or OPENAI_BASE_URL: using the built-in local model ${spec.id.slice("local:".length)}`;
}

/** The scorers of a config that names none. */
export function defaultScorers(): ScorerSpec[] {
  return [{ type: "exact" }];
}

/** The suite seed when the config gives none. */
export const DEFAULT_SEED = 1;

/** Where the response cache lives, relative to the config's directory, when `cache.path` is not given. */
export const DEFAULT_CACHE_PATH = ".promptsmith/cache.db";

/** Where run journals go, relative to the config's directory, when `runsDir` is not given. */
export const DEFAULT_RUNS_DIR = ".promptsmith/runs";

/**
 * How many run journals of a config are kept. A journal holds every result of its run (a
 * million-job run writes over 500 MB), and only the newest runs are ever resumed or retried.
 */
export const DEFAULT_KEEP_RUNS = 10;

/** The zero-shot chain-of-thought trigger that `cot: true` stands for. */
export const DEFAULT_COT_TRIGGER = "Let's think step by step.";

/** Shot settings a config may leave out (`seed` defaults to the suite's seed). */
export const SHOTS_DEFAULTS = {
  select: "first",
  field: "question",
  label: "answer",
  as: "block",
  order: "as-is",
  draws: 1,
} as const;

/** The embedding model of `select: embedding` when `shots.embedding.model` is not given. */
export const DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small";

/** Context settings a config may leave out. */
export const CONTEXT_DEFAULTS = { k: 3, field: "question" } as const;

/**
 * Names of the example pools shipped with promptsmith (`shots.from: builtin:<name>`). The config
 * room may not import fewshot/, so this list mirrors `builtinPools` there; a test keeps them equal.
 */
export const BUILTIN_POOL_NAMES = ["gsm8k-cot"] as const;

/** The most prompt variants a suite may have after sweeps are expanded. */
export const MAX_PROMPT_VARIANTS = 1000;

/** How comparisons are judged when the config says nothing: α 0.05, 10,000 bootstrap resamples, exact p, errors count as failures. */
export const DEFAULT_COMPARE: Readonly<CompareSettings> = {
  alpha: 0.05,
  bootstrap: 10_000,
  midP: false,
  onError: "fail",
};
