/**
 * The embedded local provider: a GGUF model run in-process by node-llama-cpp.
 * Chat prompts go through the model's own chat template; `completions: true` completes a flattened prompt raw.
 */
import { availableParallelism } from "node:os";
import path from "node:path";
import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaChat,
  LlamaCompletion,
  LlamaContext,
  LlamaContextSequence,
  LlamaModel,
} from "node-llama-cpp";
import { UserError } from "../errors.js";
import { type DownloadProgress, defaultLocalModelRef, resolveModelPath } from "./model-cache.js";
import {
  type ChatMessage,
  type CompletionRequest,
  type CompletionResponse,
  type Provider,
  ProviderError,
  type ProviderParams,
  type ProviderSpec,
} from "./types.js";

/** Options of `createLocalProvider`; the world it touches is injectable. */
export interface LocalProviderOptions {
  env?: NodeJS.ProcessEnv;
  /** Used to download `hf:` models that are not cached yet. */
  fetch?: typeof fetch;
  onProgress?: (progress: DownloadProgress) => void;
  /** Base for relative model paths; default `process.cwd()`. */
  cwd?: string;
}

/** Sampling settings of one request, already checked. */
interface Sampling {
  temperature: number;
  topP?: number;
  maxTokens: number;
  seed?: number;
  stop: string[];
}

/** One context sequence with both generators bound to it; a request holds one slot while it runs. */
interface Slot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  completion: LlamaCompletion;
}

/** Where a loaded local model runs, as llama.cpp reports it. */
export interface LocalEngineInfo {
  /** "cpu", or the GPU back end llama.cpp loaded (with `gpu: auto` it may still be "cpu"). */
  backend: "cpu" | "cuda" | "vulkan" | "metal";
  /** The GPUs llama.cpp sees; empty on the CPU. */
  devices: readonly string[];
  /** Layers offloaded to the GPU, of `totalLayers`. */
  gpuLayers: number;
  totalLayers: number;
  /** CPU threads llama.cpp computes with. */
  threads: number;
}

/** A local provider; `rawCompletions()` exposes the same loaded model completing prompts without the chat template. */
export interface LocalProvider extends Provider {
  /** A view that completes flattened prompts raw (what `/v1/completions` means); closing the owner closes it. */
  rawCompletions(): Provider;
  /** Loads the model now instead of at the first call, so a model that cannot load fails here; says where it runs. */
  load(): Promise<LocalEngineInfo>;
  /** Aborts running and queued calls, then frees the model. */
  close(): Promise<void>;
}

const DEFAULT_MAX_TOKENS = 256;
// OpenAI's default, so a suite compares local and hosted models under the same sampling when it sets none.
const DEFAULT_TEMPERATURE = 1;
const DEFAULT_PARALLEL = 4;
// Per sequence. "auto" would size it to the model's training context (32k for Qwen2.5), times the sequences.
const DEFAULT_MAX_CONTEXT = 4096;
const GPU_CHOICES = ["auto", "cuda", "vulkan", "metal"] as const;
// Keys that configure the provider itself rather than one generation.
const PROVIDER_KEYS = new Set(["gpu", "parallel", "threads", "context_size"]);

/**
 * A Provider that generates with the model named by `local:<path>` or `local:hf:<user>/<repo>/<file.gguf>` (bare
 * `local:` means the default model). Its params are checked and an `hf:` model is downloaded here; the model is
 * loaded once, at the first call or `load()`; `close()` frees it.
 */
export async function createLocalProvider(
  spec: ProviderSpec,
  options: LocalProviderOptions = {},
): Promise<LocalProvider> {
  const env = options.env ?? process.env;
  const ref = spec.id.replace(/^local:/, "").trim() || defaultLocalModelRef(env);
  const settings = readSettings(spec.params, env);
  try {
    parseSampling(spec.params);
  } catch (error) {
    if (error instanceof ProviderError) {
      throw new UserError({
        code: "provider-invalid",
        message: `${spec.id}: ${error.message}`,
        field: "params",
      });
    }
    throw error;
  }
  const modelPath = await resolveModelPath(ref, {
    env,
    fetch: options.fetch,
    onProgress: options.onProgress,
    cwd: options.cwd,
  });
  const modelName = path.basename(modelPath);

  const free: Slot[] = [];
  // The model loads at the first call, not here: a run the cache answers whole never loads
  // node-llama-cpp or the model (seconds for a real model). serve() calls load() at once instead.
  let engine: Promise<Engine> | undefined;
  const loadOnce = (): Promise<Engine> =>
    (engine ??= loadEngine(modelPath, settings).then((loaded) => {
      const { context, chatWrapper, lib } = loaded;
      for (let i = 0; i < settings.parallel; i++) {
        const sequence = context.getSequence();
        free.push({
          sequence,
          chat: new lib.LlamaChat({ contextSequence: sequence, chatWrapper }),
          completion: new lib.LlamaCompletion({ contextSequence: sequence }),
        });
      }
      return loaded;
    }));
  // Callers waiting for a free slot; each one's signal includes `closing`, so close() empties this too.
  const waiting: Array<(slot: Slot) => void> = [];
  const closing = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  let closed: Promise<void> | undefined;

  function acquire(signal: AbortSignal): Promise<Slot> {
    const slot = free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => {
        const index = waiting.indexOf(take);
        if (index >= 0) waiting.splice(index, 1);
        reject(abortedError(closing.signal.aborted));
      };
      const take = (slot: Slot) => {
        signal.removeEventListener("abort", onAbort);
        resolve(slot);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      waiting.push(take);
    });
  }

  function release(slot: Slot): void {
    const next = waiting.shift();
    if (next) next(slot);
    else free.push(slot);
  }

  async function generateOne(
    slot: Slot,
    prompt: Prompt,
    sampling: Sampling,
    signal: AbortSignal,
    onText?: (text: string) => void,
    stopSignal?: AbortSignal,
  ): Promise<{ text: string; completionTokens: number; finishReason: "stop" | "length" }> {
    // Cut off before it began (a later sample of n, after a server's timeout): nothing to generate.
    if (stopSignal?.aborted) return { text: "", completionTokens: 0, finishReason: "length" };
    // A fresh sequence per sample: reusing a cached prefix changes batch shapes, and with them the floating-point
    // results, so the same seed would not always give the same text.
    await slot.sequence.clearHistory();
    let completionTokens = 0;
    const common = {
      // With a stop signal, node-llama-cpp returns the text so far on abort; complete() turns a real abort
      // (`signal`) back into an error.
      signal: stopSignal ? AbortSignal.any([signal, stopSignal]) : signal,
      stopOnAbortSignal: stopSignal !== undefined,
      maxTokens: sampling.maxTokens,
      temperature: sampling.temperature,
      topP: sampling.topP,
      seed: sampling.seed,
      customStopTriggers: sampling.stop.length > 0 ? sampling.stop : undefined,
      onToken: (tokens: readonly unknown[]) => {
        completionTokens += tokens.length;
      },
      onTextChunk: onText,
    };
    const { response, metadata } = prompt.raw
      ? await slot.completion.generateCompletionWithMeta(prompt.text, common)
      : await slot.chat.generateResponse(prompt.history, common);
    if (signal.aborted) throw abortedError(closing.signal.aborted);
    const cutOff = metadata.stopReason === "maxTokens" || metadata.stopReason === "abort";
    return { text: response, completionTokens, finishReason: cutOff ? "length" : "stop" };
  }

  async function complete(request: CompletionRequest, raw: boolean): Promise<CompletionResponse> {
    const started = performance.now();
    const sampling = parseSampling({ ...stripProviderKeys(spec.params), ...request.params });
    const n = request.n ?? 1;
    if (!Number.isInteger(n) || n < 1)
      throw new ProviderError("bad-request", `n: expected a whole number of at least 1, received ${n}`);
    if (closed) throw abortedError(true);
    const signal = request.signal ? AbortSignal.any([request.signal, closing.signal]) : closing.signal;
    if (signal.aborted) throw abortedError(closing.signal.aborted);
    const { model, context, chatWrapper } = await loadOnce();
    if (signal.aborted) throw abortedError(closing.signal.aborted);

    const prompt = renderPrompt(request.messages, raw, chatWrapper, model);
    if (prompt.tokenCount >= context.contextSize) {
      // llama.cpp would otherwise drop the start of the prompt to make room, and score a different prompt.
      throw new ProviderError(
        "bad-request",
        `the prompt is ${prompt.tokenCount} tokens but the context holds ${context.contextSize}; raise params.context_size or shorten the prompt`,
      );
    }
    const slot = await acquire(signal);
    try {
      const outputs: string[] = [];
      const finishReasons: Array<"stop" | "length"> = [];
      let completionTokens = 0;
      for (let i = 0; i < n; i++) {
        // Consecutive seeds: the samples differ from each other, yet the whole set repeats run to run.
        const seed = sampling.seed === undefined ? undefined : sampling.seed + i;
        // Only the first sample streams: onToken carries no sample index.
        const result = await generateOne(
          slot,
          prompt,
          { ...sampling, seed },
          signal,
          i === 0 ? request.onToken : undefined,
          request.stopSignal,
        );
        outputs.push(result.text);
        finishReasons.push(result.finishReason);
        completionTokens += result.completionTokens;
      }
      return {
        outputs,
        usage: { prompt: prompt.tokenCount, completion: completionTokens },
        latencyMs: Math.round(performance.now() - started),
        model: modelName,
        finishReasons,
      };
    } catch (error) {
      if (signal.aborted) throw abortedError(closing.signal.aborted);
      if (error instanceof ProviderError) throw error;
      throw new ProviderError(
        "server",
        `local model failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      release(slot);
    }
  }

  function track(call: Promise<CompletionResponse>): Promise<CompletionResponse> {
    const settled = call.then(
      () => {},
      () => {},
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return call;
  }

  return {
    id: spec.id,
    label: spec.label,
    async load() {
      return engineInfo(await loadOnce());
    },
    complete: (request) => track(complete(request, spec.completions === true)),
    rawCompletions: () => ({
      id: spec.id,
      label: spec.label,
      complete: (request) => track(complete(request, true)),
    }),
    close() {
      closed ??= (async () => {
        closing.abort();
        await Promise.all(inFlight);
        // A model that failed to load was freed by loadEngine already.
        const loaded = await engine?.catch(() => undefined);
        await loaded?.llama.dispose();
      })();
      return closed;
    },
  };
}

/** A rendered prompt: chat history for the template, flat text for raw completion, and its token count. */
interface Prompt {
  raw: boolean;
  history: ChatHistoryItem[];
  text: string;
  tokenCount: number;
}

function renderPrompt(
  messages: ChatMessage[],
  raw: boolean,
  chatWrapper: ChatWrapper,
  model: LlamaModel,
): Prompt {
  if (raw) {
    const text = flattenMessages(messages);
    const bos = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? 1 : 0;
    return { raw, history: [], text, tokenCount: model.tokenize(text).length + bos };
  }
  const history = toChatHistory(messages);
  const { contextText } = chatWrapper.generateContextState({ chatHistory: history });
  return { raw, history, text: "", tokenCount: contextText.tokenize(model.tokenizer).length };
}

/**
 * Messages as one plain prompt for raw completion: a lone user message verbatim, else `role: content` blocks.
 * The same rule as openai.ts's renderCompletionPrompt, so both back ends see the same text; that module loads
 * the OpenAI SDK at its top, hence the copy rather than an import.
 */
export function flattenMessages(messages: ChatMessage[]): string {
  if (messages.length === 1 && messages[0].role === "user") return messages[0].content;
  return messages.map((message) => `${message.role}: ${message.content}`).join("\n\n");
}

function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message) => {
    if (message.role === "assistant") return { type: "model", response: [message.content] };
    if (message.role === "system") return { type: "system", text: message.content };
    return { type: "user", text: message.content };
  });
  // A trailing assistant message is a prefill the model continues; otherwise the model answers afresh.
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}

interface Settings {
  gpu: false | (typeof GPU_CHOICES)[number];
  parallel: number;
  threads?: number;
  contextSize?: number;
}

function readSettings(params: ProviderParams, env: NodeJS.ProcessEnv): Settings {
  const gpuValue = params.gpu ?? env.PROMPTSMITH_GPU;
  let gpu: Settings["gpu"] = false;
  if (gpuValue === true) gpu = "auto";
  else if (
    gpuValue === undefined ||
    gpuValue === false ||
    gpuValue === "" ||
    gpuValue === "false" ||
    gpuValue === "cpu"
  )
    gpu = false;
  else if (typeof gpuValue === "string" && (GPU_CHOICES as readonly string[]).includes(gpuValue))
    gpu = gpuValue as Settings["gpu"];
  else {
    throw new UserError({
      code: "provider-invalid",
      message: `gpu: expected one of false, auto, cuda, vulkan, metal, received ${JSON.stringify(gpuValue)}`,
      field: params.gpu === undefined ? undefined : "params.gpu",
      hint:
        params.gpu === undefined
          ? "fix or unset the PROMPTSMITH_GPU environment variable"
          : "leave gpu out to run on the CPU",
    });
  }
  const threadsValue =
    params.threads ?? (env.PROMPTSMITH_THREADS ? Number(env.PROMPTSMITH_THREADS) : undefined);
  return {
    gpu,
    parallel: wholeNumber(params.parallel, "parallel", 1, 64) ?? DEFAULT_PARALLEL,
    threads: wholeNumber(threadsValue, "threads", 1, 1024),
    contextSize: wholeNumber(params.context_size, "context_size", 16, 1 << 20),
  };
}

function wholeNumber(value: unknown, key: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new UserError({
      code: "provider-invalid",
      message: `${key}: expected a whole number from ${min} to ${max}, received ${JSON.stringify(value)}`,
      field: `params.${key}`,
    });
  }
  return value;
}

function stripProviderKeys(params: ProviderParams): ProviderParams {
  return Object.fromEntries(Object.entries(params).filter(([key]) => !PROVIDER_KEYS.has(key)));
}

/** Reads the OpenAI-named sampling params; unknown keys are ignored so suites can share params across providers. */
function parseSampling(params: ProviderParams): Sampling {
  const temperature = optionalNumber(params, "temperature", 0, 2) ?? DEFAULT_TEMPERATURE;
  const topP = optionalNumber(params, "top_p", 0, 1);
  const maxTokens =
    optionalNumber(params, "max_tokens", 1, Number.MAX_SAFE_INTEGER, true) ?? DEFAULT_MAX_TOKENS;
  const seed = optionalNumber(params, "seed", -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  const stopValue = params.stop ?? [];
  const stop = typeof stopValue === "string" ? [stopValue] : stopValue;
  if (!Array.isArray(stop) || !stop.every((item) => typeof item === "string" && item !== "")) {
    throw new ProviderError(
      "bad-request",
      `stop: expected a string or a list of non-empty strings, received ${JSON.stringify(stopValue)}`,
      {
        fatal: true,
      },
    );
  }
  return { temperature, topP, maxTokens, seed, stop: stop as string[] };
}

function optionalNumber(
  params: ProviderParams,
  key: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const kind = integer ? "a whole number" : "a number";
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ProviderError(
      "bad-request",
      `${key}: expected ${kind} ${range}, received ${JSON.stringify(value)}`,
      { fatal: true },
    );
  }
  return value;
}

function abortedError(byClose: boolean): ProviderError {
  return new ProviderError("aborted", byClose ? "the local provider was closed" : "the request was aborted");
}

interface Engine {
  lib: typeof import("node-llama-cpp");
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  chatWrapper: ChatWrapper;
}

async function engineInfo({ llama, model, context }: Engine): Promise<LocalEngineInfo> {
  return {
    backend: llama.gpu === false ? "cpu" : llama.gpu,
    devices: llama.gpu === false ? [] : await llama.getGpuDeviceNames(),
    gpuLayers: model.gpuLayers,
    totalLayers: model.fileInsights.totalLayers,
    threads: context.currentThreads,
  };
}

/** One line for people: "vulkan (NVIDIA H200), 23 of 23 layers on the GPU" or "the CPU, 3 threads". */
export function describeEngine(info: LocalEngineInfo): string {
  if (info.backend === "cpu") return `the CPU, ${info.threads} thread${info.threads === 1 ? "" : "s"}`;
  const devices = info.devices.length > 0 ? ` (${info.devices.join(", ")})` : "";
  return `${info.backend}${devices}, ${info.gpuLayers} of ${info.totalLayers} layers on the GPU`;
}

/**
 * The CPU threads llama.cpp gets unless `threads` or PROMPTSMITH_THREADS says: its math cores, less
 * one core left to Node. llama.cpp's workers spin while they wait for each other, and Node's own
 * thread has to run between tokens (sampling callbacks, stop triggers); with every core taken it
 * waits for a scheduler slice at each token. On a 2-vCPU VM, 4 sequences × 256 tokens of the test
 * model took 0.6 s with 1 thread and 8.3 s with 2 (86 s with 2 threads on 1 CPU). More threads
 * than math cores only adds spinning.
 */
export function defaultThreads(mathCores: number, cores: number): number {
  return Math.max(1, Math.min(mathCores, cores - 1));
}

// What each back end's prebuilt binary needs from the machine (node-llama-cpp 3.21: CUDA 13, or 12 via cuda-ext).
const NO_BINARY_HINTS: Record<"cpu" | (typeof GPU_CHOICES)[number], string> = {
  cpu: "reinstall node-llama-cpp so that npm fetches the prebuilt binary for this platform",
  auto: "reinstall node-llama-cpp so that npm fetches the prebuilt binaries for this platform",
  cuda: "the cuda build needs an NVIDIA driver and the CUDA 13 (or 12) runtime: libcudart and libcublas on the library path; PROMPTSMITH_GPU=auto falls back to another back end or the CPU",
  vulkan:
    "the vulkan build needs the Vulkan loader (libvulkan.so.1) and a GPU driver with Vulkan support; PROMPTSMITH_GPU=auto falls back to another back end or the CPU",
  metal: "metal runs on Apple silicon macOS only; PROMPTSMITH_GPU=auto picks what this machine has",
};

/** node-llama-cpp and its llama.cpp binary, checked against the GPU setting. */
async function loadLlama(
  settings: Settings,
): Promise<{ lib: typeof import("node-llama-cpp"); llama: Llama }> {
  const lib = await import("node-llama-cpp");
  let llama: Llama;
  try {
    // build "never": a missing binary must not turn into a source download and a compile in the middle of a run.
    llama = await lib.getLlama({ gpu: settings.gpu, build: "never", logLevel: lib.LlamaLogLevel.error });
  } catch (error) {
    // node-llama-cpp's message for this is only its class name.
    const reason =
      error instanceof lib.NoBinaryFoundError
        ? `no prebuilt llama.cpp for ${settings.gpu === false ? "the CPU" : settings.gpu} loads on this machine`
        : error instanceof Error
          ? error.message
          : String(error);
    throw new UserError({
      code: "provider-invalid",
      message: `cannot start llama.cpp with gpu ${JSON.stringify(settings.gpu)}: ${reason}`,
      hint: NO_BINARY_HINTS[settings.gpu === false ? "cpu" : settings.gpu],
      cause: error,
    });
  }
  if (settings.gpu !== false && settings.gpu !== "auto" && llama.gpu !== settings.gpu) {
    // node-llama-cpp answers a back end this platform lacks (metal on Linux) with the CPU build, silently.
    const loaded = llama.gpu === false ? "the CPU build" : `the ${llama.gpu} build`;
    await llama.dispose().catch(() => {});
    throw new UserError({
      code: "provider-invalid",
      message: `cannot start llama.cpp with gpu ${JSON.stringify(settings.gpu)}: node-llama-cpp loaded ${loaded} instead`,
      hint: NO_BINARY_HINTS[settings.gpu],
    });
  }
  return { lib, llama };
}

async function loadEngine(modelPath: string, settings: Settings): Promise<Engine> {
  const { lib, llama } = await loadLlama(settings);
  try {
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({
      sequences: settings.parallel,
      contextSize: settings.contextSize ?? { max: DEFAULT_MAX_CONTEXT },
      threads: settings.threads ?? defaultThreads(llama.cpuMathCores, availableParallelism()),
    });
    // Resolves the GGUF's own (jinja) chat template, or a general wrapper when the model has none.
    const chatWrapper = lib.resolveChatWrapper(model);
    return { lib, llama, model, context, chatWrapper };
  } catch (error) {
    await llama.dispose().catch(() => {});
    throw new UserError({
      code: "provider-invalid",
      message: `cannot load the model ${modelPath}: ${error instanceof Error ? error.message : String(error)}`,
      hint: "the file may be truncated or use an architecture this llama.cpp does not know; try re-downloading it",
      cause: error,
    });
  }
}

/** An embedder over a local GGUF model, as `similar` uses it. */
export interface LocalEmbedder {
  /** One vector per text, in order (node-llama-cpp's embedding context, one text at a time). */
  embed(texts: string[]): Promise<number[][]>;
  /** Frees the model. */
  close(): Promise<void>;
}

/**
 * Embeds texts with the model of a `local:` provider spec (its gpu and threads settings apply),
 * loaded at the first call, so a run the cache answers whole never loads it.
 */
export async function createLocalEmbedder(
  spec: ProviderSpec,
  options: LocalProviderOptions = {},
): Promise<LocalEmbedder> {
  const env = options.env ?? process.env;
  const ref = spec.id.replace(/^local:/, "").trim() || defaultLocalModelRef(env);
  const settings = readSettings(spec.params, env);
  const modelPath = await resolveModelPath(ref, {
    env,
    fetch: options.fetch,
    onProgress: options.onProgress,
    cwd: options.cwd,
  });
  type Loaded = {
    llama: Llama;
    model: LlamaModel;
    context: Awaited<ReturnType<LlamaModel["createEmbeddingContext"]>>;
  };
  let loaded: Promise<Loaded> | undefined;
  const load = (): Promise<Loaded> =>
    (loaded ??= (async () => {
      const { llama } = await loadLlama(settings);
      try {
        const model = await llama.loadModel({ modelPath });
        const context = await model.createEmbeddingContext({
          contextSize: settings.contextSize ?? { max: DEFAULT_MAX_CONTEXT },
          threads: settings.threads ?? defaultThreads(llama.cpuMathCores, availableParallelism()),
        });
        return { llama, model, context };
      } catch (error) {
        await llama.dispose().catch(() => {});
        throw new UserError({
          code: "provider-invalid",
          message: `cannot load the model ${modelPath} for embeddings: ${error instanceof Error ? error.message : String(error)}`,
          hint: "the file may be truncated or use an architecture this llama.cpp does not know",
          cause: error,
        });
      }
    })());
  // One embedding context evaluates one text at a time.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    embed(texts) {
      const run = queue.then(async () => {
        const { context } = await load();
        const vectors: number[][] = [];
        for (const text of texts) vectors.push([...(await context.getEmbeddingFor(text)).vector]);
        return vectors;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (!loaded) return;
      const { llama, model, context } = await loaded.catch(() => ({}) as Partial<Loaded>);
      await context?.dispose();
      await model?.dispose();
      await llama?.dispose();
    },
  };
}
