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
