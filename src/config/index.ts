// The config room's public surface.
export {
  BUILTIN_POOL_NAMES,
  CONFIG_FILE_NAMES,
  CONTEXT_DEFAULTS,
  DATASET_EXTENSIONS,
  DEFAULT_CACHE_PATH,
  DEFAULT_COT_TRIGGER,
  DEFAULT_EXPECTED_FIELD,
  DEFAULT_RUNS_DIR,
  DEFAULT_SEED,
  defaultProviderNote,
  defaultProviders,
  defaultScorers,
  MAX_PROMPT_VARIANTS,
  SHOTS_DEFAULTS,
} from "./defaults.js";
export {
  type CreateSuiteOptions,
  createSuite,
  defineConfig,
  findConfigFile,
  type LoadConfigOptions,
  loadConfig,
  type ParseConfigOptions,
  parseConfig,
} from "./load.js";
export { isProviderId } from "./provider-specs.js";
export type { ConfigInput, SweepableField } from "./schema.js";
export { isScorerType, SCORER_TYPES, type ScorerType, scorerOptionSchemas } from "./scorer-specs.js";
export {
  countVariants,
  expandSweeps,
  type SweepAxis,
  type SweepValue,
  type SweepVariant,
  sweepNames,
} from "./sweep.js";
export { SWEEPABLE_FIELDS } from "./sweep-values.js";
export type {
  ContextSpec,
  ExtractSpec,
  PromptSpec,
  ShotSelect,
  ShotsSpec,
  Suite,
  TestsSpec,
} from "./types.js";
