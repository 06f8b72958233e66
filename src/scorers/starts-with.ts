import { checkOptionKeys, readBoolean, type ScorerContext } from "./options.js";
import { cannotScore, describeAnswers, quote, readExpected, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

/**
 * `starts-with`: the output, leading blanks aside, begins with the expected text (an array passes
 * on any). Option `ignoreCase` (default false).
 */
export function createStartsWithScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["ignoreCase"], context);
  const ignoreCase = readBoolean(spec, "ignoreCase", context, false);
  const how = ignoreCase ? " (ignoring case)" : "";
  return ({ output, expected }) => {
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason);
    // Surrounding blanks in a dataset cell are an accident of formatting, not part of the prefix.
    const prefixes = answers.answers.map((a) => a.trim()).filter(Boolean);
    if (prefixes.length === 0) return cannotScore("the case's expected answer is empty");
    const text = output.trimStart();
    // Plainly a miss, not an unreadable answer: `not-starts-with` passes on an empty output.
    if (text === "") return verdict(false, null, "output is empty");
    for (const prefix of prefixes) {
      const head = text.slice(0, prefix.length);
      const same = ignoreCase ? head.toLowerCase() === prefix.toLowerCase() : head === prefix;
      if (same) return verdict(true, head, `output starts with ${quote(prefix)}${how}`);
    }
    return verdict(
      false,
      null,
      `output starts with ${quote(text, 40)}, not ${describeAnswers(prefixes)}${how}`,
    );
  };
}
