import { checkOptionKeys, readBoolean, readString, type ScorerContext, scorerError } from "./options.js";
import { cannotScore, describeAnswers, quote, readExpected, unparsed, verdict } from "./result.js";
import type { Scorer, ScorerSpec } from "./types.js";

/**
 * `regex`: options `pattern` and `flags`. Extracts capture group 1 when the pattern has groups,
 * else the whole match; no match is unparsed. With an expected answer (or an array of them), pass
 * when the extraction equals one after trimming (ignoring case under flag `i`); without one, pass
 * when the pattern matched. With `match: true` (promptfoo's regex) the output only has to match:
 * no comparison, and a miss is a fail rather than unparsed.
 */
export function createRegexScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  checkOptionKeys(spec, ["pattern", "flags", "match"], context);
  const matchOnly = readBoolean(spec, "match", context, false);
  const pattern = readString(spec, "pattern", context, true);
  // `g` would make exec() remember lastIndex between outputs; one match per output is all a scorer reads.
  const flags = (readString(spec, "flags", context, false) ?? "").replace(/g/g, "");
  let regex: RegExp;
  let groups: number;
  try {
    regex = new RegExp(pattern, flags);
    groups = (new RegExp(`${pattern}|`, flags).exec("")?.length ?? 1) - 1;
  } catch (error) {
    const key = /flag/i.test((error as Error).message) ? "flags" : "pattern";
    throw scorerError(
      context,
      `regex scorer: invalid ${key === "flags" ? "flags" : "pattern"}: ${(error as Error).message}`,
      key === "flags"
        ? "flags are JavaScript RegExp flags such as i, m, s, u"
        : "write a JavaScript regular expression without the surrounding slashes; in YAML, single quotes keep backslashes as written",
      key,
      error,
    );
  }
  const ignoreCase = regex.flags.includes("i");
  const same = (a: string, b: string) => (ignoreCase ? a.toLowerCase() === b.toLowerCase() : a === b);

  return ({ output, expected }) => {
    regex.lastIndex = 0; // a sticky (`y`) regex starts from lastIndex
    const match = regex.exec(output);
    if (matchOnly) {
      return match === null
        ? verdict(false, null, `pattern /${pattern}/${flags} did not match the output`)
        : verdict(true, match[0], `pattern /${pattern}/${flags} matched ${quote(match[0])}`);
    }
    const captured: string | undefined = match === null ? undefined : groups > 0 ? match[1] : match[0];
    const read = readExpected(expected);
    if (!read.ok && !read.missing) return cannotScore(read.reason, captured ?? null);
    const answers = read.ok ? read.answers : null;
    if (match === null) return unparsed(`pattern /${pattern}/${flags} did not match the output`);
    if (captured === undefined)
      return unparsed(`pattern /${pattern}/${flags} matched but group 1 captured nothing`);
    const extracted = captured;
    if (answers === null)
      return verdict(true, extracted, `pattern matched ${quote(extracted)} (no expected answer to compare)`);
    const pass = answers.some((answer) => same(answer.trim(), extracted.trim()));
    const how = ignoreCase ? " (ignoring case)" : "";
    return verdict(
      pass,
      extracted,
      pass
        ? `extracted ${quote(extracted)} equals expected${how}`
        : `expected ${describeAnswers(answers.map((a) => a.trim()))}${how}, extracted ${quote(extracted)}`,
    );
  };
}
