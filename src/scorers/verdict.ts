/**
 * Reading a judge's verdict back, strictly: only a line that starts with the key (`GRADE:`,
 * `SCORE:`, `WINNER:`) counts, the last such line decides, and a value that is not one of the
 * allowed ones makes the verdict unreadable rather than a guess. Markdown emphasis, quotes and
 * backticks around the line are ignored. Model output is untrusted text: nothing here evaluates it.
 */

/** A verdict read from a judge's answer, or why none could be. */
export type ReadVerdict<T> = { ok: true; value: T; line: string } | { ok: false; reason: string };

/** The value of the last line that starts with `key:` (after markdown decoration), and that line. */
function lastKeyed(text: string, key: string): { value: string; line: string } | undefined {
  const keyed = new RegExp(`^${key}\\s*[:：]\\s*(.*)$`, "i");
  let found: { value: string; line: string } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw
      .replace(/\*\*|__|`/g, "")
      .replace(/^[\s>#*_-]+/, "")
      .trim();
    const match = keyed.exec(line);
    if (match) found = { value: match[1].replace(/[\s.!*_"'”’)\]]+$/u, "").replace(/^["'“‘([]+/u, ""), line };
  }
  return found;
}

function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value);
}

/** `GRADE: PASS` or `GRADE: FAIL` (any case) on the judge's last GRADE line. */
export function readGrade(text: string): ReadVerdict<"pass" | "fail"> {
  const found = lastKeyed(text, "GRADE");
  if (!found) return { ok: false, reason: "the judge's answer has no line GRADE: PASS or GRADE: FAIL" };
  const value = found.value.toUpperCase();
  if (value === "PASS" || value === "FAIL")
    return { ok: true, value: value === "PASS" ? "pass" : "fail", line: found.line };
  return { ok: false, reason: `the judge's last GRADE line reads ${shown(found.value)}, not PASS or FAIL` };
}

/** `SCORE: n` with n a whole number from 1 to `max` (`SCORE: 4/5` reads as 4) on the judge's last SCORE line. */
export function readScore(text: string, max: number): ReadVerdict<number> {
  const found = lastKeyed(text, "SCORE");
  if (!found) return { ok: false, reason: `the judge's answer has no line SCORE: n (1–${max})` };
  const match = /^(\d+)(?:\s*\/\s*(\d+))?$/.exec(found.value);
  if (!match)
    return {
      ok: false,
      reason: `the judge's last SCORE line reads ${shown(found.value)}, not a whole number`,
    };
  const value = Number(match[1]);
  if (match[2] !== undefined && Number(match[2]) !== max)
    return { ok: false, reason: `the judge scored ${found.value}, on a scale other than 1–${max}` };
  if (value < 1 || value > max)
    return { ok: false, reason: `the judge's score ${value} is outside 1–${max}` };
  return { ok: true, value, line: found.line };
}

/** `WINNER: A`, `WINNER: B` or `WINNER: TIE` on the judge's last WINNER line. */
export function readWinner(text: string): ReadVerdict<"A" | "B" | "tie"> {
  const found = lastKeyed(text, "WINNER");
  if (!found) return { ok: false, reason: "the judge's answer has no line WINNER: A, B or TIE" };
  const value = found.value.toUpperCase().replace(/^(?:RESPONSE|ANSWER)\s+/, "");
  if (value === "A" || value === "B") return { ok: true, value, line: found.line };
  if (value === "TIE") return { ok: true, value: "tie", line: found.line };
  return { ok: false, reason: `the judge's last WINNER line reads ${shown(found.value)}, not A, B or TIE` };
}
