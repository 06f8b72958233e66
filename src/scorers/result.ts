import type { ScoreResult } from "./types.js";

/** The acceptable answers of a case, as text, or why the case has none usable. */
export type ExpectedAnswers =
  | { ok: true; answers: string[] }
  /** `missing`: no answer at all (undefined, null, []), rather than one of the wrong type. */
  | { ok: false; missing: boolean; reason: string };

/**
 * Reads a case's `expected`: a string, number or boolean is one acceptable answer; an array lists
 * several acceptable answers (a scorer passes when any of them matches).
 */
export function readExpected(expected: unknown): ExpectedAnswers {
  const items = Array.isArray(expected) ? expected : [expected];
  const answers: string[] = [];
  for (const item of items) {
    if (item === undefined || item === null) continue;
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      answers.push(String(item));
    } else if (typeof item === "bigint") {
      answers.push(item.toString());
    } else {
      return {
        ok: false,
        missing: false,
        reason: `the case's expected answer must be a string, number, boolean or a list of them, not ${Array.isArray(item) ? "a nested list" : typeof item}`,
      };
    }
  }
  if (answers.length === 0) return { ok: false, missing: true, reason: "the case has no expected answer" };
  return { ok: true, answers };
}

/** A failed verdict with score 0. */
export function fail(reason: string, extracted: string | null = null): ScoreResult {
  return { pass: false, score: 0, extracted, reason };
}

/**
 * The scorer could not judge at all (a missing or malformed expected answer, a user function that
 * threw): a failed verdict that negation (`not: true`) leaves failed.
 */
export function cannotScore(reason: string, extracted: string | null = null): ScoreResult {
  return { pass: false, score: 0, extracted, reason, unscored: true };
}

/** No answer could be read from the output: not the same as a wrong answer. */
export function unparsed(reason: string): ScoreResult {
  return { pass: false, score: 0, extracted: null, reason, unparsed: true };
}

/** A pass/fail verdict scored 1 or 0. */
export function verdict(pass: boolean, extracted: string | null, reason: string): ScoreResult {
  return { pass, score: pass ? 1 : 0, extracted, reason };
}

/** Quotes text for a reason, shortened so one long output does not flood a report. */
export function quote(text: string, max = 80): string {
  const short = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return JSON.stringify(short);
}

/** `"a"` for one answer, `one of "a", "b"` for several. */
export function describeAnswers(
  answers: readonly string[],
  show: (answer: string) => string = quote,
): string {
  return answers.length === 1
    ? show(answers[0])
    : `one of ${answers.map((answer) => show(answer)).join(", ")}`;
}
