import { checkOptionKeys, type ScorerContext } from "./options.js";
import { cannotScore, describeAnswers, quote, readExpected, unparsed, verdict } from "./result.js";
import { normalizeAnswer } from "./squad.js";
import type { Scorer, ScorerSpec } from "./types.js";

/**
 * `normalized`: SQuAD exact match, equality after the official v1.1 `normalize_answer`
 * (lower-case, no punctuation, no articles, single spaces). An array of expected answers passes on any.
 * An expected `""` (no answer) is matched by an output that normalizes to nothing, as in SQuAD 2.0.
 */
export function createNormalizedScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, [], context);
  return ({ output, expected }) => {
    const got = normalizeAnswer(output);
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason, got);
    const wanted = answers.answers.map(normalizeAnswer);
    if (got === "" && wanted.includes("")) {
      return verdict(
        true,
        got,
        "the output and the expected answer are both empty after normalizing (SQuAD 2.0's rule for unanswerable questions)",
      );
    }
    if (output.trim() === "") return unparsed("output is empty");
    const pass = wanted.includes(got);
    return verdict(
      pass,
      got,
      pass
        ? `normalized output ${quote(got)} equals ${describeAnswers(wanted)}`
        : `normalized output ${quote(got)} does not equal expected ${describeAnswers(wanted)}`,
    );
  };
}
