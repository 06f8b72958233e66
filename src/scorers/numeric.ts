import { findLastBoxed } from "./boxed.js";
import { checkOptionKeys, readNumber, type ScorerContext } from "./options.js";
import { isRefusal } from "./refusal.js";
import { cannotScore, readExpected, unparsed, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

/** A number read from text: its value, and how it was written (currency signs and markup removed). */
export interface ExtractedNumber {
  value: number;
  text: string;
}

/**
 * One number: optional sign, digits with optional `,` thousands groups (`1,200`, never `1, 2`),
 * decimals, an exponent, and an optional `/denominator` for simple fractions. Never starts inside
 * another number, nor after "18:" (a time or a ratio is read by its first part).
 */
const NUMBER =
  /(?:(?<![\p{L}\p{N}_)\]}.])(-))?(?<![\p{N}.]|\d:)((?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)(?:[eE]([-+]?\d+))?(?:\/(\d+(?:\.\d+)?)(?!\d|\.\d))?/gu;

/** A plain number (or fraction) as the whole of a `\frac` argument. */
const PLAIN = /^(-?)(\d+(?:\.\d+)?|\.\d+)(?:\/(\d+(?:\.\d+)?))?$/;

/** Where a `\frac` held something other than numbers: no digits, so nothing is read from it. */
const NOT_A_NUMBER = " [expression] ";

/** LaTeX a final answer may hold that no plain number can stand for. */
const NON_NUMERIC =
  /\\(?:sqrt|pi|infty|log|ln|sin|cos|tan|exp|int|sum|in|cup|cap|emptyset|pm)(?![A-Za-z])|\[expression\]/;

/** Final-answer phrases; the last one in the text wins. `####` is GSM8K's gold-answer marker. */
const ANSWER_PHRASE =
  /\banswer(?:\s+(?:is|was|would be|will be|should be)(?![\p{L}\p{N}_'’])|\s*[:：])|####/giu;

function replaceUntilStable(text: string, pattern: RegExp, replace: (...groups: string[]) => string): string {
  let current = text;
  // Innermost first: each pass rewrites one level of nesting; eight levels is more than any answer has.
  for (let pass = 0; pass < 8; pass += 1) {
    const next = current.replace(pattern, (...args: unknown[]) => replace(...(args as string[])));
    if (next === current) break;
    current = next;
  }
  return current;
}

function plainValue(text: string | undefined): number | null {
  const match = PLAIN.exec((text ?? "").replace(/\s+/g, ""));
  if (!match) return null;
  const value = Number(match[2]) / (match[3] === undefined ? 1 : Number(match[3]));
  if (!Number.isFinite(value)) return null;
  return match[1] === "-" ? -value : value;
}

function shortNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** Rewrites `\frac{a}{b}` (also `\dfrac`, `\tfrac`, `\frac12`, mixed `2\frac{1}{2}`) into plain text. */
function replaceFractions(text: string): string {
  const fraction = /(?:(?<![\d.])(\d+))?\\[dt]?frac\s*(?:\{([^{}]*)\}|(\d))\s*(?:\{([^{}]*)\}|(\d))/g;
  return replaceUntilStable(text, fraction, (_match, whole, braced, digit, bracedDen, digitDen) => {
    const numerator = plainValue(braced ?? digit);
    const denominator = plainValue(bracedDen ?? digitDen);
    if (numerator === null || denominator === null || denominator === 0) return NOT_A_NUMBER;
    if (whole !== undefined) return shortNumber(Number(whole) + numerator / denominator);
    if (Number.isInteger(numerator) && Number.isInteger(denominator) && denominator > 0) {
      return `${numerator}/${denominator}`;
    }
    return shortNumber(numerator / denominator);
  });
}

/** Every character one of normaliseMath's rewrites starts from; text without any is already plain. */
const NEEDS_NORMALISING = /[\\{}$%€£¥*_^×·≈\u2212\u2012\u2013\uFE63\uFF0D]/;

/** Turns LaTeX, currency, percent signs and markdown into plain text in which NUMBER finds the numbers. */
function normaliseMath(text: string): string {
  // Most answers are plain prose: skip the dozen rewrites, which dominate scoring time at scale.
  if (!NEEDS_NORMALISING.test(text)) return text;
  let s = text.replace(/[\u2212\u2012\u2013\uFE63\uFF0D](?=\s?[\d.])/g, (dash, offset: number) =>
    // An en dash between two numbers is a range ("3–5"), not a minus.
    dash === "\u2013" && /\d\s?$/.test(text.slice(0, offset)) ? dash : "-",
  );
  s = replaceUntilStable(
    s,
    /\\(?:text|textbf|textrm|mathrm|mathbf|mbox|boxed|fbox|displaystyle|underline)\s*\{([^{}]*)\}/g,
    (_match, inner) => inner,
  );
  s = s.replace(/\\(?:left|right)(?![A-Za-z])/g, "");
  s = s.replace(/\{,\}/g, ",").replace(/(\d)\\,(?=\d{3}(?!\d))/g, "$1,");
  s = s.replace(/\\!/g, "").replace(/\\[,;: ]|\\quad|\\qquad/g, " ");
  s = s.replace(/\\approx|≈/g, "=");
  s = s.replace(
    /(\d(?:[\d,]*\d)?(?:\.\d+)?)\s*(?:\\times|\\cdot|×|·)\s*10\s*\^\s*\{?\s*(-?\d+)\s*\}?/g,
    "$1e$2",
  );
  s = s.replace(
    /(?<![\d.])(\d+(?:\.\d+)?)\s*\^\s*(?:\{\s*(-?\d+)\s*\}|(\d+))/g,
    (match, base, braced, bare) => {
      const power = Number(base) ** Number(braced ?? bare);
      return Number.isFinite(power) ? shortNumber(power) : match;
    },
  );
  s = replaceFractions(s);
  s = s.replace(/\\?[$%€£¥]/g, "");
  s = s.replace(/\*\*|__/g, "");
  s = s.replace(/\\[()[\]]/g, " ");
  return s.replace(/[{}]/g, " ");
}

function numbersIn(text: string): ExtractedNumber[] {
  const found: ExtractedNumber[] = [];
  for (const match of text.matchAll(NUMBER)) {
    const [whole, sign, digits, exponent, denominator] = match;
    let value = Number(`${digits.replace(/,/g, "")}${exponent === undefined ? "" : `e${exponent}`}`);
    if (denominator !== undefined) value /= Number(denominator);
    if (sign === "-") value = -value;
    if (Number.isFinite(value)) found.push({ value, text: whole });
  }
  return found;
}

/** The number a final-answer segment gives: the first one right of its last "=" (`x = 5`). */
function numberInAnswer(plain: string): ExtractedNumber | null {
  const equals = plain.lastIndexOf("=");
  const answer = equals < 0 ? plain : plain.slice(equals + 1);
  if (NON_NUMERIC.test(answer)) return null;
  return numbersIn(answer)[0] ?? null;
}

/** The text an answer phrase introduces: the rest of its line, up to the end of the sentence. */
function answerSegment(after: string): string {
  const line = after.replace(/^[\s:：*]+/, "").split("\n")[0];
  const end = /[.!?;](?=\s|$)/.exec(line);
  return end ? line.slice(0, end.index) : line;
}

/**
 * Reads the final numeric answer of a model output (or of a gold answer): the last `\boxed{…}`
 * (its content is the answer even when it holds no number), else the text after the last
 * "answer is" / "answer:" / "####", else the last number in the text. Null when there is none,
 * or when the output is a refusal. Exported for self-consistency voting.
 */
export function extractFinalNumber(text: string): ExtractedNumber | null {
  const boxed = findLastBoxed(text);
  if (boxed) return numberInAnswer(normaliseMath(boxed.content));
  const plain = normaliseMath(text);
  let phrase: RegExpMatchArray | undefined;
  for (const match of plain.matchAll(ANSWER_PHRASE)) phrase = match;
  if (phrase?.index !== undefined) {
    const found = numberInAnswer(answerSegment(plain.slice(phrase.index + phrase[0].length)));
    if (found) return found;
  }
  if (isRefusal(text)) return null;
  return numbersIn(plain).at(-1) ?? null;
}

function formatNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function formatTolerance(tolerance: number): string {
  return tolerance !== 0 && tolerance < 1e-3 ? tolerance.toExponential() : String(tolerance);
}

/**
 * `numeric`: compares the output's final number with the expected one (also read with
 * extractFinalNumber, so `#### 72`, `1,200` and `3/4` work), within an absolute `tolerance`
 * (default 1e-6) or, when set, a `relative` one. An array of expected answers passes on any.
 */
export function createNumericScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["tolerance", "relative"], context);
  const tolerance = readNumber(spec, "tolerance", context, { fallback: 1e-6, min: 0 });
  const relative = readNumber(spec, "relative", context, { min: 0 });
  const allowed = `tolerance ${formatTolerance(tolerance)}${relative === undefined ? "" : `, relative ${relative}`}`;

  return ({ output, expected }) => {
    const got = extractFinalNumber(output);
    const answers = readExpected(expected);
    if (!answers.ok) return cannotScore(answers.reason, got?.text ?? null);
    const targets = answers.answers.map(extractFinalNumber).filter((t): t is ExtractedNumber => t !== null);
    if (targets.length === 0) {
      const shown = answers.answers.map((a) => JSON.stringify(a)).join(", ");
      return cannotScore(`the case's expected answer ${shown} is not a number`, got?.text ?? null);
    }
    if (got === null) {
      if (output.trim() === "") return unparsed("output is empty");
      return unparsed(
        isRefusal(output) ? "output looks like a refusal; no number extracted" : "no number found in output",
      );
    }

    const shownExpected =
      targets.length === 1
        ? formatNumber(targets[0].value)
        : `one of ${targets.map((t) => formatNumber(t.value)).join(", ")}`;
    let closest = Number.POSITIVE_INFINITY;
    for (const target of targets) {
      const diff = Math.abs(got.value - target.value);
      closest = Math.min(closest, diff);
      if (diff <= tolerance) {
        return verdict(
          true,
          got.text,
          `expected ${shownExpected}, extracted ${got.text} (within ${formatTolerance(tolerance)})`,
        );
      }
      if (relative !== undefined && diff <= relative * Math.abs(target.value)) {
        return verdict(
          true,
          got.text,
          `expected ${shownExpected}, extracted ${got.text} (within relative ${relative})`,
        );
      }
    }
    return verdict(
      false,
      got.text,
      `expected ${shownExpected}, extracted ${got.text} (off by ${formatNumber(closest)}; ${allowed})`,
    );
  };
}
