/** One `\boxed{…}` found in a text: its content and where the command starts. */
export interface BoxedAnswer {
  content: string;
  index: number;
}

const BOXED = /\\(?:boxed|fbox)(?![A-Za-z])/g;

/**
 * The content of the last `\boxed{…}` (or `\fbox{…}`), nested braces balanced; `\boxed 5` without
 * braces gives the next token. Null when there is none, or the last one was cut off before its
 * closing brace (a truncated output has no final answer).
 */
export function findLastBoxed(text: string): BoxedAnswer | null {
  let index = -1;
  for (const match of text.matchAll(BOXED)) index = match.index;
  if (index < 0) return null;
  let at = index + (text.startsWith("\\boxed", index) ? "\\boxed".length : "\\fbox".length);
  while (at < text.length && /\s/.test(text[at])) at += 1;
  if (text[at] !== "{") {
    const token = /^[^\s{}$\\]+/.exec(text.slice(at));
    return token ? { content: token[0], index } : null;
  }
  let depth = 0;
  for (let i = at; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === "\\") {
      i += 1; // an escaped brace (`\{`) does not open or close anything
    } else if (ch === "{") {
      depth += 1;
    } else if (ch === "}") {
      depth -= 1;
      if (depth === 0) return { content: text.slice(at + 1, i), index };
    }
  }
  return null;
}
