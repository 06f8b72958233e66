/** The promptsmith library: everything the CLI does, callable from code. */

export { unreadBatches } from "./batch/batch-ledger.js";
export { defaultProviderNote, loadConfig } from "./config/index.js";
export type { PromptSpec, ShotsSpec, Suite, TestsSpec } from "./config/types.js";
export type { Case } from "./dataset/types.js";
export { formatUserError, isUserError, UserError, type UserErrorCode } from "./errors.js";
export { type Estimate, type EstimateOptions, type EstimateRow, estimate } from "./estimate/estimate.js";
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
export type { LeakFinding, LeakPlace, LeakReport } from "./record/leak-report.js";
export { type ReadRecordOptions, readRecord } from "./record/read.js";
export type {
  CaseLeak,
  CaseResult,
  CompareRecord,
  Comparison,
  GateResult,
  LeakCounts,
  RunRecord,
  SampleResult,
  SummaryRow,
} from "./record/types.js";
export { createRecordWriter, writeRecord } from "./record/writer.js";
export { renderCalibration } from "./reporters/calibration.js";
export { renderCompareMarkdown, renderCompareTerminal } from "./reporters/compare.js";
export { renderEstimate } from "./reporters/estimate.js";
export {
  type FileReporter,
  isReportPath,
  type PlannedOutputs,
  planOutputs,
  type ReportOptions,
  splitOutputs,
  writeComparisonReport,
  writeReport,
  writeReportsFrom,
} from "./reporters/files.js";
export {
  escapeCommandData,
  escapeCommandProperty,
  type GithubOptions,
  type GithubOutputs,
  renderGithub,
  UNPARSED_WARNING,
  workflowCommand,
} from "./reporters/github.js";
export { type ComparisonLabels, renderHtmlComparison, renderHtmlReport } from "./reporters/html/render.js";
export { renderJsonSummary } from "./reporters/json.js";
export { type JunitOptions, renderJunit } from "./reporters/junit.js";
export {
  leakLine,
  leakLines,
  leakNote,
  renderLeakFinding,
  renderLeakSummary,
} from "./reporters/leaks.js";
export {
  type Align,
  comparisonsTable,
  escapeMarkdown,
  fencedBlock,
  formatP,
  gatesList,
  type MarkdownReportOptions,
  markdownTable,
  renderMarkdownReport,
  summaryTable,
} from "./reporters/markdown.js";
export { renderPlan } from "./reporters/plan.js";
export { type RunDiffReportOptions, renderRunDiff } from "./reporters/run-diff.js";
export { renderTerminalReport, type TerminalReportOptions } from "./reporters/terminal.js";
export { sanitizeForTerminal } from "./reporters/text.js";
export { type CalibrateOptions, type Calibration, calibrateJudge } from "./runner/calibrate.js";
export { type CheckLeaksOptions, checkLeaks } from "./runner/check-leaks.js";
export { type CompareOptions, compareRecordFiles } from "./runner/compare.js";
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
export { type PlanOptions, type PlanResult, plan } from "./runner/plan.js";
export { type RenderedPrompt, type RenderPromptOptions, renderPrompt } from "./runner/render.js";
export { type RunPromptOptions, type RunPromptResult, runPrompt } from "./runner/run-prompt.js";
export {
  requestText,
  type SnapshotChange,
  type SnapshotOptions,
  type SnapshotRequest,
  type SnapshotRequestId,
  type SnapshotResult,
  snapshot,
  snapshotPath,
} from "./runner/snapshot.js";
export { type WatchOptions, type WatchRun, watchEvaluate, watchedFiles } from "./runner/watch.js";
export type { ScoreInput, ScoreResult, Scorer, ScorerSpec } from "./scorers/types.js";
export {
  type ServeOptions,
  type ServerHandle,
  type ServerOptions,
  serve,
  startServer,
} from "./server/index.js";
export { wilsonInterval } from "./stats/interval.js";
export { cohenKappa, type Kappa } from "./stats/kappa.js";
export { bootstrapMean, holmAdjust, mcnemarExact, newcombePairedInterval } from "./stats/paired.js";
export { minimumDetectableDifference, pairedSampleSize } from "./stats/power.js";
export {
  type DiffInput,
  diffRuns,
  type RunDiff,
  type RunDiffFlip,
  type RunDiffVariant,
} from "./stats/run-diff.js";
export { openCache, type ResponseCache } from "./store/cache.js";
export { killedRun } from "./store/resume.js";
export { renderPromptText } from "./templates/index.js";
