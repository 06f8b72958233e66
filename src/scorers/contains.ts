import { checkOptionKeys, type ScorerContext } from "./options.js";
import { cannotScore, describeAnswers, quote, readExpected, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function createSubstringScorer(spec: ScorerSpec, context: ScorerContext, ignoreCase: boolean): Scorer {
  checkOptionKeys(spec, [], context);
  const how = ignoreCase ? " (ignoring case)" : "";
  return ({ output, expected }) => {
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason);
    // Surrounding blanks in a dataset cell are an accident of formatting, not part of the answer.
    const needles = answers.answers.map((a) => a.trim()).filter(Boolean);
    if (needles.length === 0) return cannotScore("the case's expected answer is empty");
    // Plainly a miss, not an unreadable answer: `not-contains` passes on an empty output.
    if (output.trim() === "") return verdict(false, null, "output is empty");
    for (const needle of needles) {
      // A regex rather than toLowerCase, so the match is the output's own text even where
      // lower-casing changes a string's length (İ).
      const found = ignoreCase
        ? new RegExp(escapeRegExp(needle), "iu").exec(output)?.[0]
        : output.includes(needle)
          ? needle
          : undefined;
      if (found !== undefined) return verdict(true, found, `output contains ${quote(found)}${how}`);
    }
    return verdict(false, null, `output does not contain ${describeAnswers(needles)}${how}`);
  };
}

/** `contains`: the expected text occurs in the output (case-sensitive); an array passes on any. */
export function createContainsScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  return createSubstringScorer(spec, context, false);
}

/** `icontains`: like `contains`, ignoring case. */
export function createIcontainsScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  return createSubstringScorer(spec, context, true);
}
