/**
 * A chat message as a scorer sends or sees it: the providers' ChatMessage, restated so the scorers
 * room imports nothing of the providers.
 */
export interface ScorerMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A provider as a scorer names it (a normalized ProviderSpec, passed through to the runner as it is). */
export interface ScorerProvider {
  id: string;
  label: string;
  [field: string]: unknown;
}

/** One model call a scorer asks the run to make. */
export interface ModelCallRequest {
  provider: ScorerProvider;
  messages: ScorerMessage[];
  /** Generation parameters; they override the provider's. */
  params?: Record<string, unknown>;
}

/** The tokens a model call took (the providers' TokenUsage, restated). */
export interface ScorerUsage {
  prompt: number;
  completion: number;
}

/** What a model call returns to the scorer. */
export interface ModelCallResult {
  /** The answer, with any <think> reasoning removed. */
  output: string;
  /** The <think> reasoning, when the answer had some. */
  reasoning?: string;
  /** Whether the answer came from the response cache. */
  cached: boolean;
  /** The tokens the call took (when cached, those it took when it was asked). */
  usage: ScorerUsage;
}

/**
 * A model call through the run's cache, in-flight sharing, rate limits and budget. A failed call
 * rejects with the provider's error; the run records it on the case.
 */
export type ModelCall = (request: ModelCallRequest) => Promise<ModelCallResult>;

/** The embedding model and endpoint of `similar` (the config's EmbeddingSpec, restated). */
export interface ScorerEmbedding {
  model: string;
  baseURL?: string;
  apiKeyEnv?: string;
}

/** Embeds texts (cached); one vector per text, in order. */
export type EmbedCall = (texts: string[], spec: ScorerEmbedding) => Promise<Float32Array[]>;

/** The baseline's answer to the same case, for a pairwise judge; null when this job is the baseline. */
export type BaselineAnswer = () => Promise<{ output: string; prompt: string; provider: string } | null>;

/** What a scorer is given: the model output (reasoning already stripped), the gold answer and the case variables. */
export interface ScoreInput {
  output: string;
  expected: unknown;
  vars: Record<string, unknown>;
  /** The case's id (a judge's rubric template sees it as `caseId`); absent outside a run. */
  caseId?: string;
  /**
   * The model's whole answer (reasoning stripped) when `extract` took `output` out of it; absent
   * when the prompt has no `extract` (then it is `output`). A pairwise judge compares whole answers.
   */
  answer?: string;
  /** The rendered prompt the output answers (a judge's rubric may show it). */
  messages?: ScorerMessage[];
  /** A model call through the run (judges); absent outside a run. */
  call?: ModelCall;
  /** Embeddings through the run's cache (`similar`); absent outside a run. */
  embed?: EmbedCall;
  /** The baseline variant's answer to this case (`preference`); absent outside a run. */
  baseline?: BaselineAnswer;
}

/** One model call a scorer made, as the case keeps it. */
export interface ScorerCall {
  /** The label of the provider that answered. */
  provider: string;
  messages: ScorerMessage[];
  /** The answer, reasoning removed. */
  output: string;
  reasoning?: string;
  /** What was read from the answer: "pass"/"fail", a score, "A"/"B"/"tie"; null when nothing could be. */
  verdict: string | number | null;
  cached?: boolean;
  /** The tokens the call took, which the run adds to the case's `judgeTokens`. */
  usage?: ScorerUsage;
}

/** One scorer's own result inside a combination, as the case keeps it. */
export interface ScorePart {
  pass: boolean;
  score: number;
  reason: string;
  unparsed?: boolean;
  calls?: ScorerCall[];
}

/** A scorer's verdict. `reason` is always filled; `unparsed` means no answer could be extracted (not the same as wrong). */
export interface ScoreResult {
  pass: boolean;
  score: number;
  extracted: string | null;
  reason: string;
  unparsed?: boolean;
  /** The scorer could not judge at all (no usable expected answer, a user function that threw); `not` leaves it failed. */
  unscored?: boolean;
  /** The model calls the scorer made: a judge's messages, answer and verdict. */
  calls?: ScorerCall[];
  /** Each scorer's own result by name, when several are combined or one made model calls. */
  parts?: Record<string, ScorePart>;
}

/** A pure check built by a scorer factory. */
export type Scorer = (input: ScoreInput) => ScoreResult | Promise<ScoreResult>;

/** A scorer as written in a config: `{ type: numeric, tolerance: 1e-6 }`. */
export interface ScorerSpec {
  type: string;
  [option: string]: unknown;
}
