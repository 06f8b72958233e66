import { UserError } from "../errors.js";
import { createKeySet, type KeySet } from "../key-set.js";
import { createProvider } from "../providers/index.js";
import type { BatchClient, BatchRequest } from "../providers/openai-batch.js";
import { requirePrices } from "../providers/pricing.js";
import { type Provider, ProviderError, type ProviderSpec } from "../providers/types.js";
import type { CaseResult } from "../record/types.js";
import { createCachedEmbed, usesEmbedding } from "../runner/embed.js";
import { type EvaluateOptions, type EvaluateResult, evaluate } from "../runner/evaluate.js";
import { endpointOf, isAnswered, responseKey } from "../runner/execute.js";
import { providerFailure } from "../runner/failures.js";
import { iterateJobs, journalKeyOf, repeatsOf } from "../runner/jobs.js";
import { prepareVariants, renderJob } from "../runner/prepare.js";
import { matchesAny, modelOf } from "../runner/select.js";
import { openCache } from "../store/cache.js";
import { openJournalReplay } from "../store/journal.js";
import { isSameJob, openResume } from "../store/resume.js";
import {
  findPending,
  ledgerPath,
  newSubmissionId,
  recordCreated,
  recordRead,
  recordSubmitted,
  submissionKey,
} from "./batch-ledger.js";
import { type OutcomeStore, openOutcomeStore } from "./batch-outcomes.js";

/** Options of evaluateBatch: evaluate's, plus how to follow the batch. */
export interface EvaluateBatchOptions extends EvaluateOptions {
  /** Attach to batches submitted earlier (comma-separated ids) instead of submitting. */
  batchId?: string;
  /** Most requests in one batch file (default 50,000, OpenAI's limit); more go in further batches. */
  maxRequestsPerBatch?: number;
  /** How often to ask for the batch's status (default 10 s). */
  pollIntervalMs?: number;
  /** Receives one line per submission and status change. */
  onBatchProgress?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs a suite through the OpenAI Batch API: renders every job, submits the requests the cache and
 * journal do not already answer (custom_id = the response's cache key), waits for the batch, then
 * runs the ordinary evaluation with a provider that answers from the batch's results. Scoring,
 * cache, journal and results files are therefore exactly those of an online run; a request the
 * batch lacks (a two-stage extraction call) is sent online.
 */
export async function evaluateBatch(given: EvaluateBatchOptions): Promise<EvaluateResult> {
  const { suite } = given;
  // A resumed run submits what its own selection lacks (evaluate checks the journal the same way).
  const resumePoint = given.resume === undefined ? undefined : openResume(suite, given.resume, given);
  const options: EvaluateBatchOptions = resumePoint ? { ...given, ...resumePoint.selection } : given;
  const env = options.env ?? process.env;
  const say = options.onBatchProgress ?? (() => undefined);
  const specs = suite.providers.filter((p) => matchesAny(options.filterProvider, [p.id, p.label]));
  if (repeatsOf(suite) > 1) {
    throw new UserError({
      code: "usage",
      field: "repeat",
      message: "--batch does not run repeated cases (repeat: k) yet",
      hint: "run repeats online (without --batch), or set repeat: 1 for the batch",
    });
  }
  const notOpenAI = specs.find((s) => !s.id.startsWith("openai:"));
  if (notOpenAI) {
    throw new UserError({
      code: "usage",
      message: `--batch needs openai: providers, and ${notOpenAI.label} is not one`,
      hint: "filter it out with --filter-provider, or run it without --batch",
    });
  }
  if (options.budget !== undefined && options.batchId) {
    throw new UserError({
      code: "usage",
      field: "--budget",
      message: "--budget cannot limit a batch that is already submitted (--batch-id)",
      hint: "leave out --budget: the batch's answers are paid for; cancel the batch on the provider's side to stop it",
    });
  }
  const { createBatchClient } = await import("../providers/openai-batch.js");
  const clientOptions = { env, fetch: options.fetch, maxRequestsPerBatch: options.maxRequestsPerBatch };

  // Which client reads each batch: the one that submitted it. Re-attached batches are read with
  // the first provider's endpoint and key, the only ones there are to go on.
  const toRead: { id: string; spec: ProviderSpec }[] = [];
  const ledger = ledgerPath(suite);
  if (options.batchId) {
    for (const id of options.batchId.split(","))
      if (id.trim()) toRead.push({ id: id.trim(), spec: specs[0] });
  } else {
    if (options.budget !== undefined) await checkBatchBudget(options, specs, options.budget);
    for (const spec of specs) {
      const submitting: Submitting = {
        options,
        spec,
        key: submissionKey(suite, spec, { ...options, resume: resumePoint?.runId }, env),
        client: createBatchClient(spec, clientOptions),
        ledger,
        say,
        requests: (submitted) =>
          requestsFor(options, spec, modelOf(specs[0]), env, resumePoint?.path, submitted),
      };
      for (const id of await submitFor(submitting)) toRead.push({ id, spec });
    }
    if (toRead.length > 0)
      say(`if this process stops, attach again with: --batch-id ${toRead.map((b) => b.id).join(",")}`);
    else say("every request is already answered by the cache or the journal: nothing to submit");
  }

  const outcomes = openOutcomeStore();
  try {
    const attach = `run the same command again to attach to it, or use --batch-id ${toRead.map((b) => b.id).join(",")}`;
    for (const { id, spec } of toRead) {
      const reader = createBatchClient(spec, clientOptions);
      // A batch can take a day at a poll every 10 s: a line when something moved, not one a poll.
      let last = "";
      const progress = (line: string) => {
        if (line !== last) say(line);
        last = line;
      };
      try {
        const status = await reader.wait(id, {
          pollIntervalMs: options.pollIntervalMs,
          signal: options.signal,
          sleep: options.sleep,
          onProgress: (p) => progress(`batch ${id}: ${p.status} ${p.completed + p.failed}/${p.total}`),
        });
        say(`batch ${id}: ${status.status}`);
        if (status.status === "failed") {
          // Nothing in it ran, and nothing will: the next run must submit anew, not attach to it.
          recordRead(ledger, [id]);
          throw new UserError({
            code: "provider-invalid",
            message: `provider ${spec.label}: batch ${id} failed: ${status.errors.join("; ") || "the server gave no reason"}`,
            hint: "nothing in it was run; fix what the server names (often a model or parameter the Batch API does not take) and run again, or run without --batch",
          });
        }
        const read = reader.results(id, { signal: options.signal, sleep: options.sleep });
        for await (const outcome of read) outcomes.put(outcome);
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        if (error.kind === "not-found" && !options.batchId) {
          // Expired or deleted on the server: attaching to it again would fail the same way.
          recordRead(ledger, [id]);
          throw new UserError({
            code: "provider-invalid",
            message: `provider ${spec.label}: batch ${id} is no longer on the server (${error.message})`,
            hint: "run the same command again to go on without it",
            cause: error,
          });
        }
        if (options.signal?.aborted)
          throw new ProviderError(
            "aborted",
            `stopped waiting for batch ${id}: it keeps running on the server; ${attach}`,
          );
        // The batch is paid for and runs on whatever went wrong here: say how to come back to it.
        const failure = providerFailure(spec, error);
        throw error.kind === "auth"
          ? failure
          : new UserError({
              code: failure.code,
              message: failure.message,
              hint: `the batch keeps running on the server; ${attach}`,
              cause: error,
            });
      }
    }

    const result = await evaluate({
      ...options,
      // The budget was judged before submitting; stopping now would only leave paid answers unscored.
      budget: undefined,
      createProvider: async (spec, o) =>
        createReplayProvider(spec, outcomes, env, () => createProvider(spec, { env, fetch: o.fetch })),
    });
    // Scored into the journal (and cache): a later --batch of the same run need not attach to them.
    if (result.status === "complete")
      recordRead(
        ledger,
        toRead.map((b) => b.id),
      );
    return result;
  } finally {
    outcomes.close();
  }
}

/** What `submitFor` works with: one provider's requests, its client and the config's ledger. */
interface Submitting {
  options: EvaluateBatchOptions;
  spec: ProviderSpec;
  /** The submission key of these requests (`submissionKey`). */
  key: string;
  client: BatchClient;
  ledger: string;
  say: (line: string) => void;
  /** The requests to submit, less those whose custom id is in `submitted`. */
  requests: (submitted?: KeySet) => AsyncIterable<BatchRequest>;
}

/**
 * Submits one provider's requests and returns the batches to read: those of an earlier run's
 * submission not read yet (already paid for), else new ones. Each batch goes into the ledger as it
 * is made, so a process that dies between two files leaves no paid batch unknown to the next run,
 * which takes the batches made over and submits only the requests that are in none of them.
 */
async function submitFor(job: Submitting): Promise<string[]> {
  const { options, spec, key, client, ledger, say } = job;
  const pending = findPending(ledger, key);
  if (pending?.complete) {
    say(
      `attaching to batch ${pending.batchIds.join(", ")} (not read yet; submitted ${pending.submittedAt} by an earlier run, ${pending.requests} requests for ${spec.label} in all) instead of submitting again`,
    );
    return pending.batchIds;
  }
  const failed = (error: unknown): never => {
    throw options.signal?.aborted || !(error instanceof ProviderError) ? error : providerFailure(spec, error);
  };
  const submission = newSubmissionId();
  const made: { batchIds: string[]; requests: number } = { batchIds: [], requests: 0 };
  const record = (batchIds: string[], requests: number) => {
    recordCreated(ledger, { key, submission, batchIds, requests });
    made.batchIds.push(...batchIds);
    made.requests += requests;
  };
  let submitted: KeySet | undefined;
  if (pending) {
    say(
      `attaching to batch ${pending.batchIds.join(", ")} (${pending.requests} requests for ${spec.label}, made ${pending.submittedAt} by an earlier run that stopped while submitting); submitting the requests they lack`,
    );
    const { ids, gone } = await idsOf(client, pending.batchIds, options).catch(failed);
    if (gone.length > 0) {
      // Expired or deleted on the server: nothing to read there, so their requests go out again.
      recordRead(ledger, gone);
      say(`batch ${gone.join(", ")} is no longer on the server: its requests are submitted again`);
    }
    const kept = pending.batchIds.filter((id) => !gone.includes(id));
    if (kept.length > 0) record(kept, ids.size);
    submitted = ids;
  }
  const cancelled: string[] = [];
  const result = await client
    .submit(job.requests(submitted), {
      metadata: { tool: "promptsmith", config: options.suite.configPath.slice(-200) },
      signal: options.signal,
      onBatch: (batch) => record([batch.batchId], batch.requests),
      onCancelled: (batchId) => cancelled.push(batchId),
    })
    .catch((error: unknown) => {
      // Cancelled as soon as made: the next run submits their requests anew, not attach to them.
      recordRead(ledger, cancelled);
      return failed(error);
    });
  if (made.batchIds.length === 0) return [];
  recordSubmitted(ledger, { key, label: spec.label, submission, ...made });
  if (result.batchIds.length > 0) {
    const count = result.batches.reduce((n, b) => n + b.requests, 0);
    say(`submitted ${count} requests for ${spec.label} as batch ${result.batchIds.join(", ")}`);
  }
  return made.batchIds;
}

/**
 * A batch cannot be stopped part-way like an online run, so --budget is judged before anything is
 * submitted: on the dry-run estimate at the Batch API's price (max_tokens, or the assumed length,
 * per sample), counting only what the cache does not answer.
 */
async function checkBatchBudget(
  options: EvaluateOptions,
  specs: ProviderSpec[],
  budget: number,
): Promise<void> {
  requirePrices(specs, budget);
  const mode = options.cache ?? (options.suite.cache.enabled ? "use" : "off");
  const { estimate } = await import("../estimate/estimate.js");
  const { totals } = await estimate({
    suite: options.suite,
    limit: options.limit,
    filterPrompt: options.filterPrompt,
    filterProvider: options.filterProvider,
    filterCase: options.filterCase,
    shard: options.shard,
    env: options.env,
    useCache: mode === "use",
    batch: true,
  });
  const cost = totals.cost ?? 0;
  if (cost <= budget) return;
  throw new UserError({
    code: "usage",
    field: "--budget",
    message: `the batch could cost up to $${cost.toFixed(4)} at the Batch API's price, over --budget ${budget}; nothing was submitted`,
    hint: "raise --budget, set max_tokens, or narrow the run with --limit or --filter-prompt (eval --dry-run --batch shows the estimate)",
  });
}

/**
 * Every request the run needs from `spec` that the cache does not answer, one at a time as the
 * jobs are rendered: a batch of any size streams through, a file at a time.
 */
async function* requestsFor(
  options: EvaluateOptions,
  spec: ProviderSpec,
  /** The model whose tokenizer fits shots to a budget: the first provider's, as evaluate uses. */
  model: string | undefined,
  env: NodeJS.ProcessEnv,
  /** The journal of the run being resumed: jobs it holds (and that still render the same) are done. */
  journalPath?: string,
  /** Custom ids already in a batch (of a submission cut off part-way): not to be sent again. */
  submitted?: KeySet,
): AsyncGenerator<BatchRequest> {
  const { suite } = options;
  const prompts = suite.prompts.filter((p) => matchesAny(options.filterPrompt, [p.id, p.baseId]));
  const mode = options.cache ?? (suite.cache.enabled ? "use" : "off");
  // Embedding shots are chosen as the run will choose them, so the batch's prompts are the run's;
  // the vectors are fetched online now and cached for the run that reads the batch's answers.
  const embedCache = usesEmbedding(prompts) && mode !== "off" ? openCache(suite.cache.path) : undefined;
  const embed = usesEmbedding(prompts)
    ? createCachedEmbed({ cache: embedCache, refresh: mode === "refresh", env, fetch: options.fetch })
    : undefined;
  let cache: ReturnType<typeof openCache> | undefined;
  const replay = journalPath ? await openJournalReplay(journalPath) : undefined;
  try {
    const variants = await prepareVariants(suite, prompts, { model, embed });
    cache = mode === "use" ? openCache(suite.cache.path) : undefined;
    const baseURL = endpointOf(spec, env);
    // Hashes, not the ids: a million requests would otherwise hold 110 MB here. Two requests whose
    // hashes collide (odds of 3 in 100 million at a million) send one; the other is asked online.
    const seen = createKeySet();
    for await (const job of iterateJobs(suite, variants, [spec], {
      limit: options.limit,
      shard: options.shard,
      filterCase: options.filterCase,
    })) {
      const rendered = await renderJob(job.variant, job.testCase, job.draw);
      const previous = replay?.get(journalKeyOf(job, spec.label))?.result as CaseResult | undefined;
      if (previous) {
        const retry = options.retryErrors && previous.error;
        if (!retry && isSameJob(previous, rendered, job.testCase.expected)) continue;
      }
      const { messages } = rendered;
      const params = { ...spec.params, ...job.variant.prompt.params };
      const samples = job.variant.prompt.samples;
      const customId = responseKey(spec, baseURL, messages, params, 0);
      if (!seen.add(customId) || submitted?.has(customId)) continue;
      if (cache && isAnswered(cache, spec, baseURL, messages, params, samples)) continue;
      yield { customId, messages, params: job.variant.prompt.params ?? {}, n: samples };
    }
  } finally {
    replay?.close();
    cache?.close();
    embedCache?.close();
  }
}

/** The custom ids in the input files of `batchIds`, as hashes, and which of the batches the server no longer has. */
async function idsOf(
  client: BatchClient,
  batchIds: string[],
  options: { signal?: AbortSignal; sleep?: (ms: number) => Promise<void> },
): Promise<{ ids: KeySet; gone: string[] }> {
  const ids = createKeySet();
  const gone: string[] = [];
  for (const batchId of batchIds) {
    // A batch's ids count only once all are read: one gone part-way sends all its requests again.
    const these: string[] = [];
    try {
      for await (const id of client.customIds(batchId, { signal: options.signal, sleep: options.sleep }))
        these.push(id);
    } catch (error) {
      if (!(error instanceof ProviderError) || error.kind !== "not-found") throw error;
      gone.push(batchId);
      continue;
    }
    for (const id of these) ids.add(id);
  }
  return { ids, gone };
}

/**
 * A provider that answers from a batch's results, keyed like the cache; what the batch lacks goes
 * to the live provider, made only if needed.
 */
function createReplayProvider(
  spec: ProviderSpec,
  outcomes: OutcomeStore,
  env: NodeJS.ProcessEnv,
  live: () => Promise<Provider>,
): Provider {
  let online: Promise<Provider> | undefined;
  return {
    id: spec.id,
    label: spec.label,
    async complete(request) {
      const params = { ...spec.params, ...request.params };
      const outcome = outcomes.get(responseKey(spec, endpointOf(spec, env), request.messages, params, 0));
      if (!outcome) {
        online ??= live();
        return (await online).complete(request);
      }
      if (outcome.error) throw new ProviderError(outcome.error.kind, outcome.error.message, { fatal: false });
      const response = outcome.response!;
      return { ...response, outputs: response.outputs.slice(0, request.n ?? 1), latencyMs: 0 };
    },
    async close() {
      if (online) await (await online).close?.();
    },
  };
}
