import type { CompareSettings, Thresholds } from "../config/types.js";
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
  /** Which run of the case this is, when the prompt repeats every case (`repeat: k`), from 0. */
  repeat?: number;
  /** Contamination guard: the examples and passages found to be copies of this case; absent when none. */
  leaks?: CaseLeak[];
  /**
   * Each scorer's own result by name (its `name:`, else its type), when several scorers are
   * combined or one asked a model (a judge: its messages, answer and verdict are in `calls`).
   */
  scores?: Record<string, ScorerScore>;
  error: CaseError | null;
  /**
   * The tokens of the model calls the scorers made (judges), every sample's, by the label of the
   * provider that answered; absent when none. `tokens` is the answers' own.
   */
  judgeTokens?: Record<string, TokenUsage>;
}

/** One scorer's result on a case. */
export interface ScorerScore {
  pass: boolean;
  score: number;
  reason: string;
  unparsed?: boolean;
  /** The model calls the scorer made: a judge's, or both orders of a pairwise judge. */
  calls?: ScorerCallRecord[];
}

/** A call a scorer made to a model, as asked and answered. */
export interface ScorerCallRecord {
  /** The label of the provider that answered. */
  provider: string;
  messages: ChatMessage[];
  /** The answer, <think> reasoning removed. */
  output: string;
  reasoning?: string;
  /** What was read from the answer: "pass"/"fail", a score, "A"/"B"/"tie"; null when it could not be read. */
  verdict: string | number | null;
  cached?: boolean;
  /** The tokens the call took (absent in records written before judges' tokens were kept). */
  usage?: TokenUsage;
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
  /** Format compliance: the share of cases whose answer could be read (neither unparsed nor errored). */
  compliance?: number;
  /** Mean score over the cases (errored cases score 0), with its seeded bootstrap 95% interval. */
  meanScore?: number;
  scoreCi95?: [number, number];
  /** Repeated runs (`repeat: k`): pass@k (any repeat passed), pass^k (all passed), and the flaky cases. */
  repeat?: RepeatSummary;
  /** Contamination guard: cases that had an example or passage excluded or flagged as a copy; absent when none. */
  leaks?: LeakCounts;
  /** Each scorer's own numbers by name, over the cases it scored (errored cases have none). */
  scorers?: Record<string, ScorerSummary>;
  /**
   * Estimated spend in US dollars: the answers' tokens at the provider's recorded list price, and
   * the judges' tokens at each judge's; absent when none of them has a price.
   */
  cost?: number;
  /** The tokens of the judges' calls on this row's answers, by the judge's label; absent when none. */
  judgeTokens?: Record<string, TokenUsage>;
}

/** One scorer's numbers in a summary row. */
export interface ScorerSummary {
  /** Cases scored. */
  n: number;
  /** Mean score. */
  mean: number;
  /** Share of the scored cases it passed. */
  passRate: number;
  /** Cases whose answer (or verdict) it could not read. */
  unparsed: number;
}

/** An example or retrieved passage the contamination guard found to be a copy of the case. */
export interface CaseLeak {
  /** `shots`: an example of the pool; `context`: a retrieved passage. */
  in: "shots" | "context";
  /** The example's id, or the passage as `<file>#<chunk>`. */
  id: string;
  /** Where it is: file and line relative to the config (`data/train.jsonl:3`, `docs/faq.md:12`), or `builtin:<pool>`. */
  source: string;
  /** `exact`: the same text once case, spacing, punctuation and Unicode forms are set aside; `near`: a near-copy. */
  kind: "exact" | "near";
  /** 1 for an exact copy; else the share of word 3-grams in common (Jaccard for examples, of the question for passages). */
  similarity: number;
  /** `excluded`: never shown, the next-best took its place; `flagged`: left in place and reported. */
  action: "excluded" | "flagged";
  /** Of a flagged copy: whether it was in this prompt. */
  shown?: boolean;
}

/** How many results had a copy excluded or flagged (a result may count under both). */
export interface LeakCounts {
  /** Results with any copy. */
  cases: number;
  /** Results with a copy excluded. */
  excluded: number;
  /** Results with a copy flagged. */
  flagged: number;
}

/** What `repeat: k` adds to a summary row; `total` etc. then count cases, each folded by `require`. */
export interface RepeatSummary {
  k: number;
  /** What a repeated case counts as for accuracy and the gates. */
  require: "all" | "majority" | "any";
  /** Share of cases where at least one of the k runs passed. */
  passAtK: number;
  /** Share of cases where all k runs passed. */
  passHatK: number;
  /** Mean single-run accuracy (pass@1). */
  passAt1: number;
  /** Cases with mixed outcomes across their k runs. */
  flaky: number;
  /** Up to 20 of the flaky case ids, for the report. */
  flakyIds: string[];
}

/**
 * A paired comparison of one variant against the baseline on the same cases (by case id).
 * `metric: accuracy` compares pass/fail: McNemar's exact test on the discordant pairs, and the
 * paired (Newcombe) interval of the difference in accuracy. `metric: score` compares mean scores:
 * a seeded paired bootstrap of the mean difference.
 */
export interface Comparison {
  /** The variant compared. */
  prompt: string;
  provider: string;
  /** The variant it is compared with. */
  baseline: { prompt: string; provider: string };
  metric: "accuracy" | "score";
  /** Pairs compared. */
  n: number;
  /** Cases left out of the pairs (errored on either side with `onError: exclude`, or on one side only). */
  excluded: number;
  /** The baseline's and the variant's accuracy (or mean score) on the paired cases. */
  baselineValue: number;
  value: number;
  /** value − baselineValue, with its 95% interval. */
  delta: number;
  ci95: [number, number];
  /** How the interval was computed: `newcombe` (paired proportions) or `bootstrap`. */
  interval: "newcombe" | "bootstrap";
  /** Two-sided p-value (McNemar exact, or mid-p when asked; bootstrap for scores). */
  p: number;
  /** p adjusted by Holm's method over every comparison of the same metric in the run. */
  pHolm: number;
  /** Pairs where the variant did better than the baseline (wins) and worse (losses). */
  wins: number;
  losses: number;
  /** At α (default 0.05) on pHolm: better, worse, or no detectable difference. */
  verdict: "better" | "worse" | "no detectable difference";
  /** Within a sweep: set on the best variant of the sweep. */
  best?: boolean;
}

/** One rule of a quality gate (thresholds, regression) as judged on one variant. */
export interface GateResult {
  /** The rule: `regression`, `max-drop`, `accuracy`, `accuracyLower`, `unparsed`, `errors`. */
  rule: string;
  prompt: string;
  provider: string;
  passed: boolean;
  /** One line with the numbers, e.g. "cot · gpt-4o-mini: accuracy 71.0% < 80.0%". */
  message: string;
  /** The measured value and the limit it was held to. */
  actual: number;
  limit: number;
}

/** A deterministic slice of the cases: shard `index` (1-based) of `count` (`--shard 2/4`). */
export interface Shard {
  index: number;
  count: number;
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
    /** USD per million tokens, when known (the config's `price:`, or the built-in table). */
    price?: { input: number; output: number };
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
    thresholds?: Thresholds;
  }[];
  tests: { path: string; expected: string };
  scorers: Record<string, unknown>[];
  /** The variant every other is compared with (`baseline:`, `baselineProvider:`). */
  baseline?: { prompt?: string; provider?: string };
  /** How comparisons were judged; absent in records written before comparisons existed. */
  compare?: CompareSettings;
  /** The config's gates for every variant. */
  thresholds?: Thresholds;
  /** `repeat: k` and how a repeated case counts, when k > 1. */
  repeat?: { k: number; require: "all" | "majority" | "any" };
  /** How the scorers were weighed into one verdict (`combine:`), when they were. */
  combine?: { weights?: number[] | Record<string, number>; threshold: number };
  /** The providers the scorers ask (judges), with their list price when known, so their calls are priced. */
  judges?: { id: string; label: string; price?: { input: number; output: number } }[];
}

/** The contract between the runner and every reporter. */
export interface RunRecord {
  version: typeof RECORD_VERSION;
  runId?: string;
  /** The suite's seed: every random choice of the run derives from it. */
  seed?: number;
  /** Set when this record is one shard of a larger run (`--shard i/n`). */
  shard?: Shard;
  /** Set when the run took only part of its config: `--limit`, `--filter-prompt`, `--filter-provider`, `--filter-case`. */
  selection?: { limit?: number; filterPrompt?: string[]; filterProvider?: string[]; filterCase?: string[] };
  startedAt: string;
  finishedAt?: string;
  status?: RunStatus;
  /** Why the run stopped early, when it did. */
  stopReason?: string;
  config: RecordConfig;
  summary: SummaryRow[];
  /** Paired comparisons against the baseline (`baseline:` in the config), when there is one. */
  comparisons?: Comparison[];
  /** The quality gates judged at the end of the run (thresholds, --fail-on-regression). */
  gates?: GateResult[];
  cases: CaseResult[];
}

/** One case that passed in one run and failed in the other (`compare`). */
export interface Flip {
  id: string;
  prompt: string;
  provider: string;
  expected: unknown;
  /** Each run's answer: what was extracted, and the output's start on one line. */
  base: { extracted: string | null; output: string | null; error?: string };
  head: { extracted: string | null; output: string | null; error?: string };
}

/** What `promptsmith compare base.json head.json` found: the contract of its reporters. */
export interface CompareRecord {
  base: { path: string; runId?: string; startedAt?: string };
  head: { path: string; runId?: string; startedAt?: string };
  /** Per variant present in both runs: head against base, paired by case id. */
  comparisons: Comparison[];
  /** Cases that passed in base and fail in head, then the reverse; at most `flipsListed` of each. */
  flips: { toFail: Flip[]; toPass: Flip[]; toFailCount: number; toPassCount: number };
  /** Case ids found in one run only (for a variant in both): counts and the first ids. */
  unpaired: { baseOnly: number; headOnly: number; baseOnlyIds: string[]; headOnlyIds: string[] };
  /** Variants found in one run only. */
  variants: {
    baseOnly: { prompt: string; provider: string }[];
    headOnly: { prompt: string; provider: string }[];
  };
  /** The regression gates, when asked for (--fail-on-regression). */
  gates?: GateResult[];
  /** The level verdicts were judged at. */
  alpha: number;
}
