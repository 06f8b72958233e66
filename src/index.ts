/** The promptsmith library: everything the CLI does, callable from code. */
export { defaultProviderNote, loadConfig } from "./config/index.js";
export type { PromptSpec, ShotsSpec, Suite, TestsSpec } from "./config/types.js";
export type { Case } from "./dataset/types.js";
export { formatUserError, isUserError, UserError, type UserErrorCode } from "./errors.js";
export { type InitProjectOptions, initProject } from "./init/init-project.js";
export { createProvider } from "./providers/index.js";
export type {
  ChatMessage,
  CompletionRequest,
  CompletionResponse,
  Provider,
  ProviderSpec,
} from "./providers/types.js";
export { isProviderError, ProviderError } from "./providers/types.js";
export { type ReadRecordOptions, readRecord } from "./record/read.js";
export type {
  CaseLeak,
  CaseResult,
  LeakCounts,
  RunRecord,
  SampleResult,
  SummaryRow,
} from "./record/types.js";
export { createRecordWriter, writeRecord } from "./record/writer.js";
export { renderEstimate } from "./reporters/estimate.js";
export {
  type FileReporter,
  isReportPath,
  splitOutputs,
  writeReport,
  writeReportsFrom,
} from "./reporters/files.js";
export { renderJsonSummary } from "./reporters/json.js";
export {
  leakLine,
  leakLines,
  leakNote,
  renderLeakFinding,
  renderLeakSummary,
} from "./reporters/leaks.js";
export { renderTerminalReport, type TerminalReportOptions } from "./reporters/terminal.js";
export { unreadBatches } from "./runner/batch-ledger.js";
export { openCache, type ResponseCache } from "./runner/cache.js";
export {
  type CheckLeaksOptions,
  checkLeaks,
  type LeakFinding,
  type LeakPlace,
  type LeakReport,
} from "./runner/check-leaks.js";
export { type Estimate, type EstimateOptions, type EstimateRow, estimate } from "./runner/estimate.js";
export {
  checkResultsPath,
  type EvaluateOptions,
  type EvaluateProgress,
  type EvaluateResult,
  evaluate,
  type RateLimitReport,
  type Shard,
} from "./runner/evaluate.js";
export { type MergeFilesOptions, mergeRecordFiles, mergeRecords } from "./runner/merge.js";
export { type RenderedPrompt, type RenderPromptOptions, renderPrompt } from "./runner/render.js";
export { killedRun } from "./runner/resume.js";
export { type RunPromptOptions, type RunPromptResult, runPrompt } from "./runner/run-prompt.js";
export type { ScoreInput, ScoreResult, Scorer, ScorerSpec } from "./scorers/types.js";
export { type ServeOptions, serve, startServer } from "./server/index.js";
export { wilsonInterval } from "./stats/interval.js";
export { renderPromptText } from "./templates/index.js";
