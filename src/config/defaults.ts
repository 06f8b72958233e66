import type { ProviderSpec } from "../providers/types.js";
import type { ScorerSpec } from "../scorers/types.js";

/** File names looked for, in this order, when the config path is a directory. */
export const CONFIG_FILE_NAMES = ["promptsmith.yaml", "promptsmith.yml", "promptsmith.json"] as const;

/** The model used when a config names no provider and PROMPTSMITH_MODEL is unset. */
export const DEFAULT_MODEL = "gpt-4o-mini";

/** The dataset field holding the gold answer when `tests.expected` is not given. */
export const DEFAULT_EXPECTED_FIELD = "expected";

/** Dataset extensions the dataset readers understand. */
export const DATASET_EXTENSIONS = [".jsonl", ".ndjson", ".json", ".csv", ".yaml", ".yml"] as const;

/**
 * The providers of a config that names none. Kept in this one place because the default is
 * expected to move to an embedded local model.
 */
export function defaultProviders(env: NodeJS.ProcessEnv = process.env): ProviderSpec[] {
  // An empty PROMPTSMITH_MODEL would make the invalid id "openai:", so it counts as unset.
  const model = env.PROMPTSMITH_MODEL?.trim() || DEFAULT_MODEL;
  const id = `openai:${model}`;
  return [{ id, label: id, params: {} }];
}

/** The scorers of a config that names none. */
export function defaultScorers(): ScorerSpec[] {
  return [{ type: "exact" }];
}
