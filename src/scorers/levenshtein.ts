import { checkOptionKeys, readBoolean, readNumber, type ScorerContext, scorerError } from "./options.js";
import { cannotScore, quote, readExpected } from "./result.js";
import { codePointLength, levenshtein } from "./text-metrics.js";
import type { Scorer, ScorerSpec } from "./types.js";

/** The edits promptfoo's levenshtein allows when no threshold is given. */
const DEFAULT_MAX_EDITS = 5;

/**
 * `levenshtein`: the edit distance between the trimmed output and the expected text. Pass when at
 * most `threshold` edits (promptfoo's meaning, default 5) or, with `maxDistance`, when the
 * normalized distance (edits ÷ the longer length) is at most that. The score is 1 − the normalized
 * distance; with several expected texts the closest counts: the one with the fewest edits under
 * `threshold`, the smallest normalized distance under `maxDistance`. `ignoreCase` (default false).
 */
export function createLevenshteinScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["threshold", "maxDistance", "ignoreCase"], context);
  const maxEdits = readNumber(spec, "threshold", context, { min: 0 });
  const maxDistance = readNumber(spec, "maxDistance", context, { min: 0, max: 1 });
  if (maxEdits !== undefined && maxDistance !== undefined) {
    throw scorerError(
      context,
      "levenshtein scorer: give threshold (edits) or maxDistance (normalized), not both",
      "threshold: 3 allows three edits; maxDistance: 0.2 allows edits up to a fifth of the longer text",
      "maxDistance",
    );
  }
  const ignoreCase = readBoolean(spec, "ignoreCase", context, false);
  const prepare = (text: string) => (ignoreCase ? text.trim().toLowerCase() : text.trim());
  return ({ output, expected }) => {
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason);
    const got = prepare(output);
    let best: { edits: number; normalized: number; answer: string } | undefined;
    for (const answer of answers.answers) {
      const wanted = prepare(answer);
      const edits = levenshtein(got, wanted);
      const longer = Math.max(codePointLength(got), codePointLength(wanted));
      const normalized = longer === 0 ? 0 : edits / longer;
      // Each mode keeps the answer closest by its own measure: fewer edits is not always a
      // smaller normalized distance (3 edits from "x" beat 7 from a long near-match).
      const closer = !best || (maxDistance !== undefined ? normalized < best.normalized : edits < best.edits);
      if (closer) best = { edits, normalized, answer };
    }
    const { edits, normalized, answer } = best!;
    const pass =
      maxDistance !== undefined ? normalized <= maxDistance : edits <= (maxEdits ?? DEFAULT_MAX_EDITS);
    const limit =
      maxDistance !== undefined
        ? `normalized distance ${maxDistance}`
        : `${maxEdits ?? DEFAULT_MAX_EDITS} edits`;
    return {
      pass,
      score: 1 - normalized,
      extracted: null,
      reason: `${edits} ${edits === 1 ? "edit" : "edits"} (normalized distance ${normalized.toFixed(3)}) from ${quote(answer.trim(), 60)}; ${pass ? "within" : "over"} ${limit}`,
    };
  };
}
