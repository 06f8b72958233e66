import type { ChatMessage, TokenUsage } from "../providers/types.js";

/** The run-record version; bump it when a field changes meaning or goes away. */
export const RECORD_VERSION = 1;

/** A failed call, recorded on its case instead of ending the run. */
export interface CaseError {
  kind: string;
  message: string;
}

/** One generation of a case sampled several times (self-consistency). */
export interface SampleResult {
  output: string;
  reasoning?: string | null;
  extracted: string | null;
  pass: boolean;
  unparsed: boolean;
  cached?: boolean;
}

/** The second call of two-stage answer extraction. */
export interface ExtractionRecord {
  messages: ChatMessage[];
  output: string;
}

/** The outcome of one job (prompt × provider × case, and × draw when shots are re-drawn). */
export interface CaseResult {
  id: string;
  prompt: string;
  provider: string;
  /** Which shot draw this is, when the prompt re-draws its examples (`shots.draws` > 1). */
  draw?: number;
  vars: Record<string, unknown>;
  messages: ChatMessage[];
  /** Ids of the few-shot examples in the prompt, in order. */
  shots?: string[];
  /** Retrieved passages given to the template as `context`. */
  context?: { source: string; index: number; score: number }[];
  /** Short hash of the rendered messages. */
  promptHash?: string;
  /** The model's answer with any <think> reasoning removed; null when the call failed. */
  output: string | null;
  /** Reasoning the model wrapped in <think>…</think>, kept out of scoring. */
  reasoning?: string | null;
  extracted: string | null;
  expected: unknown;
  pass: boolean;
  score: number;
  reason: string;
  /** No answer could be extracted from the output (counted apart from wrong answers). */
  unparsed: boolean;
  latencyMs: number;
  tokens: TokenUsage;
  /** Whether the response came from the cache. */
  cached?: boolean;
  /** Every generation, when the prompt samples several (the case's verdict is their majority vote). */
  samples?: SampleResult[];
  /** Share of samples that voted for the winning answer. */
  agreement?: number;
  /** The extraction call of the (first) sample, when the prompt has `extract`. */
  extraction?: ExtractionRecord;
  error: CaseError | null;
}

/** Aggregate numbers for one prompt × provider. */
export interface SummaryRow {
  prompt: string;
  provider: string;
  total: number;
  passed: number;
  /** Answered and wrong (unparsed and errored cases are counted apart). */
  failed: number;
  errors: number;
  unparsed: number;
  /** passed / total: an errored case is not passed. */
  accuracy: number;
  /** 95% Wilson score interval of the accuracy. */
  ci95: [number, number];
  latencyMs: { p50: number; p95: number };
  tokens: TokenUsage;
  /** Responses served from the cache. */
  cacheHits?: number;
  /** Self-consistency: maj@n is `accuracy`; this is the mean single-sample accuracy and agreement. */
  samples?: { n: number; singleAccuracy: number; agreement: number };
  /** Shot draws: accuracy of each draw, their mean and standard deviation. */
  draws?: { n: number; accuracies: number[]; mean: number; sd: number };
}

/** How a run ended. */
export type RunStatus = "complete" | "interrupted" | "stopped";

/** The config as it was run: enough to reproduce the run, never a secret. */
export interface RecordConfig {
  description?: string;
  configPath: string;
  providers: {
    id: string;
    label: string;
    baseURL?: string;
    params: Record<string, unknown>;
    completions?: boolean;
  }[];
  prompts: {
    id: string;
    baseId?: string;
    sweep?: Record<string, unknown>;
    templatePath?: string;
    template: string;
    shots?: unknown;
    cot?: string;
    samples?: number;
    params?: Record<string, unknown>;
    context?: unknown;
    extract?: unknown;
  }[];
  tests: { path: string; expected: string };
  scorers: Record<string, unknown>[];
}

/** The contract between the runner and every reporter. */
export interface RunRecord {
  version: typeof RECORD_VERSION;
  runId?: string;
  /** The suite's seed: every random choice of the run derives from it. */
  seed?: number;
  /** Set when this record is one shard of a larger run (`--shard i/n`). */
  shard?: { index: number; count: number };
  /** Set when the run took only part of its config: `--limit`, `--filter-prompt`, `--filter-provider`. */
  selection?: { limit?: number; filterPrompt?: string[]; filterProvider?: string[] };
  startedAt: string;
  finishedAt?: string;
  status?: RunStatus;
  /** Why the run stopped early, when it did. */
  stopReason?: string;
  config: RecordConfig;
  summary: SummaryRow[];
  cases: CaseResult[];
}
