// The config room's public surface.
export {
  CONFIG_FILE_NAMES,
  DATASET_EXTENSIONS,
  DEFAULT_EXPECTED_FIELD,
  defaultProviders,
  defaultScorers,
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
export type { ConfigInput } from "./schema.js";
export { isScorerType, SCORER_TYPES, type ScorerType, scorerOptionSchemas } from "./scorer-specs.js";
export type { PromptSpec, ShotsSpec, Suite, TestsSpec } from "./types.js";
