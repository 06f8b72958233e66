import { checkOptionKeys, type ScorerContext } from "./options.js";
import { describeAnswers, fail, quote, readExpected, unparsed, verdict } from "./result.js";
import { normalizeAnswer } from "./squad.js";
import type { Scorer, ScorerSpec } from "./types.js";

/**
 * `normalized`: SQuAD exact match, equality after the official v1.1 `normalize_answer`
 * (lower-case, no punctuation, no articles, single spaces). An array of expected answers passes on any.
 */
export function createNormalizedScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, [], context);
  return ({ output, expected }) => {
    const got = normalizeAnswer(output);
    const answers = readExpected(expected);
    if (!answers.ok) return fail(answers.reason, got);
    if (output.trim() === "") return unparsed("output is empty");
    const wanted = answers.answers.map(normalizeAnswer);
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
