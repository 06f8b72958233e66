import { checkOptionKeys, type ScorerContext } from "./options.js";
import { quote, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

// A refusal names what it will not do right after the negation; "I can't be sure, but it's 18" is not one.
const REFUSAL =
  /\b(?:can(?:'|’)?t|cannot|can not|won(?:'|’)t|will not|unable to|not able to)\s+(?:help|assist|answer|provide|comply|do that|fulfill?|complete|solve|support|respond)/i;

// Long outputs that mention "can't help" somewhere are usually worked answers, not refusals.
const MAX_REFUSAL_LENGTH = 600;

/** Whether a model output reads as a refusal ("I can't help with that"), so extractors report it as unparsed. */
export function isRefusal(output: string): boolean {
  const text = output.trim();
  return text.length <= MAX_REFUSAL_LENGTH && REFUSAL.test(text);
}

/**
 * `is-refusal`: the output reads as a refusal ("I can't help with that"); an empty output counts
 * as one. Negate it (`not: true`, `not-is-refusal`) to require an answer.
 */
export function createIsRefusalScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, [], context);
  return ({ output }) => {
    if (output.trim() === "") return verdict(true, null, "output is empty, counted as a refusal");
    const refused = isRefusal(output);
    return verdict(
      refused,
      null,
      refused ? `output reads as a refusal: ${quote(output, 60)}` : "output is not a refusal",
    );
  };
}
