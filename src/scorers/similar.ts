import { checkOptionKeys, readNumber, type ScorerContext, scorerError } from "./options.js";
import { cannotScore, fail, quote, readExpected } from "./result.js";
import type { Scorer, ScorerEmbedding, ScorerSpec } from "./types.js";

/** The threshold promptfoo's `similar` uses when none is given. */
const DEFAULT_THRESHOLD = 0.75;

/** Cosine similarity of two vectors of equal length (0 when either is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  // Truncating to the shorter would give a number that means nothing: two models' vectors mixed.
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function readEmbedding(spec: ScorerSpec, context: ScorerContext): ScorerEmbedding {
  const embedding = spec.embedding;
  if (
    typeof embedding === "object" &&
    embedding !== null &&
    typeof (embedding as ScorerEmbedding).model === "string"
  ) {
    return embedding as ScorerEmbedding;
  }
  if (embedding === undefined) return { model: "text-embedding-3-small" };
  throw scorerError(
    context,
    "similar scorer: embedding must name a model",
    "write embedding: { model: text-embedding-3-small }",
    "embedding",
  );
}

/**
 * `similar`: cosine similarity between the embeddings of the output and of the expected text
 * (several expected texts: the closest), from an OpenAI-compatible /v1/embeddings endpoint
 * (`embedding: { model, provider }`), cached like every answer. Passes at `threshold` (default
 * 0.75, as promptfoo); the score is the similarity, floored at 0.
 */
export function createSimilarScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["threshold", "embedding"], context);
  const threshold = readNumber(spec, "threshold", context, { fallback: DEFAULT_THRESHOLD, min: -1, max: 1 });
  const embedding = readEmbedding(spec, context);
  return async ({ output, expected, embed }) => {
    if (!embed) return cannotScore("similar scorer: no embeddings outside a run");
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason);
    // Not sent to be embedded (endpoints reject empty input): similar to nothing, a plain 0.
    if (output.trim() === "") return fail("output is empty: nothing to compare");
    const [mine, ...theirs] = await embed([output, ...answers.answers], embedding);
    const odd = theirs.findIndex((vector) => vector.length !== mine.length);
    if (odd >= 0) {
      return cannotScore(
        `similar scorer: the embeddings differ in length (${mine.length} for the output, ${theirs[odd].length} for ${quote(answers.answers[odd], 40)}), and vectors of different lengths cannot be compared`,
      );
    }
    let best = { similarity: Number.NEGATIVE_INFINITY, answer: answers.answers[0] };
    theirs.forEach((vector, i) => {
      const similarity = cosine(mine, vector);
      if (similarity > best.similarity) best = { similarity, answer: answers.answers[i] };
    });
    const pass = best.similarity >= threshold;
    return {
      pass,
      score: Math.max(0, Math.min(1, best.similarity)),
      extracted: null,
      reason: `cosine similarity ${best.similarity.toFixed(3)} to ${quote(best.answer, 60)} (${embedding.model}); ${pass ? "at least" : "below"} threshold ${threshold}`,
    };
  };
}
