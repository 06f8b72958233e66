import { findLastBoxed } from "./boxed.js";
import { checkOptionKeys, readString, type ScorerContext, scorerError } from "./options.js";
import { isRefusal } from "./refusal.js";
import { cannotScore, quote, readExpected, unparsed, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

/** The option letters a multiple-choice answer may use unless the scorer says otherwise. */
export const DEFAULT_CHOICES = "ABCDEFGHIJ";

/** An option letter read from text, and the snippet it was read from. */
export interface ExtractedChoice {
  letter: string;
  text: string;
}

interface Candidate extends ExtractedChoice {
  index: number;
}

function lettersOf(choices: string): string {
  return [...new Set(choices.toUpperCase())].filter((c) => /^[A-Z]$/.test(c)).join("");
}

function lastOf(candidates: Candidate[]): ExtractedChoice | null {
  let best: Candidate | null = null;
  for (const candidate of candidates) if (!best || candidate.index >= best.index) best = candidate;
  return best ? { letter: best.letter, text: best.text } : null;
}

function collect(text: string, pattern: RegExp): Candidate[] {
  const found: Candidate[] = [];
  for (const match of text.matchAll(pattern)) {
    const letter = match.slice(1).find((group) => group !== undefined);
    if (letter) found.push({ letter: letter.toUpperCase(), text: match[0].trim(), index: match.index });
  }
  return found;
}

/**
 * Reads the option letter a multiple-choice output settles on. In order of trust, the last of:
 * 1. explicit answers: `\boxed{B}`, "answer is B", "answer is (B)", "Answer: B", "option B",
 *    "B is correct", "I choose C", "Therefore C." ending a line (a lower-case letter only in
 *    brackets, a box, or ending the line after an answer phrase: "answer: b");
 * 2. marked letters: `**B**`, `(B)`, `B)`, a line starting "B." or "B:";
 * 3. a line holding nothing but the letter.
 * An output that is just the letter (any case) is read first. A bare capital followed by a word
 * ("A train leaves…") is never read as a choice. Letters outside `choices` are ignored.
 */
export function extractChoice(text: string, choices: string = DEFAULT_CHOICES): ExtractedChoice | null {
  const letters = lettersOf(choices);
  if (letters === "") return null;
  const upper = `[${letters}]`;
  const anyCase = `[${letters}${letters.toLowerCase()}]`;

  const bare = text.trim().replace(/^[\s*_([$]+|[\s*_)\].:$]+$/g, "");
  if (bare.length === 1 && new RegExp(`^${anyCase}$`).test(bare)) {
    return { letter: bare.toUpperCase(), text: text.trim() };
  }

  // Bold markers would split "**Answer:** B" from its letter; the explicit patterns read past them.
  const plain = text.replace(/\*\*|__/g, "");
  const explicit: Candidate[] = [];
  const boxed = findLastBoxed(plain);
  if (boxed) {
    const inner = boxed.content
      .replace(/\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}/g, "$1")
      .replace(/[\s$]/g, "");
    const letter = new RegExp(`^[([]?(${anyCase})(?:[)\\].:].*)?$`, "s").exec(inner)?.[1];
    if (letter)
      explicit.push({ letter: letter.toUpperCase(), text: `\\boxed{${boxed.content}}`, index: boxed.index });
  }
  const phrase = new RegExp(
    String.raw`\b(?:[Aa]nswer|ANSWER|[Oo]ption|OPTION|[Cc]hoice|CHOICE)(?:\s+(?:is|IS|would be|should be|will be)(?![\p{L}\p{N}_'’])|\s*[:：])\s*[:：]?\s*(?:(?:[Oo]ption|[Cc]hoice|[Ll]etter)\s+)?(?:\\\(|\$)?\s*(?:[([]\s*(${anyCase})\s*[)\]]|(${upper})(?![\p{L}\p{N}_])|(${anyCase})[.)]?[ \t]*(?=\n|$))`,
    "gu",
  );
  explicit.push(...collect(plain, phrase));
  const isCorrect = new RegExp(
    String.raw`(?<![\p{L}\p{N}_])[([]?(${upper})[)\]]?\s+is\s+(?:the\s+)?(?:correct|right|best)(?![\p{L}])`,
    "gu",
  );
  explicit.push(...collect(plain, isCorrect));
  const chosen = new RegExp(
    String.raw`\b(?:[Ii]'ll go with|[Ii] go with|[Cc]hoose|[Cc]hose|[Pp]ick|[Ss]elect)\s+(?:(?:option|choice|answer)\s+)?(?:[([](${anyCase})[)\]]|(${upper})(?![\p{L}\p{N}_]))`,
    "gu",
  );
  explicit.push(...collect(plain, chosen));
  // "Therefore C." closing a line is a conclusion, though a bare "C" mid-sentence is not.
  const concluded = new RegExp(
    String.raw`\b(?:[Tt]herefore|[Tt]hus|[Hh]ence|[Ss]o),?\s+[([]?(${upper})[)\]]?(?=[.!]?[ \t]*(?:\n|$))`,
    "gu",
  );
  explicit.push(...collect(plain, concluded));
  const fromExplicit = lastOf(explicit);
  if (fromExplicit) return fromExplicit;

  const marked = [
    String.raw`\*\*\s*[([]?(${upper})[)\]]?[.:]?\s*\*\*`,
    String.raw`(?<![\p{L}\p{N}_])\((${upper})\)`,
    String.raw`(?<![\p{L}\p{N}_(])(${upper})\)`,
    String.raw`(?:^|\n)[ \t]*(${upper})[.:](?=\s|$)`,
  ].flatMap((source) => collect(text, new RegExp(source, "gu")));
  const fromMarked = lastOf(marked);
  if (fromMarked) return fromMarked;

  return lastOf(collect(text, new RegExp(String.raw`^[ \t*_([]*(${upper})[ \t*_)\].:]*$`, "gmu")));
}

/** The letter a gold answer names: "B", "b", "(B)", "**B**", or text an extractor can read ("(B) 14"). */
function expectedLetter(answer: string, letters: string): string | null {
  const bare = answer.trim().replace(/^[\s*_([]+|[\s*_)\].:]+$/g, "");
  if (/^[A-Za-z]$/.test(bare)) return bare.toUpperCase();
  return extractChoice(answer, letters)?.letter ?? null;
}

/**
 * `choice`: multiple-choice letter match. Option `choices` (default "ABCDEFGHIJ") lists the
 * letters in play; expected is a letter or "(B)", compared upper-case; an array passes on any.
 */
export function createChoiceScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["choices"], context);
  const choices = readString(spec, "choices", context, false) ?? DEFAULT_CHOICES;
  if (!/^[A-Za-z]+$/.test(choices) || lettersOf(choices).length !== choices.length) {
    throw scorerError(
      context,
      `choice scorer: choices must be distinct letters, received ${JSON.stringify(choices)}`,
      'write the option letters together, e.g. choices: "ABCD"',
      "choices",
    );
  }
  const letters = lettersOf(choices);

  return ({ output, expected }) => {
    const got = extractChoice(output, letters);
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason, got?.letter ?? null);
    const wanted = answers.answers.map((a) => expectedLetter(a, letters));
    if (wanted.some((letter) => letter === null)) {
      const bad = answers.answers.filter((_a, i) => wanted[i] === null);
      return cannotScore(
        `the case's expected answer ${quote(bad[0])} is not an option letter`,
        got?.letter ?? null,
      );
    }
    if (got === null) {
      if (output.trim() === "") return unparsed("output is empty");
      if (isRefusal(output)) return unparsed("output looks like a refusal; no option letter extracted");
      return unparsed(`no option letter (${letters}) found in output`);
    }
    const shown = wanted.length === 1 ? wanted[0] : `one of ${wanted.join(", ")}`;
    const pass = wanted.includes(got.letter);
    return verdict(
      pass,
      got.letter,
      `expected ${shown}, extracted ${got.letter} from ${quote(got.text, 60)}`,
    );
  };
}
