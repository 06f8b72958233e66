/** Python's `string.punctuation`, which the SQuAD v1.1 evaluation script strips. */
const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

// Python's `\b` in a str pattern is Unicode-aware; JS's is ASCII-only, so spell the word boundary out.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * The official SQuAD v1.1 `normalize_answer`: lower-case, drop `string.punctuation`,
 * drop the articles a/an/the as whole words, collapse whitespace.
 */
export function normalizeAnswer(text: string): string {
  const lower = text.toLowerCase();
  let withoutPunctuation = "";
  for (const ch of lower) if (!PUNCTUATION.has(ch)) withoutPunctuation += ch;
  return withoutPunctuation.replace(ARTICLES, " ").split(/\s+/u).filter(Boolean).join(" ");
}

/** Token precision, recall and F1 of a prediction against one gold answer. */
export interface TokenOverlap {
  precision: number;
  recall: number;
  f1: number;
}

/** SQuAD v1.1 `f1_score`: bag-of-tokens overlap of the normalized texts (0 when nothing is shared). */
export function tokenF1(prediction: string, gold: string): TokenOverlap {
  const predicted = tokens(prediction);
  const wanted = tokens(gold);
  const counts = new Map<string, number>();
  for (const token of wanted) counts.set(token, (counts.get(token) ?? 0) + 1);
  let same = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      same += 1;
      counts.set(token, left - 1);
    }
  }
  if (same === 0) return { precision: 0, recall: 0, f1: 0 };
  const precision = same / predicted.length;
  const recall = same / wanted.length;
  return { precision, recall, f1: (2 * precision * recall) / (precision + recall) };
}

function tokens(text: string): string[] {
  const normalized = normalizeAnswer(text);
  return normalized === "" ? [] : normalized.split(" ");
}
