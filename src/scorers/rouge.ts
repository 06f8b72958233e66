import { checkOptionKeys, readNumber, readString, type ScorerContext, scorerError } from "./options.js";
import { cannotScore, fail, quote, readExpected } from "./result.js";
import { type Overlap, rougeL, rougeN } from "./text-metrics.js";
import type { ScoreResult, Scorer, ScorerSpec } from "./types.js";

/** Which side of the overlap a ROUGE scorer reports. */
type Measure = "recall" | "precision" | "f";

const MEASURES: readonly Measure[] = ["recall", "precision", "f"];

/** The threshold promptfoo's rouge-n uses when none is given. */
const DEFAULT_THRESHOLD = 0.75;

function readMeasure(spec: ScorerSpec, context: ScorerContext, fallback: Measure): Measure {
  const measure = readString(spec, "measure", context, false) ?? fallback;
  if (!(MEASURES as readonly string[]).includes(measure)) {
    throw scorerError(
      context,
      `${spec.type} scorer: measure must be one of ${MEASURES.join(", ")}, received ${JSON.stringify(measure)}`,
      "recall is the original ROUGE-N; f is the harmonic mean of precision and recall",
      "measure",
    );
  }
  return measure as Measure;
}

function createRougeScorer(
  label: string,
  measure: Measure,
  threshold: number,
  compute: (output: string, reference: string) => Overlap,
): Scorer {
  return ({ output, expected }): ScoreResult => {
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason);
    // No tokens overlap nothing: a plain 0, so a negated metric passes on an empty output.
    if (output.trim() === "") return fail("output is empty: no tokens to overlap");
    let best: { overlap: Overlap; reference: string } | undefined;
    for (const reference of answers.answers) {
      const overlap = compute(output, reference);
      if (!best || overlap[measure] > best.overlap[measure]) best = { overlap, reference };
    }
    const { overlap, reference } = best!;
    const value = overlap[measure];
    const pass = value >= threshold;
    const against = answers.answers.length === 1 ? "" : ` (best of ${answers.answers.length} references)`;
    return {
      pass,
      score: value,
      extracted: null,
      reason:
        `${label} ${measure === "f" ? "F" : measure} ${value.toFixed(3)} (P ${overlap.precision.toFixed(3)}, ` +
        `R ${overlap.recall.toFixed(3)}) against ${quote(reference, 60)}${against}; ` +
        `${pass ? "at least" : "below"} threshold ${threshold}`,
    };
  };
}

/**
 * `rouge-n`: ROUGE-N (Lin 2004) of the output against the expected text, tokenized as rouge-score
 * does; `n` (default 1), `measure` (default recall, the original ROUGE-N and promptfoo's),
 * `threshold` (default 0.75). Several expected texts: the best one counts.
 */
export function createRougeNScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["n", "measure", "threshold"], context);
  const n = readNumber(spec, "n", context, { fallback: 1, min: 1, max: 9 });
  if (!Number.isInteger(n)) {
    throw scorerError(
      context,
      `rouge-n scorer: n must be a whole number, received ${n}`,
      "write e.g. n: 2",
      "n",
    );
  }
  const measure = readMeasure(spec, context, "recall");
  const threshold = readNumber(spec, "threshold", context, { fallback: DEFAULT_THRESHOLD, min: 0, max: 1 });
  return createRougeScorer(`ROUGE-${n}`, measure, threshold, (output, reference) =>
    rougeN(output, reference, n),
  );
}

/**
 * `rouge-l`: ROUGE-L, the longest common subsequence of tokens, as rouge-score's `rougeL`;
 * `measure` (default f), `threshold` (default 0.75).
 */
export function createRougeLScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["measure", "threshold"], context);
  const measure = readMeasure(spec, context, "f");
  const threshold = readNumber(spec, "threshold", context, { fallback: DEFAULT_THRESHOLD, min: 0, max: 1 });
  return createRougeScorer("ROUGE-L", measure, threshold, rougeL);
}
