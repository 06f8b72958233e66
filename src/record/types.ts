import type { ChatMessage, TokenUsage } from "../providers/types.js";

/** The run-record version; bump it when a field changes meaning or goes away. */
export const RECORD_VERSION = 1;

/** A failed call, recorded on its case instead of ending the run. */
export interface CaseError {
  kind: string;
  message: string;
}

/** The outcome of one job (prompt × provider × case). */
export interface CaseResult {
  id: string;
  prompt: string;
  provider: string;
  vars: Record<string, unknown>;
  messages: ChatMessage[];
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
  prompts: { id: string; templatePath?: string; template: string; shots?: unknown }[];
  tests: { path: string; expected: string };
  scorers: Record<string, unknown>[];
}

/** The contract between the runner and every reporter. */
export interface RunRecord {
  version: typeof RECORD_VERSION;
  runId?: string;
  startedAt: string;
  finishedAt?: string;
  status?: RunStatus;
  /** Why the run stopped early, when it did. */
  stopReason?: string;
  config: RecordConfig;
  summary: SummaryRow[];
  cases: CaseResult[];
}
