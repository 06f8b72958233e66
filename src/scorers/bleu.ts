import {
  checkOptionKeys,
  readBoolean,
  readNumber,
  readString,
  type ScorerContext,
  scorerError,
} from "./options.js";
import { cannotScore, fail, readExpected } from "./result.js";
import { type BleuSmoothing, sentenceBleu } from "./text-metrics.js";
import type { Scorer, ScorerSpec } from "./types.js";

const SMOOTHINGS: readonly BleuSmoothing[] = ["exp", "floor", "add-k", "none"];
const TOKENIZERS = ["13a", "none"] as const;

function readChoice<T extends string>(
  spec: ScorerSpec,
  key: string,
  context: ScorerContext,
  choices: readonly T[],
  hint: string,
): T {
  const value = readString(spec, key, context, false) ?? choices[0];
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw scorerError(
    context,
    `bleu scorer: ${key} must be one of ${choices.join(", ")}, received ${JSON.stringify(value)}`,
    hint,
    key,
  );
}

/**
 * `bleu`: sentence BLEU of the output against the expected text(s) as sacrebleu's `sentence_bleu`
 * computes it (several expected texts are several references); score in [0, 1], pass at
 * `threshold` (default 0.5, as promptfoo). `smoothing` (default `exp`, mteval-v13a's, sacrebleu's
 * default; also `floor`, `add-k`, `none`, with `smoothValue`), `tokenize` (`13a` or `none`),
 * `lowercase` (default false).
 */
export function createBleuScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["threshold", "smoothing", "smoothValue", "tokenize", "lowercase"], context);
  const threshold = readNumber(spec, "threshold", context, { fallback: 0.5, min: 0, max: 1 });
  const smoothing = readChoice(
    spec,
    "smoothing",
    context,
    SMOOTHINGS,
    "exp is mteval-v13a's smoothing (Chen & Cherry method 3), floor is method 1, add-k method 2",
  );
  const smoothValue = readNumber(spec, "smoothValue", context, { min: 0 });
  const tokenize = readChoice(
    spec,
    "tokenize",
    context,
    TOKENIZERS,
    "13a splits punctuation off as WMT does; none splits on spaces only",
  );
  const lowercase = readBoolean(spec, "lowercase", context, false);
  return ({ output, expected }) => {
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason);
    // No tokens overlap nothing: a plain 0, so a negated metric passes on an empty output.
    if (output.trim() === "") return fail("output is empty: no tokens to overlap");
    const bleu = sentenceBleu(output, answers.answers, { smoothing, smoothValue, tokenize, lowercase });
    const pass = bleu.score >= threshold;
    const refs = answers.answers.length === 1 ? "1 reference" : `${answers.answers.length} references`;
    return {
      pass,
      score: bleu.score,
      extracted: null,
      reason:
        `BLEU ${bleu.score.toFixed(3)} (precisions ${bleu.precisions.map((p) => p.toFixed(2)).join("/")}, ` +
        `BP ${bleu.brevityPenalty.toFixed(3)}, ${bleu.hypothesisLength} vs ${bleu.referenceLength} tokens, ${refs}); ` +
        `${pass ? "at least" : "below"} threshold ${threshold}`,
    };
  };
}
