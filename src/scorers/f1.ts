import { checkOptionKeys, readNumber, type ScorerContext } from "./options.js";
import { cannotScore, quote, readExpected, unparsed } from "./result.js";
import { normalizeAnswer, type TokenOverlap, tokenF1 } from "./squad.js";
import type { Scorer, ScorerSpec } from "./types.js";

function fixed(value: number): string {
  return value.toFixed(2);
}

/**
 * `f1`: SQuAD v1.1 token F1 of the normalized output against the expected answer; score = F1,
 * pass when F1 ≥ `threshold` (default 0.5). With several expected answers the best one counts.
 * An expected answer that normalizes to nothing (`""`: the question has no answer) is matched, as
 * in the SQuAD 2.0 evaluation script, only by an output that normalizes to nothing (F1 1, else 0).
 */
export function createF1Scorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["threshold"], context);
  const threshold = readNumber(spec, "threshold", context, { fallback: 0.5, min: 0, max: 1 });
  return ({ output, expected }) => {
    const got = normalizeAnswer(output);
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason, got);
    const unanswerable = answers.answers.some((answer) => normalizeAnswer(answer) === "");
    if (got === "" && unanswerable) {
      return {
        pass: true,
        score: 1,
        extracted: got,
        reason: `F1 1.00: the output and the expected answer are both empty after normalizing (SQuAD 2.0's rule for unanswerable questions)`,
      };
    }
    if (output.trim() === "") return unparsed("output is empty");
    let best: TokenOverlap & { answer: string } = {
      precision: 0,
      recall: 0,
      f1: 0,
      answer: answers.answers[0],
    };
    for (const answer of answers.answers) {
      const overlap = tokenF1(output, answer);
      if (overlap.f1 > best.f1) best = { ...overlap, answer };
    }
    const pass = best.f1 >= threshold;
    const against = answers.answers.length === 1 ? "" : ` (best of ${answers.answers.length} answers)`;
    return {
      pass,
      score: best.f1,
      extracted: got,
      reason:
        `F1 ${fixed(best.f1)} (precision ${fixed(best.precision)}, recall ${fixed(best.recall)}) ` +
        `against ${quote(best.answer)}${against}; ${pass ? "at least" : "below"} threshold ${threshold}`,
    };
  };
}
