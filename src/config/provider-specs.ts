import path from "node:path";
import type { ProviderSpec } from "../providers/types.js";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import { defaultProviders } from "./defaults.js";
import { didYouMean } from "./did-you-mean.js";
import { providerParamsSchema } from "./schema.js";
import { type ConfigPath, formatConfigPath } from "./source.js";

// Parameters OpenAI-compatible servers commonly accept. Params are passed through as written, so
// an unknown key is allowed; only a near miss of one of these is taken for a typo.
const KNOWN_PARAMS = [
  ...Object.keys(providerParamsSchema.shape),
  "top_k",
  "min_p",
  "repeat_penalty",
  "max_completion_tokens",
  "reasoning_effort",
  "response_format",
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "user",
];

/** Whether a string is a provider id promptsmith can run: `openai:<model>`, `echo`, `local:<path>`, `replay:<path>`. */
export function isProviderId(id: string): boolean {
  if (id === "echo" || id.startsWith("echo:")) return true;
  const colon = id.indexOf(":");
  const prefix = id.slice(0, colon + 1);
  return (prefix === "openai:" || prefix === "local:" || prefix === "replay:") && id.length > colon + 1;
}

/**
 * Normalizes `providers`: string form expanded, label defaulted to the id, `local:` model paths
 * made absolute, ids and labels checked. Absent or empty means `defaultProviders(env)`.
 */
export function normalizeProviders(raw: unknown, ctx: NormalizeContext): ProviderSpec[] {
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0))
    return defaultProviders(ctx.env);
  if (!Array.isArray(raw)) return [];
  const specs: ProviderSpec[] = [];
  const labels = new Map<string, number>();
  raw.forEach((entry, index) => {
    const at: ConfigPath = ["providers", index];
    const written = typeof entry === "string";
    const fields = written ? { id: entry } : isRecord(entry) ? entry : undefined;
    const spec = normalizeProviderEntry(entry, at, ctx);
    if (!fields || !isNonEmptyString(fields.id)) return;
    const label = isNonEmptyString(fields.label) ? fields.label : fields.id;
    const first = labels.get(label);
    if (first !== undefined) {
      const explicit = isNonEmptyString(fields.label);
      ctx.problems.add({
        path: explicit ? [...at, "label"] : written ? at : [...at, "id"],
        message: `duplicate provider label ${JSON.stringify(label)} (${formatConfigPath(["providers", first])} has it too)`,
        hint: explicit ? "give each provider a different label" : "add a label to tell them apart",
      });
      return;
    }
    labels.set(label, index);
    if (spec) specs.push(spec);
  });
  return specs;
}

/**
 * One provider as written (an id string, or the object form) at `at`: the id checked, a `local:`
 * path made absolute, baseURL, apiKeyEnv and params checked, the label defaulted to the id.
 * Undefined when something was reported (or the schema will report the shape).
 */
export function normalizeProviderEntry(
  entry: unknown,
  at: ConfigPath,
  ctx: NormalizeContext,
): ProviderSpec | undefined {
  const written = typeof entry === "string";
  if (isSplitId(entry)) {
    reportSplitId(entry, at, ctx);
    return undefined;
  }
  const fields = written ? { id: entry } : isRecord(entry) ? entry : undefined;
  if (!fields || !isNonEmptyString(fields.id)) return undefined;
  const idAt = written ? at : [...at, "id"];
  const id = checkProviderId(fields.id, idAt, ctx);
  const ok = [
    id !== undefined,
    checkBaseURL(fields.baseURL, [...at, "baseURL"], ctx),
    checkApiKeyEnv(fields.apiKeyEnv, [...at, "apiKeyEnv"], ctx),
    checkParams(fields.params, [...at, "params"], ctx),
  ].every(Boolean);
  if (!ok || id === undefined) return undefined;
  const label = isNonEmptyString(fields.label) ? fields.label : fields.id;
  const spec: ProviderSpec = { id, label, params: isRecord(fields.params) ? { ...fields.params } : {} };
  if (typeof fields.baseURL === "string") spec.baseURL = fields.baseURL;
  if (typeof fields.apiKeyEnv === "string") spec.apiKeyEnv = fields.apiKeyEnv;
  if (typeof fields.completions === "boolean") spec.completions = fields.completions;
  if (typeof fields.timeoutMs === "number") spec.timeoutMs = fields.timeoutMs;
  if (typeof fields.maxRetries === "number") spec.maxRetries = fields.maxRetries;
  if (typeof fields.rpm === "number") spec.rpm = fields.rpm;
  if (typeof fields.tpm === "number") spec.tpm = fields.tpm;
  if (
    isRecord(fields.price) &&
    typeof fields.price.input === "number" &&
    typeof fields.price.output === "number"
  )
    spec.price = { input: fields.price.input, output: fields.price.output };
  return spec;
}

function checkProviderId(id: string, at: ConfigPath, ctx: NormalizeContext): string | undefined {
  if (isProviderId(id)) {
    // A cassette is a file like any other in the config: relative to it.
    if (id.startsWith("replay:")) return `replay:${path.resolve(ctx.baseDir, id.slice("replay:".length))}`;
    if (!id.startsWith("local:")) return id;
    const model = id.slice("local:".length);
    // A path (not a bare model name) is relative to the config, like every other path in it.
    const isPath = /[\\/]/.test(model) || model.toLowerCase().endsWith(".gguf");
    return isPath ? `local:${path.resolve(ctx.baseDir, model)}` : id;
  }
  const colon = id.indexOf(":");
  const prefix = colon >= 0 ? id.slice(0, colon) : "";
  const rest = colon >= 0 ? id.slice(colon + 1) : id;
  let hint: string;
  if ((prefix === "openai" || prefix === "local" || prefix === "replay") && rest === "") {
    hint =
      prefix === "openai"
        ? 'name the model, e.g. "openai:gpt-4o-mini"'
        : prefix === "replay"
          ? 'give the cassette file, e.g. "replay:ci/cassette.jsonl"'
          : 'give the model file, e.g. "local:models/qwen.gguf"';
  } else if (id.toLowerCase().endsWith(".gguf")) {
    hint = `write "local:${id}" for a model file`;
  } else if (prefix === "ollama") {
    hint = `write "openai:${rest}" with baseURL: http://127.0.0.1:11434/v1 (Ollama speaks the OpenAI API)`;
  } else if (prefix) {
    hint = `for a model behind an OpenAI-compatible endpoint, write "openai:${rest}" and set baseURL`;
  } else {
    hint = `write "openai:${id}" for a model behind an OpenAI-compatible endpoint`;
  }
  ctx.problems.add({
    path: at,
    message: `expected a provider id "openai:<model>", "echo", "local:<path.gguf>" or "replay:<cassette.jsonl>", received ${JSON.stringify(id)}`,
    hint,
  });
  return undefined;
}

function checkBaseURL(value: unknown, at: ConfigPath, ctx: NormalizeContext): boolean {
  if (typeof value !== "string") return true;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (url && (url.protocol === "http:" || url.protocol === "https:")) return true;
  ctx.problems.add({
    path: at,
    message: `expected an http(s) URL, received ${JSON.stringify(value)}`,
    hint: /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
      ? "use http:// or https://"
      : `write "http://${value}"${value.includes("/v1") ? "" : " (most servers want the /v1 suffix)"}`,
  });
  return false;
}

function checkApiKeyEnv(value: unknown, at: ConfigPath, ctx: NormalizeContext): boolean {
  if (typeof value !== "string" || /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return true;
  // Never echo what may be a secret into a terminal or a CI log.
  const looksLikeKey = /^(sk-|gsk_|xai-|hf_)/.test(value) || (value.length >= 30 && !/\s/.test(value));
  ctx.problems.add({
    path: at,
    message: looksLikeKey
      ? "expected the name of an environment variable, received what looks like an API key"
      : `expected the name of an environment variable (letters, digits, _), received ${JSON.stringify(value)}`,
    hint: looksLikeKey
      ? "keep the key out of the config: export it, e.g. OPENAI_API_KEY=…, and write apiKeyEnv: OPENAI_API_KEY"
      : "e.g. apiKeyEnv: OPENAI_API_KEY",
  });
  return false;
}

/**
 * Checks generation parameters (of a provider or a prompt) for near misses of the known names;
 * their types are the schema's. False when a problem was reported.
 */
export function checkParams(value: unknown, at: ConfigPath, ctx: NormalizeContext): boolean {
  if (!isRecord(value)) return true;
  let ok = true;
  for (const key of Object.keys(value)) {
    if (KNOWN_PARAMS.includes(key) || key.length < 6) continue;
    const guess = didYouMean(key, KNOWN_PARAMS);
    if (!guess) continue;
    ok = false;
    ctx.problems.add({
      path: [...at, key],
      atKey: true,
      message: `unknown parameter "${key}"`,
      hint: `did you mean "${guess}"? (params are sent to the endpoint as written)`,
    });
  }
  return ok;
}

// `- openai: gpt-4o` (a space after the colon) or `- openai:` (nothing after it) read as a
// mapping in YAML, not as the id string the user meant.
function isSplitId(entry: unknown): entry is Record<string, unknown> {
  if (!isRecord(entry)) return false;
  const keys = Object.keys(entry);
  return (
    keys.length === 1 && ["openai", "local", "echo", "replay"].includes(keys[0]) && entry.id === undefined
  );
}

function reportSplitId(entry: Record<string, unknown>, at: ConfigPath, ctx: NormalizeContext): void {
  const [prefix, value] = Object.entries(entry)[0];
  const model = value === null || value === undefined ? "" : String(value);
  const written = model ? `${prefix}: ${model}` : `${prefix}:`;
  ctx.problems.claim(at);
  ctx.problems.add({
    path: at,
    message: `expected a provider id such as "openai:<model>", received the mapping ${JSON.stringify(written)}`,
    hint: model
      ? `write "${prefix}:${model}", with no space after the colon (YAML reads "key: value" as a mapping)`
      : prefix === "openai"
        ? 'name the model after the colon, e.g. "openai:gpt-4o-mini"'
        : prefix === "local"
          ? 'give the model file after the colon, e.g. "local:models/qwen.gguf"'
          : prefix === "replay"
            ? 'give the cassette after the colon, e.g. "replay:ci/cassette.jsonl"'
            : 'write "echo"',
  });
}
