import { checkOptionKeys, readBoolean, type ScorerContext } from "./options.js";
import { cannotScore, describeAnswers, quote, readExpected, unparsed, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

/**
 * `exact`: the output equals the expected answer. Options `trim` (default true: both sides are
 * trimmed) and `ignoreCase` (default false). An array of expected answers passes on any.
 */
export function createExactScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["trim", "ignoreCase"], context);
  const trim = readBoolean(spec, "trim", context, true);
  const ignoreCase = readBoolean(spec, "ignoreCase", context, false);
  const prepare = (text: string) => {
    const trimmed = trim ? text.trim() : text;
    return ignoreCase ? trimmed.toLowerCase() : trimmed;
  };

  return ({ output, expected }) => {
    const extracted = trim ? output.trim() : output;
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason, extracted);
    if (output.trim() === "") return unparsed("output is empty");
    const got = prepare(output);
    const pass = answers.answers.some((answer) => prepare(answer) === got);
    const how = ignoreCase ? " (ignoring case)" : "";
    const wanted = describeAnswers(answers.answers.map((a) => (trim ? a.trim() : a)));
    return verdict(
      pass,
      extracted,
      pass ? `output equals ${wanted}${how}` : `expected ${wanted}${how}, got ${quote(extracted)}`,
    );
  };
}
