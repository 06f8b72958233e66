/**
 * Fitting few-shot examples into a token budget, and counting tokens the way OpenAI models do.
 */
import type { ShotRow } from "./types.js";

/** Which example goes first when the prompt is too long. */
export type DropOrder = "last" | "least-similar";

/** Options of fitShotsToBudget. */
export interface BudgetOptions {
  /** Largest allowed token count of the rendered prompt. */
  maxTokens: number;
  /** Token counter, e.g. from createTokenCounter. */
  countTokens: (text: string) => number;
  /**
   * `last`: drop the last shot in prompt order. `least-similar`: drop the shot with the highest
   * `rank` (for `similar` selection, the least similar) whatever the prompt order; shots without
   * a rank fall back to `last`.
   */
  dropOrder: DropOrder;
}

/** What fitShotsToBudget kept. */
export interface BudgetResult<T extends ShotRow> {
  /** The shots kept, in their original prompt order. */
  shots: T[];
  /** Number of shots kept (shots.length): the k actually used. */
  k: number;
  /** Token count of the prompt rendered with the kept shots. */
  tokens: number;
  /** Ids of the dropped shots, in the order they were dropped. */
  dropped: string[];
  /** False when even the prompt with no shots is over budget; it is returned anyway, with no shots. */
  fits: boolean;
}

/** Index of the shot to drop next. */
function dropIndex(shots: readonly ShotRow[], dropOrder: DropOrder): number {
  if (dropOrder === "least-similar") {
    let worst = -1;
    let worstRank = Number.NEGATIVE_INFINITY;
    shots.forEach((shot, index) => {
      const rank = (shot as { rank?: unknown }).rank;
      if (typeof rank === "number" && rank >= worstRank) {
        worst = index;
        worstRank = rank;
      }
    });
    if (worst >= 0) return worst;
  }
  return shots.length - 1;
}

/**
 * Drop shots one at a time until the rendered prompt fits `maxTokens`.
 * Renders once per drop: k is small, and rendering is the only exact way to know the length.
 */
export async function fitShotsToBudget<T extends ShotRow>(
  shots: readonly T[],
  render: (shots: T[]) => string | Promise<string>,
  options: BudgetOptions,
): Promise<BudgetResult<T>> {
  if (!(options.maxTokens >= 0)) throw new RangeError(`maxTokens must be ≥ 0, received ${options.maxTokens}`);
  const kept = shots.slice();
  const dropped: string[] = [];
  for (;;) {
    const tokens = options.countTokens(await render(kept.slice()));
    if (tokens <= options.maxTokens || kept.length === 0) {
      return { shots: kept, k: kept.length, tokens, dropped, fits: tokens <= options.maxTokens };
    }
    const [removed] = kept.splice(dropIndex(kept, options.dropOrder), 1);
    dropped.push(removed.id);
  }
}

/** A tokenizer encoding gpt-tokenizer ships and promptsmith uses. */
export type TokenEncoding = "o200k_base" | "cl100k_base";

/**
 * The encoding of a model name: cl100k_base for gpt-4 (incl. -turbo, -32k), gpt-3.5 and the
 * ada-002/3 embeddings; o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o-series and anything
 * unknown (the encoding of every current OpenAI model, and a fair estimate for others).
 */
export function encodingForModel(model?: string): TokenEncoding {
  if (!model) return "o200k_base";
  // "openai/gpt-4", "ft:gpt-3.5-turbo:org:x" → the base model name.
  let name = model.trim().toLowerCase();
  name = name.slice(name.lastIndexOf("/") + 1);
  if (name.startsWith("ft:")) name = name.slice(3);
  if (/^gpt-3\.5(-|$)/.test(name) || /^gpt-4(-|$)/.test(name) || /^text-embedding-(ada-002|3-)/.test(name)) {
    return "cl100k_base";
  }
  return "o200k_base";
}

/** True for the names of OpenAI's models, whose tokens {@link encodingForModel}'s encodings count exactly. */
export function isOpenAIModelName(model: string): boolean {
  let name = model.trim().toLowerCase();
  name = name.slice(name.lastIndexOf("/") + 1);
  if (name.startsWith("ft:")) name = name.slice(3);
  return /^(gpt-|chatgpt-|o\d|text-embedding-)/.test(name);
}

type Encoder = { countTokens: (text: string, options?: { disallowedSpecial?: Set<string> }) => number };
const encoders = new Map<TokenEncoding, Promise<Encoder>>();

function loadEncoder(encoding: TokenEncoding): Promise<Encoder> {
  let loaded = encoders.get(encoding);
  if (!loaded) {
    // Lazy: each encoding's rank table is megabytes, and most runs never count tokens.
    loaded =
      encoding === "cl100k_base"
        ? import("gpt-tokenizer/encoding/cl100k_base")
        : import("gpt-tokenizer/encoding/o200k_base");
    encoders.set(encoding, loaded);
  }
  return loaded;
}

/**
 * A token counter for `model`'s encoding. It counts the text only (not chat-message framing), and
 * treats special-token look-alikes such as "<|endoftext|>" in untrusted text as ordinary text
 * instead of throwing.
 */
export async function createTokenCounter(model?: string): Promise<(text: string) => number> {
  const encoder = await loadEncoder(encodingForModel(model));
  const plain = { disallowedSpecial: new Set<string>() };
  return (text: string) => encoder.countTokens(text, plain);
}
