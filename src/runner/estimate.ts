import { existsSync } from "node:fs";
import type { Suite } from "../config/types.js";
import { createTokenCounter, encodingForModel, isOpenAIModelName } from "../fewshot/index.js";
import { isEchoId } from "../providers/index.js";
import type { ChatMessage, ProviderSpec } from "../providers/types.js";
import type { LeakCounts } from "../record/types.js";
import { openCache, type ResponseCache } from "./cache.js";
import { endpointOf, isAnswered } from "./execute.js";
import { iterateJobs, type Shard } from "./jobs.js";
import { prepareVariants, renderJob } from "./prepare.js";
import { BATCH_DISCOUNT, priceOf } from "./pricing.js";
import { matchesAny, modelOf } from "./select.js";

/** Options of estimate(): the same selection as evaluate(), and nothing is sent. */
export interface EstimateOptions {
  suite: Suite;
  limit?: number;
  filterPrompt?: string[];
  filterProvider?: string[];
  shard?: Shard;
  /** Count requests the cache already answers (default: when the config enables the cache). */
  useCache?: boolean;
  /** Price the requests as the OpenAI Batch API bills them (half the list price). */
  batch?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The expected size and cost of one prompt × provider. */
export interface EstimateRow {
  prompt: string;
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
      if (cache && isAnswered(cache, spec, endpointOf(spec, env), messages, params, samples)) row.cached++;
      else {
        const bill = billable.get(row)!;
        bill.prompt += promptTokens;
        bill.completion += completionTokens;
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
    const spec = providers.find((p) => p.label === row.provider)!;
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

function countMessages(messages: ChatMessage[], count: (text: string) => number): number {
  return messages.reduce((n, m) => n + PER_MESSAGE_TOKENS + count(m.content), PER_MESSAGE_TOKENS);
}

function sum<T>(items: T[], of: (item: T) => number): number {
  return items.reduce((n, item) => n + of(item), 0);
}
