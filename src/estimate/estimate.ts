import { existsSync, readFileSync } from "node:fs";
import type { Suite } from "../config/types.js";
import { createTokenCounter, encodingForModel, isOpenAIModelName } from "../fewshot/index.js";
import { isEchoId } from "../providers/index.js";
import { BATCH_DISCOUNT, priceOf } from "../providers/pricing.js";
import type { ChatMessage, ProviderSpec } from "../providers/types.js";
import type { LeakCounts } from "../record/types.js";
import { endpointOf, isAnswered } from "../runner/execute.js";
import { iterateJobs, type Shard } from "../runner/jobs.js";
import { prepareVariants, renderJob } from "../runner/prepare.js";
import { matchesAny, modelOf } from "../runner/select.js";
import { asksModel, nativeType, scorerColumnName } from "../scorers/aliases.js";
import {
  BUILTIN_RUBRICS,
  type JudgeScale,
  preferenceInstructions,
  RUBRIC_FILE,
  verdictInstructions,
} from "../scorers/rubrics.js";
import type { ScorerSpec } from "../scorers/types.js";
import { openCache, type ResponseCache } from "../store/cache.js";

/** Options of estimate(): the same selection as evaluate(), and nothing is sent. */
export interface EstimateOptions {
  suite: Suite;
  limit?: number;
  filterPrompt?: string[];
  filterProvider?: string[];
  /** Only cases whose id matches one of these (exact, or a glob with *). */
  filterCase?: string[];
  shard?: Shard;
  /** Count requests the cache already answers (default: when the config enables the cache). */
  useCache?: boolean;
  /** Price the requests as the OpenAI Batch API bills them (half the list price). */
  batch?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The expected size and cost of one prompt × provider (or of a judge's calls on its answers). */
export interface EstimateRow {
  /** The prompt; for a judge's calls, `<prompt> · <scorer name>`. */
  prompt: string;
  /** The provider; for a judge's calls, the judge's. */
  provider: string;
  /** HTTP requests (one per case, draw and extraction; samples go in one request with `n`). */
  requests: number;
  /** Requests whose every sample is already in the cache. */
  cached: number;
  promptTokens: number;
  /** An upper bound: max_tokens (or the assumed length) × samples. */
  completionTokens: number;
  /** USD for the requests the cache does not answer, or null when the price of the model is unknown. */
  cost: number | null;
  /** Contamination guard: of the `checked` results, how many would have a copy excluded or flagged. */
  leaks?: LeakCounts & { checked: number; guarded: ("shots" | "context")[] };
}

/** What a run would cost, before any request is sent. */
export interface Estimate {
  rows: EstimateRow[];
  totals: {
    requests: number;
    cached: number;
    promptTokens: number;
    completionTokens: number;
    /** USD of the rows whose price is known, or null when no row's price is known. */
    cost: number | null;
    /** Rows left out of `cost` because their price is unknown. */
    unpriced: number;
  };
  /** What the numbers rest on, in words. */
  assumptions: string[];
}

/** Completion length assumed when a provider sets no max_tokens. */
const ASSUMED_COMPLETION_TOKENS = 256;
/** Tokens OpenAI's chat format adds per message and per reply. */
const PER_MESSAGE_TOKENS = 3;

/**
 * Renders every prompt of every case and counts tokens with the model's real tokenizer, without
 * sending anything: the number of requests, the token totals and the estimated cost.
 */
export async function estimate(options: EstimateOptions): Promise<Estimate> {
  const { suite } = options;
  const env = options.env ?? process.env;
  const prompts = suite.prompts.filter((p) => matchesAny(options.filterPrompt, [p.id, p.baseId]));
  const providers = suite.providers.filter((p) => matchesAny(options.filterProvider, [p.id, p.label]));
  // Estimating sends nothing, so `select: embedding` is stood in for by BM25 `similar`: as many
  // shots from the same pool, so the token counts come close.
  const standIns = prompts.map((p) =>
    p.shots?.select === "embedding" ? { ...p, shots: { ...p.shots, select: "similar" as const } } : p,
  );
  const variants = await prepareVariants(suite, standIns, { model: providers[0] && modelOf(providers[0]) });
  const counters = new Map<string, (text: string) => number>();
  const assumptions = new Set<string>();
  for (const spec of providers) {
    const model = modelOf(spec) ?? "";
    if (!counters.has(model)) counters.set(model, await createTokenCounter(model));
    // A local GGUF or a vLLM/Ollama model has a tokenizer of its own, which a dry run cannot load.
    if (!isEchoId(spec.id) && !isOpenAIModelName(model)) {
      assumptions.add(
        `${spec.label}: tokens counted with OpenAI's ${encodingForModel(model)} encoding; the model's own tokenizer may count differently`,
      );
    }
  }
  const judges = judgesOf(suite.scorers);
  for (const judge of judges) {
    const model = modelOf(judge.provider) ?? "";
    if (!counters.has(model)) counters.set(model, await createTokenCounter(model));
  }
  if (judges.length > 0) {
    assumptions.add(
      "judge calls counted as uncached (their cache keys depend on the answers); their prompts estimated from the rubric, the prompt, the expected answer and the answer's completion allowance",
    );
  }
  const specOf = new Map<EstimateRow, ProviderSpec>();
  const useCache = options.useCache ?? suite.cache.enabled;
  // A dry run only reads the cache: it creates none where no run has written one.
  const cache: ResponseCache | undefined =
    useCache && existsSync(suite.cache.path) ? openCache(suite.cache.path) : undefined;
  const rows = new Map<string, EstimateRow>();
  /** Tokens of the requests the cache does not answer: only those cost money. */
  const billable = new Map<EstimateRow, { prompt: number; completion: number }>();
  try {
    for await (const job of iterateJobs(suite, variants, providers, {
      limit: options.limit,
      shard: options.shard,
      filterCase: options.filterCase,
    })) {
      const spec: ProviderSpec = job.bound;
      const { messages, leaks, guarded } = await renderJob(job.variant, job.testCase, job.draw);
      const count = counters.get(modelOf(spec) ?? "")!;
      const samples = job.variant.prompt.samples;
      const params = { ...spec.params, ...job.variant.prompt.params };
      const maxTokens = typeof params.max_tokens === "number" ? params.max_tokens : undefined;
      if (maxTokens === undefined) {
        assumptions.add(
          `${spec.label} sets no max_tokens: ${ASSUMED_COMPLETION_TOKENS} completion tokens assumed per sample`,
        );
      }
      const key = `${job.variant.prompt.id}\u0000${spec.label}`;
      let row = rows.get(key);
      if (!row) {
        row = {
          prompt: job.variant.prompt.id,
          provider: spec.label,
          requests: 0,
          cached: 0,
          promptTokens: 0,
          completionTokens: 0,
          cost: 0,
        };
        rows.set(key, row);
        billable.set(row, { prompt: 0, completion: 0 });
        specOf.set(row, spec);
      }
      if (leaks && guarded) {
        row.leaks ??= { checked: 0, cases: 0, excluded: 0, flagged: 0, guarded };
        row.leaks.checked++;
        if (leaks.length > 0) row.leaks.cases++;
        if (leaks.some((leak) => leak.action === "excluded")) row.leaks.excluded++;
        if (leaks.some((leak) => leak.action === "flagged")) row.leaks.flagged++;
      }
      const extraCalls = job.variant.extract ? samples : 0;
      row.requests += 1 + extraCalls;
      const promptTokens = countMessages(messages, count);
      const completionTokens = samples * (maxTokens ?? ASSUMED_COMPLETION_TOKENS);
      row.promptTokens += promptTokens;
      row.completionTokens += completionTokens;
      if (
        cache &&
        isAnswered(cache, spec, endpointOf(spec, env), messages, params, samples, job.repeat * samples)
      )
        row.cached++;
      else {
        const bill = billable.get(row)!;
        bill.prompt += promptTokens;
        bill.completion += completionTokens;
      }
      for (const judge of judges) {
        const judgeKey = `${key}\u0000${judge.name}`;
        let judgeRow = rows.get(judgeKey);
        if (!judgeRow) {
          judgeRow = {
            prompt: `${job.variant.prompt.id} · ${judge.name}`,
            provider: judge.provider.label,
            requests: 0,
            cached: 0,
            promptTokens: 0,
            completionTokens: 0,
            cost: 0,
          };
          rows.set(judgeKey, judgeRow);
          billable.set(judgeRow, { prompt: 0, completion: 0 });
          specOf.set(judgeRow, judge.provider);
        }
        const judgeCount = counters.get(modelOf(judge.provider) ?? "")!;
        const answer = maxTokens ?? ASSUMED_COMPLETION_TOKENS;
        const expectedText = job.testCase.expected === undefined ? "" : JSON.stringify(job.testCase.expected);
        // Each call shows the rubric, the prompt, the reference and the answer(s) judged.
        const perCall =
          judgeCount(judge.fixedText) +
          countMessages(messages, judgeCount) +
          judgeCount(expectedText) +
          answer * judge.answersShown;
        const calls = samples * judge.callsPerAnswer;
        const judgeMax =
          typeof judge.params.max_tokens === "number" ? judge.params.max_tokens : ASSUMED_COMPLETION_TOKENS;
        judgeRow.requests += calls;
        judgeRow.promptTokens += perCall * calls;
        judgeRow.completionTokens += judgeMax * calls;
        const bill = billable.get(judgeRow)!;
        bill.prompt += perCall * calls;
        bill.completion += judgeMax * calls;
      }
    }
  } finally {
    cache?.close();
  }
  if (standIns.some((p, i) => p !== prompts[i]))
    assumptions.add(
      "select: embedding shots estimated with select: similar (BM25), as estimating sends nothing: token counts are close, and their cached requests may go uncounted",
    );
  if (variants.some((v) => v.extract))
    assumptions.add("extraction calls counted as requests; their tokens are not estimated");
  const list = [...rows.values()];
  let cost: number | null = null;
  const discount = options.batch ? BATCH_DISCOUNT : 1;
  if (options.batch) assumptions.add("priced as the Batch API bills: half the list price");
  for (const row of list) {
    const spec = specOf.get(row)!;
    const price = priceOf(spec);
    if (!price) {
      row.cost = null;
      assumptions.add(
        `no price known for ${spec.label}: add price: { input, output } (USD per 1M tokens) to count it`,
      );
      continue;
    }
    const bill = billable.get(row)!;
    row.cost = ((bill.prompt * price.input + bill.completion * price.output) * discount) / 1_000_000;
    cost = (cost ?? 0) + row.cost;
  }
  return {
    rows: list,
    totals: {
      requests: sum(list, (r) => r.requests),
      cached: sum(list, (r) => r.cached),
      promptTokens: sum(list, (r) => r.promptTokens),
      completionTokens: sum(list, (r) => r.completionTokens),
      cost,
      unpriced: list.filter((r) => r.cost === null).length,
    },
    assumptions: [...assumptions],
  };
}

/** A scorer that asks a model, as an estimate sees it. */
interface JudgeEstimate {
  name: string;
  provider: ProviderSpec;
  params: Record<string, unknown>;
  /** The text every call carries whatever the case: instructions and rubric. */
  fixedText: string;
  /** Calls per answer judged (a pairwise judge asks in both orders). */
  callsPerAnswer: number;
  /** Answers shown per call (a pairwise judge shows two). */
  answersShown: number;
}

function judgesOf(scorers: readonly ScorerSpec[]): JudgeEstimate[] {
  const judges: JudgeEstimate[] = [];
  for (const scorer of scorers) {
    if (!asksModel(scorer)) continue;
    const provider = scorer.provider as ProviderSpec | undefined;
    if (typeof provider !== "object" || provider === null) continue;
    const pairwise = nativeType(scorer.type) === "preference";
    const rubric = typeof scorer.rubric === "string" ? scorer.rubric : pairwise ? "builtin:preference" : "";
    let rubricText = rubric;
    const file = RUBRIC_FILE.test(rubric.trim()) && existsSync(rubric);
    if (rubric.startsWith("builtin:"))
      rubricText = BUILTIN_RUBRICS[rubric.slice(8) as keyof typeof BUILTIN_RUBRICS] ?? "";
    else if (file) rubricText = readFileSync(rubric, "utf8");
    const instructions = pairwise
      ? preferenceInstructions(!file)
      : verdictInstructions((scorer.scale as JudgeScale | undefined) ?? "pass-fail", !file);
    judges.push({
      name: scorerColumnName(scorer),
      provider,
      params: { ...provider.params, ...(scorer.params as Record<string, unknown> | undefined) },
      fixedText: `${instructions}\n${rubricText}`,
      callsPerAnswer: pairwise ? 2 : 1,
      answersShown: pairwise ? 2 : 1,
    });
  }
  return judges;
}

function countMessages(messages: ChatMessage[], count: (text: string) => number): number {
  return messages.reduce((n, m) => n + PER_MESSAGE_TOKENS + count(m.content), PER_MESSAGE_TOKENS);
}

function sum<T>(items: T[], of: (item: T) => number): number {
  return items.reduce((n, item) => n + of(item), 0);
}
