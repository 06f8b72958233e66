/**
 * Keys for jobs: the cache key (what makes two calls interchangeable) and the job id (which
 * (prompt, provider, case, sample) a journal line or Batch request belongs to).
 */
import { createHash } from "node:crypto";
import type { ChatMessage } from "../providers/types.js";

/**
 * Everything that decides a model's answer. API keys are deliberately absent: the caller never
 * passes them, so a cache file can be shared without leaking credentials, and rotating a key
 * does not empty the cache.
 */
export interface CacheKeyParts {
  providerId: string;
  baseURL?: string;
  model?: string;
  messages: ChatMessage[];
  params: Record<string, unknown>;
  /** Which sample of the same request this is; samples must not share a cache entry. */
  sampleIndex: number;
  /** True when the request goes to /v1/completions instead of chat. */
  completions?: boolean;
}

/** Bumped when the meaning of the hashed object changes, so old entries stop matching. */
const CACHE_KEY_VERSION = 1;

/**
 * JSON with object keys sorted at every depth and `undefined` members dropped, so two objects
 * that mean the same thing serialize to the same text whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value)) ?? "null";
}

function canonicalize(value: unknown): unknown {
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    // Dates and friends: use the text JSON.stringify would have used.
    return canonicalize((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) {
    // JSON turns undefined array items into null; keep positions stable the same way.
    return value.map((item) => (item === undefined ? null : canonicalize(item)));
  }
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
      sorted[key] = canonicalize(member);
    }
    return sorted;
  }
  return value;
}

/** The response-cache key: sha256 (hex) of the canonical JSON of the parts. */
export function cacheKey(parts: CacheKeyParts): string {
  return requestHash(
    {
      v: CACHE_KEY_VERSION,
      providerId: parts.providerId,
      // `http://host/v1` and `http://host/v1/` are the same endpoint.
      baseURL: parts.baseURL?.replace(/\/+$/, ""),
    },
    parts,
  );
}

/**
 * sha256 (hex) of the canonical JSON of what decides a model's answer to one sample (model,
 * messages, parameters, sample index, endpoint kind), beside `who` asks it: the cache's and the
 * cassette's keys differ only there.
 */
function requestHash(
  who: Record<string, unknown>,
  parts: Pick<CacheKeyParts, "model" | "messages" | "params" | "sampleIndex" | "completions">,
): string {
  const hashed = {
    ...who,
    model: parts.model,
    messages: parts.messages.map((message) => ({ role: message.role, content: message.content })),
    params: parts.params,
    sampleIndex: parts.sampleIndex,
    // Absent and false both mean chat; only true changes the endpoint.
    completions: parts.completions === true ? true : undefined,
  };
  return createHash("sha256").update(canonicalJson(hashed)).digest("hex");
}

/** What identifies one job in a run. */
export interface JobIdParts {
  promptId: string;
  providerLabel: string;
  caseId: string;
  /** Sample index when a case is sampled more than once; omitted means the single sample. */
  sample?: number;
  /** Which run of the case, when every case is run more than once (`repeat: k`). */
  repeat?: number;
}

// `|` separates the parts and `#s` starts the sample suffix; `%` is escaped so decoding is exact.
const escapePart = (part: string): string =>
  part.replace(/[%|#]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
const unescapePart = (part: string): string =>
  part.replace(/%(25|7C|23)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/**
 * A stable, readable job id such as `cot|openai:gpt-4o-mini|17`, `cot|openai:gpt-4o-mini|17#s2`
 * (shot draw 2) or `…|17#r1` (the second run of a repeated case).
 * Used as the journal key and the Batch `custom_id`. `%`, `|` and `#` inside a part are written
 * `%25`, `%7C` and `%23`, so different parts never give the same id.
 */
export function jobId(parts: JobIdParts): string {
  const base = [parts.promptId, parts.providerLabel, parts.caseId].map(escapePart).join("|");
  for (const [name, value] of [
    ["sample", parts.sample],
    ["repeat", parts.repeat],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0))
      throw new RangeError(`jobId: ${name} must be a non-negative integer, got ${value}`);
  }
  const sample = parts.sample === undefined ? "" : `#s${parts.sample}`;
  const repeat = parts.repeat === undefined ? "" : `#r${parts.repeat}`;
  return `${base}${sample}${repeat}`;
}

/** The inverse of `jobId`; undefined when the text is not a job id. */
export function parseJobId(id: string): JobIdParts | undefined {
  const match = /^([^|#]*)\|([^|#]*)\|([^|#]*)(?:#s(\d+))?(?:#r(\d+))?$/.exec(id);
  if (!match) return undefined;
  const parts: JobIdParts = {
    promptId: unescapePart(match[1]),
    providerLabel: unescapePart(match[2]),
    caseId: unescapePart(match[3]),
  };
  if (match[4] !== undefined) parts.sample = Number(match[4]);
  if (match[5] !== undefined) parts.repeat = Number(match[5]);
  return parts;
}

/**
 * What names one sample in a cassette (`eval --record`): the cache key's parts with the provider's
 * label in place of the endpoint, so a cassette recorded against one server replays on a machine
 * with another (or none), and two providers of one model at two endpoints stay apart.
 */
export interface CassetteKeyParts {
  /** The provider's label in the config. */
  provider: string;
  /** The model named in the request (OpenAI-compatible providers). */
  model?: string;
  messages: ChatMessage[];
  params: Record<string, unknown>;
  sampleIndex: number;
  completions?: boolean;
}

/** Bumped when the meaning of a cassette key changes, so old cassettes stop matching. */
const CASSETTE_KEY_VERSION = 1;

/** The cassette key: sha256 (hex) of the canonical JSON of the parts. */
export function cassetteKey(parts: CassetteKeyParts): string {
  return requestHash({ v: CASSETTE_KEY_VERSION, provider: parts.provider }, parts);
}
