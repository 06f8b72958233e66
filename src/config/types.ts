import type { ProviderSpec } from "../providers/types.js";
import type { ScorerSpec } from "../scorers/types.js";

/** How few-shot examples are chosen for each case. */
export type ShotSelect = "first" | "random" | "balanced" | "similar" | "embedding";

/** The embedding model of `select: embedding`, and the endpoint (a suite provider's) that serves it. */
export interface EmbeddingSpec {
  /** Embedding model name (default `text-embedding-3-small`). */
  model: string;
  /** Base URL of the provider's endpoint; undefined means OPENAI_BASE_URL, else the OpenAI API. */
  baseURL?: string;
  /** Name of the environment variable holding the API key (never the key itself). */
  apiKeyEnv?: string;
}

/** Where the few-shot examples of a prompt come from, and how they are chosen and shown. */
export interface ShotsSpec {
  /** Absolute path of the examples file, or `builtin:<name>`. */
  from: string;
  /** Number of examples. */
  k: number;
  /** Selection strategy (default `first`). */
  select: ShotSelect;
  /** Seed of `random` selection and `random` order (default: the suite's seed). */
  seed: number;
  /** The text field compared for `similar`/`embedding` (default `question`). */
  field: string;
  /** The label field balanced over by `balanced` (default `answer`). */
  label: string;
  /** `block`: the template gets `shots`; `turns`: examples become user/assistant turns (default `block`). */
  as: "block" | "turns";
  /** Order of the chosen examples (default `as-is`). */
  order: "as-is" | "reverse" | "random";
  /** Drop examples until the rendered prompt fits this many tokens. */
  maxTokens?: number;
  /** Re-draw random shot sets with this many seeds and report mean ± sd across draws (default 1). */
  draws: number;
  /** The embedding model and endpoint; set when `select` is `embedding` or `embedding:` was written. */
  embedding?: EmbeddingSpec;
  /**
   * What to do with examples that copy a case: `exclude` exact and near-copies, `warn` (keep and flag
   * both), `allow` (no check). Absent (the default): exact copies excluded, near-copies flagged.
   */
  leak?: "exclude" | "warn" | "allow";
}

/** Retrieval of reference passages for knowledge-enhanced prompts. */
export interface ContextSpec {
  /** Absolute path of a directory of .md/.txt files. */
  corpus: string;
  /** Passages per case (default 3). */
  k: number;
  /** The case field used as the query (default `question`). */
  field: string;
  /** `copies`: drop retrieved passages that copy the case's question; absent: keep and flag them. */
  exclude?: "copies";
}

/** A second call that asks for the final answer given the reasoning (two-stage extraction). */
export interface ExtractSpec {
  templatePath?: string;
  /** Template source; it gets the case variables plus `output` (the first answer). */
  template: string;
}

/** One prompt variant under comparison (after sweeps are expanded, one per combination). */
export interface PromptSpec {
  /** The variant id: the configured id, plus `@k=4,select=similar` for a sweep combination. */
  id: string;
  /** The id as configured, before sweep expansion. */
  baseId: string;
  /** The swept values of this variant, keyed by field name (`{ k: 4, select: "similar" }`); absent when not swept. */
  sweep?: Record<string, unknown>;
  /** Absolute path of the template file; undefined when the template is inline. */
  templatePath?: string;
  /** The template source (read from templatePath, or the inline `text:`). */
  template: string;
  shots?: ShotsSpec;
  /** Zero-shot chain-of-thought trigger appended at the answer position (`cot: true` → "Let's think step by step."). */
  cot?: string;
  extract?: ExtractSpec;
  /** Generations per case for self-consistency (default 1). */
  samples: number;
  /** Generation parameters for this prompt; they override the provider's (e.g. temperature for samples). */
  params?: Record<string, unknown>;
  context?: ContextSpec;
  /** Gates for this prompt's variants, over the config's `thresholds:` (`prompts[].thresholds`). */
  thresholds?: Thresholds;
}

/**
 * Quality gates: a variant that misses one fails the run (exit 1). `unparsed` and `errors` are a
 * count when 1 or more, a share of the cases below 1 (as --max-errors).
 */
export interface Thresholds {
  /** Lowest accuracy allowed. */
  accuracy?: number;
  /** Lowest lower bound of the accuracy's 95% interval allowed. */
  accuracyLower?: number;
  /** Lowest mean score allowed. */
  score?: number;
  /** Most unparsed answers allowed. */
  unparsed?: number;
  /** Most errored cases allowed. */
  errors?: number;
}

/** How paired comparisons are computed and judged. */
export interface CompareSettings {
  /** Level of the verdicts and the regression gate (default 0.05). */
  alpha: number;
  /** Bootstrap resamples for graded scores (default 10,000). */
  bootstrap: number;
  /** McNemar's mid-p instead of the exact p (default false). */
  midP: boolean;
  /** An errored case counts as a failed one (`fail`, default) or leaves its pair (`exclude`). */
  onError: "fail" | "exclude";
}

/** Where the test cases come from. */
export interface TestsSpec {
  /** Absolute path of the dataset (.jsonl .json .csv .yaml/.yml). */
  path: string;
  /** The field holding the gold answer; default `expected`. */
  expected: string;
}

/** A loaded, validated and normalized config: every path absolute, every default filled in. */
export interface Suite {
  description?: string;
  /** Absolute path of the config file ("<inline>" for configs built in code). */
  configPath: string;
  /** Directory relative paths in the config were resolved against. */
  baseDir: string;
  providers: ProviderSpec[];
  prompts: PromptSpec[];
  tests: TestsSpec;
  scorers: ScorerSpec[];
  /** Directory of partials (`templates/partials` beside the config), when it exists. */
  partialsDir?: string;
  /** The seed of every random choice that names no other (default 1); recorded in the run. */
  seed: number;
  /** The response cache (default on, at `.promptsmith/cache.db` beside the config). */
  cache: { enabled: boolean; path: string };
  /** Where run journals go (default `.promptsmith/runs` beside the config). */
  runsDir: string;
  /** How many of this config's run journals to keep; older ones are removed when a run starts (default 10). */
  keepRuns: number;
  /**
   * Set when the config leaves a provider to a default: one line for each (which provider answers
   * when it names none; which grades for a judge that names none).
   */
  providerNote?: string;
  /**
   * The variant every other is compared with, paired by case: a prompt (`baseline:`), a provider
   * (`baselineProvider:`), or both. Absent: no comparisons.
   */
  baseline?: { prompt?: string; provider?: string };
  compare: CompareSettings;
  /** Gates for every variant (`thresholds:`); a prompt's own override them. */
  thresholds?: Thresholds;
  /** Every case run `k` times; a case counts as passed by `require` (default 1, majority). */
  repeat: { k: number; require: "all" | "majority" | "any" };
  /** How a list of scorers makes one verdict: weighted mean and pass threshold (else all must pass). */
  combine?: { weights?: number[] | Record<string, number>; threshold: number };
}
