import { withCallSignal } from "../providers/call-signal.js";
import type { CassetteCall, CassetteProvider } from "../providers/replay.js";
import {
  type ChatMessage,
  type CompletionResponse,
  isProviderError,
  type Provider,
  ProviderError,
  type ProviderSpec,
  type TokenUsage,
} from "../providers/types.js";
import type { CaseResult, ExtractionRecord, SampleResult } from "../record/types.js";
import { stripReasoning } from "../scorers/reasoning.js";
import type {
  EmbedCall,
  ModelCall,
  ModelCallRequest,
  ScoreInput,
  ScoreResult,
  Scorer,
  ScorerCall,
} from "../scorers/types.js";
import { majorityVote } from "../stats/vote.js";
import type { ResponseCache } from "../store/cache.js";
import { cacheKey, canonicalJson, cassetteKey } from "../store/job-key.js";
import type { TapeEntry } from "./cassette.js";
import { drawsOf, type JobOf } from "./jobs.js";
import type { RenderedJob } from "./prepare.js";

/** How the cache is used: read and write, write only (refresh), or not at all. */
export type CacheMode = "use" | "refresh" | "off";

/** A provider as the runner holds it: the live object and the spec it came from. */
export interface BoundProvider {
  provider: Provider;
  spec: ProviderSpec;
  /** The endpoint, for cache keys (the provider's baseURL, else OPENAI_BASE_URL). */
  baseURL?: string;
  /** How a cassette knows this provider: set when the run records (`--record`) or replays. */
  cassette?: CassetteProvider;
  /**
   * The provider answers from a cassette (`replay:`, `--replay`): its requests carry their cassette
   * keys, and the cache is skipped (the cassette is the record; the cache would mix in other answers).
   */
  replays?: boolean;
}

/** One unit of work: a case, a prompt variant, a provider and a shot draw. */
export type Job = JobOf<BoundProvider>;

/** What a job needs from the run around it. */
export interface ExecuteContext {
  scorer: Scorer;
  cache?: ResponseCache;
  cacheMode: CacheMode;
  signal: AbortSignal;
  /** Called before each request with a rough token count, so rate limits can wait. */
  beforeCall?: (bound: BoundProvider, estimatedTokens: number) => Promise<void>;
  /** Called once the request that `beforeCall` let through has ended: with its usage, or its error. */
  afterCall?: (bound: BoundProvider, outcome: { usage: TokenUsage } | { error: unknown }) => void;
  /**
   * The run's calls in flight by response key: a job that needs an answer another job is already
   * asking for waits for it instead of paying for the same call twice (duplicate rows, a sweep's
   * variant that renders like another prompt). Used whenever the cache is.
   */
  inFlight?: Map<string, Promise<SharedAnswer>>;
  /** The providers scorers may ask (judges), by {@link scorerProviderKey}. */
  scorerProviders?: Map<string, BoundProvider>;
  /** Embeds texts through the cache, for `similar`. */
  embed?: EmbedCall;
  /**
   * The baseline variant's answer to a job's case, for `preference`; null when the job is the
   * baseline. With `tape`, the call is recorded on it (`--record`).
   */
  baseline?: (
    job: Job,
    tape?: TapeEntry[],
  ) => Promise<{ output: string; prompt: string; provider: string } | null>;
  /** The model call handed to scorers, made once per run from this context. */
  modelCall?: JobModelCall;
}

/** The key a scorer's provider is found by: the whole spec, so two judges differing in any field differ. */
export function scorerProviderKey(spec: object): string {
  return canonicalJson(spec);
}

/**
 * A scorer's model call made for a job: recorded on the job's cassette tape (`--record`), and
 * answered by the job's lookup when its provider replays a cassette.
 */
export type JobModelCall = (
  request: ModelCallRequest,
  at?: { job?: Job; tape?: TapeEntry[] },
) => ReturnType<ModelCall>;

/**
 * A scorer's model call as the run makes every call: through the cache, the calls in flight, the
 * rate limits and the budget (`beforeCall`/`afterCall`). A failed call is the provider's error,
 * named as the judge's, which the run records on the case.
 */
export function createModelCall(context: ExecuteContext): JobModelCall {
  return async (request: ModelCallRequest, at = {}) => {
    const bound = context.scorerProviders?.get(scorerProviderKey(request.provider));
    if (!bound) throw new Error(`no provider was prepared for the scorer's ${request.provider.label}`);
    let generated: Awaited<ReturnType<typeof generate>>;
    try {
      generated = await generate(bound, request.messages, request.params, 1, context, {
        ...at,
        call: "judge",
      });
    } catch (error) {
      if (!isProviderError(error) || error.kind === "aborted") throw error;
      throw new ProviderError(error.kind, `judge ${bound.provider.label}: ${error.message}`, {
        status: error.status,
        fatal: error.fatal,
        hint: error.hint,
        cause: error,
      });
    }
    const [only] = generated.outputs;
    const { answer, reasoning } = stripReasoning(only.output);
    return {
      output: answer,
      ...(reasoning !== null ? { reasoning } : {}),
      cached: only.cached,
      usage: generated.usage,
    };
  };
}

/** One sample's answer as a call in flight hands it to the jobs waiting on the same key. */
export interface SharedAnswer {
  output: string;
  usage: TokenUsage;
  latencyMs: number;
}

/** A scored generation before it is folded into the case. */
interface ScoredSample {
  output: string;
  reasoning: string | null;
  verdict: ScoreResult;
  cached: boolean;
  extraction?: ExtractionRecord;
}

/**
 * Runs one rendered job: call (one request with `n` for every sample the cache lacks), strip
 * reasoning, optionally extract, score each sample, and vote. Provider errors propagate to the
 * caller, which records them on the case. With `tape`, every sample asked for (from the cache
 * or the provider, or the error it ended in) is added to it, for the run's cassette.
 */
export async function executeJob(
  job: Job,
  rendered: RenderedJob,
  context: ExecuteContext,
  tape?: TapeEntry[],
): Promise<CaseResult> {
  const { testCase, variant, bound, draw } = job;
  const samples = variant.prompt.samples;
  // Each run of a repeated case asks for its own samples: its own cache keys, its own answers.
  const offset = job.repeat * samples;

  const first = await generate(bound, rendered.messages, variant.prompt.params, samples, context, {
    firstIndex: offset,
    tape,
    job,
  });
  // What scorers that ask a model, embed or compare get; nothing for the plain ones.
  if (context.scorerProviders && !context.modelCall) context.modelCall = createModelCall(context);
  const services: Partial<ScoreInput> | undefined =
    context.scorerProviders || context.embed || context.baseline
      ? {
          messages: rendered.messages,
          ...(context.modelCall ? { call: (request) => context.modelCall!(request, { job, tape }) } : {}),
          ...(context.embed ? { embed: context.embed } : {}),
          ...(context.baseline ? { baseline: () => context.baseline!(job, tape) } : {}),
        }
      : undefined;
  const scored: ScoredSample[] = [];
  for (const [index, generation] of first.outputs.entries()) {
    const { answer, reasoning } = stripReasoning(generation.output);
    let toScore = answer;
    let extraction: ExtractionRecord | undefined;
    if (variant.extract) {
      const messages = variant.extract.render(
        { ...testCase.vars, output: generation.output },
        { caseId: testCase.id },
      );
      // The extraction of sample i is cached under sample i too, so a re-run replays it.
      const second = await generate(
        bound,
        messages,
        { ...variant.prompt.params, temperature: 0 },
        1,
        context,
        {
          firstIndex: offset + index,
          tape,
          call: "extract",
          job,
        },
      );
      toScore = stripReasoning(second.outputs[0].output).answer;
      extraction = { messages, output: second.outputs[0].output };
      addUsage(first.usage, second.usage);
    }
    const input: ScoreInput = {
      output: toScore,
      expected: testCase.expected,
      vars: testCase.vars,
      caseId: testCase.id,
    };
    // A pairwise judge compares whole answers, as the baseline's is never extracted.
    if (extraction) input.answer = answer;
    if (services) Object.assign(input, services);
    const verdict = await context.scorer(input);
    scored.push({ output: answer, reasoning, verdict, cached: generation.cached, extraction });
  }

  // Built by assignment, in the record's key order: spreading a dozen-key object into another, as a
  // literal did, cost ~10 µs a job, more than anything else promptsmith does per call. The cast
  // holds once every required field below is set; each assignment is still type-checked.
  const base = {
    id: testCase.id,
    prompt: variant.prompt.id,
    provider: bound.provider.label,
  } as CaseResult;
  if (drawsOf(variant) > 1) base.draw = draw;
  if (job.repeats > 1) base.repeat = job.repeat;
  base.vars = testCase.vars;
  base.messages = rendered.messages;
  if (rendered.shots) base.shots = rendered.shots;
  if (rendered.context) base.context = rendered.context;
  if (rendered.leaks && rendered.leaks.length > 0) base.leaks = rendered.leaks;
  base.promptHash = rendered.promptHash;
  base.expected = testCase.expected;
  base.latencyMs = Math.round(first.latencyMs);
  base.tokens = first.usage;
  base.cached = scored.every((s) => s.cached);
  base.error = null;
  const judged = judgeTokensOf(scored);
  if (judged) base.judgeTokens = judged;

  if (samples === 1) {
    const [only] = scored;
    base.output = only.output;
    if (only.reasoning !== null) base.reasoning = only.reasoning;
    base.extracted = only.verdict.extracted;
    base.pass = only.verdict.pass;
    base.score = only.verdict.score;
    base.reason = only.verdict.reason;
    base.unparsed = only.verdict.unparsed === true;
    if (only.extraction) base.extraction = only.extraction;
    if (only.verdict.parts) base.scores = only.verdict.parts;
    return base;
  }

  const vote = majorityVote(
    scored.map((s) => (s.verdict.unparsed ? null : s.verdict.extracted)),
    { normalize: normalizeVote },
  );
  const winner =
    vote.answer === null
      ? undefined
      : scored.find(
          (s) =>
            s.verdict.extracted !== null &&
            normalizeVote(s.verdict.extracted) === normalizeVote(vote.answer!),
        );
  const shown = winner ?? scored[0];
  const sampleResults: SampleResult[] = scored.map((s) => ({
    output: s.output,
    ...(s.reasoning !== null ? { reasoning: s.reasoning } : {}),
    extracted: s.verdict.extracted,
    pass: s.verdict.pass,
    unparsed: s.verdict.unparsed === true,
    ...(s.cached ? { cached: true } : {}),
  }));
  return {
    ...base,
    output: shown.output,
    ...(shown.reasoning !== null ? { reasoning: shown.reasoning } : {}),
    extracted: winner ? winner.verdict.extracted : null,
    pass: winner ? winner.verdict.pass : false,
    score: winner ? winner.verdict.score : 0,
    reason: winner
      ? `maj@${samples}: ${vote.votes} of ${samples} samples answered ${vote.answer}; ${winner.verdict.reason}`
      : `maj@${samples}: no sample gave an answer that could be extracted`,
    unparsed: !winner,
    samples: sampleResults,
    agreement: vote.agreement,
    ...(scored[0].extraction ? { extraction: scored[0].extraction } : {}),
    ...(shown.verdict.parts ? { scores: shown.verdict.parts } : {}),
  };
}

/**
 * The tokens of every call the scorers made on the job's samples, by the label of the provider
 * that answered: what --budget already counted, so the record's tokens and cost show it too.
 */
function judgeTokensOf(scored: readonly ScoredSample[]): Record<string, TokenUsage> | undefined {
  const tokens = new Map<string, TokenUsage>();
  const add = (calls: readonly ScorerCall[] | undefined) => {
    for (const call of calls ?? []) {
      if (!call.usage) continue;
      const into = tokens.get(call.provider) ?? { prompt: 0, completion: 0 };
      addUsage(into, call.usage);
      tokens.set(call.provider, into);
    }
  };
  for (const { verdict } of scored) {
    add(verdict.calls);
    for (const part of Object.values(verdict.parts ?? {})) add(part.calls);
  }
  return tokens.size > 0 ? Object.fromEntries(tokens) : undefined;
}

/**
 * Registers the call for `key` as in flight; the returned handles settle it for every waiting job
 * and take it off the map. (A job that gives up waiting just catches; an unawaited rejection is
 * swallowed here so it never reaches the process.)
 */
function announce(
  inFlight: Map<string, Promise<SharedAnswer>>,
  key: string,
): { resolve(answer: SharedAnswer): void; reject(error: unknown): void } {
  let settle!: { resolve(answer: SharedAnswer): void; reject(error: unknown): void };
  const promise = new Promise<SharedAnswer>((resolve, reject) => {
    settle = { resolve, reject };
  });
  promise.catch(() => undefined);
  inFlight.set(key, promise);
  const done = () => {
    if (inFlight.get(key) === promise) inFlight.delete(key);
  };
  return {
    resolve(answer) {
      done();
      settle.resolve(answer);
    },
    reject(error) {
      done();
      settle.reject(error);
    },
  };
}

/** Votes compare numbers by value ("18.0" and "18" agree) and text without case or outer spaces. */
function normalizeVote(answer: string): string {
  const trimmed = answer.trim();
  const value = Number(trimmed.replace(/,/g, ""));
  return trimmed !== "" && Number.isFinite(value) ? String(value) : trimmed.toLowerCase();
}

interface Generation {
  output: string;
  cached: boolean;
}

/** Where a generation stands among a job's calls, and the cassette tape it is recorded on. */
export interface GenerateAt {
  /** The index of the first sample (the extraction of sample i is sample i of its own request). */
  firstIndex?: number;
  tape?: TapeEntry[];
  /** Which of a job's calls this is, when not its answer (see CassetteEntry.call). */
  call?: CassetteCall;
  /** The job the call belongs to: a replay names its case and prompt when the cassette lacks it. */
  job?: Job;
}

/**
 * `n` outputs for one rendered prompt: each sample index is looked up in the cache, and the
 * missing ones are asked for in one request. Sample indices start at `at.firstIndex`. Every call
 * of a run goes through here: answers, extractions, judges and the baseline answers of a pairwise judge.
 */
export async function generate(
  bound: BoundProvider,
  messages: ChatMessage[],
  promptParams: Record<string, unknown> | undefined,
  n: number,
  context: ExecuteContext,
  at: GenerateAt = {},
): Promise<{ outputs: Generation[]; usage: TokenUsage; latencyMs: number }> {
  const { spec } = bound;
  const firstIndex = at.firstIndex ?? 0;
  const { job } = at;
  // A replay provider stands for the recorded provider: its parameters are the recorded ones.
  const params = { ...(bound.replays ? bound.cassette?.params : spec.params), ...promptParams };
  const cache = context.cacheMode === "off" || bound.replays ? undefined : context.cache;
  // Hashing the prompt costs real time on big runs: only when a cache will use the keys.
  const keys = cache
    ? Array.from({ length: n }, (_, i) => responseKey(spec, bound.baseURL, messages, params, firstIndex + i))
    : [];
  const tapeKeys =
    bound.cassette && (at.tape || bound.replays)
      ? Array.from({ length: n }, (_, i) =>
          cassetteKey({
            provider: bound.cassette!.label,
            model: bound.cassette!.model,
            completions: bound.cassette!.completions,
            messages,
            params,
            sampleIndex: firstIndex + i,
          }),
        )
      : undefined;
  const outputs: (Generation | undefined)[] = new Array(n);
  // What each sample added to the case's usage and latency: a replay adds them up to the same totals.
  const added: { usage: TokenUsage; latencyMs: number }[] = new Array(n);
  const usage: TokenUsage = { prompt: 0, completion: 0 };
  let latencyMs = 0;
  if (cache && context.cacheMode === "use") {
    keys.forEach((key, i) => {
      const hit = cache.get(key);
      if (!hit) return;
      outputs[i] = { output: hit.output, cached: true };
      added[i] = { usage: hit.usage, latencyMs: hit.latencyMs };
      addUsage(usage, hit.usage);
      latencyMs = Math.max(latencyMs, hit.latencyMs);
    });
  }
  const inFlight = cache ? context.inFlight : undefined;
  if (inFlight) {
    // Answers another job is already paying for: wait for them rather than ask again. One whose
    // call fails is asked for below, as if it had never been shared.
    const shared = [];
    for (let i = 0; i < n; i++) {
      const pending = outputs[i] === undefined ? inFlight.get(keys[i]) : undefined;
      if (pending) shared.push({ i, pending });
    }
    for (const { i, pending } of shared) {
      try {
        const answer = await pending;
        outputs[i] = { output: answer.output, cached: true };
        added[i] = { usage: answer.usage, latencyMs: answer.latencyMs };
        addUsage(usage, answer.usage);
        latencyMs = Math.max(latencyMs, answer.latencyMs);
      } catch {
        // Left missing.
      }
    }
  }
  const missing: number[] = [];
  for (let i = 0; i < n; i++) if (outputs[i] === undefined) missing.push(i);
  if (missing.length > 0) {
    const promises = inFlight ? missing.map((i) => announce(inFlight, keys[i])) : [];
    let response: CompletionResponse;
    // Whatever ends this call, waiting for its slot included, settles what other jobs wait on.
    try {
      await context.beforeCall?.(bound, estimateTokens(messages, params, missing.length));
      try {
        // A replay skips the cache, so its missing samples are all of them, in order.
        const lookup =
          bound.replays && tapeKeys && job
            ? {
                keys: tapeKeys,
                firstSample: firstIndex,
                caseId: job.testCase.id,
                promptId: job.variant.prompt.id,
                ...(drawsOf(job.variant) > 1 ? { draw: job.draw } : {}),
                ...(at.call ? { call: at.call } : {}),
              }
            : undefined;
        response = await withCallSignal(context.signal, (signal) =>
          bound.provider.complete({
            messages,
            params: promptParams,
            n: missing.length,
            signal,
            ...(lookup ? { lookup } : {}),
          }),
        );
      } catch (error) {
        context.afterCall?.(bound, { error });
        throw error;
      }
    } catch (error) {
      for (const promise of promises) promise.reject(error);
      // The samples the cache answered go on the tape too: a replay asks for all of them at once.
      if (at.tape && tapeKeys && isReplayable(error))
        tapeSamples(at, tapeKeys, bound, messages, params, firstIndex, outputs, added, error);
      throw error;
    }
    context.afterCall?.(bound, { usage: response.usage });
    // Answers arrive in bursts (a server answers a batch at once). Scoring and writing wait for the
    // next turn of the event loop, so every request the freed slots let through is sent first.
    await new Promise((resolve) => setImmediate(resolve));
    addUsage(usage, response.usage);
    latencyMs = Math.max(latencyMs, response.latencyMs);
    const share = {
      prompt: Math.round(response.usage.prompt / missing.length),
      completion: Math.round(response.usage.completion / missing.length),
    };
    const exact = at.tape ? splitUsage(response.usage, missing.length) : undefined;
    missing.forEach((sampleIndex, j) => {
      const output = response.outputs[j] ?? "";
      outputs[sampleIndex] = { output, cached: false };
      if (exact) added[sampleIndex] = { usage: exact[j], latencyMs: response.latencyMs };
      promises[j]?.resolve({ output, usage: share, latencyMs: response.latencyMs });
      if (cache) {
        cache.set(keys[sampleIndex], {
          output,
          usage: share,
          latencyMs: response.latencyMs,
          providerId: spec.id,
          model: response.model,
        });
      }
    });
  }
  if (at.tape && tapeKeys) tapeSamples(at, tapeKeys, bound, messages, params, firstIndex, outputs, added);
  return { outputs: outputs as Generation[], usage, latencyMs };
}

/** The request of one sample as a cassette holds it: never a key, a header or an endpoint. */
function tapedRequest(
  bound: BoundProvider,
  messages: ChatMessage[],
  params: Record<string, unknown>,
  sample: number,
): TapeEntry["request"] {
  return {
    ...(bound.cassette?.model !== undefined ? { model: bound.cassette.model } : {}),
    ...(bound.cassette?.completions ? { completions: true } : {}),
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    params,
    sample,
  };
}

/** Whether a failed call is replayed: an aborted call is no answer, and a fatal error ends the run. */
function isReplayable(error: unknown): error is ProviderError {
  return isProviderError(error) && error.kind !== "aborted" && !error.fatal;
}

/**
 * Puts every sample of a call on the tape: its answer (from the provider, the cache or another
 * job's call), or, when the call failed, the error for the samples it asked for, so a replay ends
 * the same way. A scorer's call names the provider that answered it.
 */
function tapeSamples(
  at: GenerateAt,
  tapeKeys: string[],
  bound: BoundProvider,
  messages: ChatMessage[],
  params: Record<string, unknown>,
  firstIndex: number,
  outputs: (Generation | undefined)[],
  added: { usage: TokenUsage; latencyMs: number }[],
  error?: ProviderError,
): void {
  const answeredBy = at.call === "judge" || at.call === "baseline" ? { provider: bound.cassette!.label } : {};
  for (let i = 0; i < tapeKeys.length; i++) {
    const output = outputs[i];
    at.tape!.push({
      key: tapeKeys[i],
      ...(at.call ? { call: at.call } : {}),
      ...answeredBy,
      request: tapedRequest(bound, messages, params, firstIndex + i),
      ...(output
        ? { response: { output: output.output, usage: added[i].usage, latencyMs: added[i].latencyMs } }
        : { error: { kind: error!.kind, message: error!.message } }),
    });
  }
}

/** A call's usage split over its samples so that the parts add up to it exactly. */
function splitUsage(total: TokenUsage, parts: number): TokenUsage[] {
  const split = (value: number) =>
    Array.from({ length: parts }, (_, i) => Math.floor(value / parts) + (i < value % parts ? 1 : 0));
  const prompt = split(total.prompt);
  const completion = split(total.completion);
  return prompt.map((p, i) => ({ prompt: p, completion: completion[i] }));
}

/** The cache key of one sample of one request. */
export function responseKey(
  spec: ProviderSpec,
  baseURL: string | undefined,
  messages: ChatMessage[],
  params: Record<string, unknown>,
  sampleIndex: number,
): string {
  const at = spec.id.indexOf(":");
  return cacheKey({
    providerId: spec.id,
    baseURL,
    model: at === -1 ? undefined : spec.id.slice(at + 1),
    messages,
    params,
    sampleIndex,
    completions: spec.completions,
  });
}

/** Whether the cache holds every one of `samples` samples of this request (from sample `firstIndex`). */
export function isAnswered(
  cache: ResponseCache,
  spec: ProviderSpec,
  baseURL: string | undefined,
  messages: ChatMessage[],
  params: Record<string, unknown>,
  samples: number,
  firstIndex = 0,
): boolean {
  for (let i = firstIndex; i < firstIndex + samples; i++) {
    if (!cache.get(responseKey(spec, baseURL, messages, params, i))) return false;
  }
  return true;
}

/** The endpoint a provider talks to, as far as the cache is concerned: its baseURL, else OPENAI_BASE_URL. */
export function endpointOf(spec: ProviderSpec, env: NodeJS.ProcessEnv): string | undefined {
  return spec.baseURL ?? (spec.id.startsWith("openai:") ? env.OPENAI_BASE_URL : undefined);
}

/** A rough token count (4 characters a token) plus the completion allowance, for rate limiting. */
function estimateTokens(messages: ChatMessage[], params: Record<string, unknown>, n: number): number {
  const promptTokens = Math.ceil(messages.reduce((sum, m) => sum + m.content.length, 0) / 4);
  const maxTokens = typeof params.max_tokens === "number" ? params.max_tokens : 256;
  return promptTokens + n * maxTokens;
}

function addUsage(into: TokenUsage, more: TokenUsage): void {
  into.prompt += more.prompt;
  into.completion += more.completion;
}
