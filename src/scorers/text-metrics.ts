/**
 * Text-overlap metrics as the reference implementations compute them: ROUGE as Google's
 * rouge-score package (itself checked against ROUGE-1.5.5), sentence BLEU as sacrebleu, and the
 * Levenshtein edit distance. Pure functions; the scorers in rouge.ts, bleu.ts and levenshtein.ts
 * turn them into verdicts.
 */

/** Precision, recall and their harmonic mean (F1), each in [0, 1]. */
export interface Overlap {
  precision: number;
  recall: number;
  f: number;
}

/**
 * rouge-score's tokenizer: lower-case, every run of characters that are not letters or digits is a
 * separator. rouge-score keeps only a–z and 0–9; letters and digits of any script count here, which
 * is the same on ASCII text and keeps "zahăr" one word rather than two.
 */
export function rougeTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter((token) => token !== "");
}

function fMeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // U+0001 cannot occur in a token, so joined n-grams never collide.
    const gram = n === 1 ? tokens[i] : tokens.slice(i, i + n).join("\u0001");
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

/**
 * ROUGE-N of a candidate against one reference, as rouge-score's `rougeN`: clipped n-gram overlap
 * over the candidate's n-grams (precision) and the reference's (recall).
 */
export function rougeN(candidate: string, reference: string, n: number): Overlap {
  const predicted = ngramCounts(rougeTokens(candidate), n);
  const target = ngramCounts(rougeTokens(reference), n);
  let overlap = 0;
  let targetTotal = 0;
  let predictedTotal = 0;
  for (const [gram, count] of target) {
    overlap += Math.min(count, predicted.get(gram) ?? 0);
    targetTotal += count;
  }
  for (const count of predicted.values()) predictedTotal += count;
  const precision = overlap / Math.max(predictedTotal, 1);
  const recall = overlap / Math.max(targetTotal, 1);
  return { precision, recall, f: fMeasure(precision, recall) };
}

/** Length of the longest common subsequence of two token lists (one row of the table at a time). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let previous = new Uint32Array(short.length + 1);
  let current = new Uint32Array(short.length + 1);
  for (let i = 1; i <= long.length; i++) {
    for (let j = 1; j <= short.length; j++) {
      current[j] = long[i - 1] === short[j - 1] ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
    }
    [previous, current] = [current, previous];
  }
  return previous[short.length];
}

/** ROUGE-L of a candidate against one reference, as rouge-score's `rougeL`: LCS over each side's length. */
export function rougeL(candidate: string, reference: string): Overlap {
  const predicted = rougeTokens(candidate);
  const target = rougeTokens(reference);
  if (predicted.length === 0 || target.length === 0) return { precision: 0, recall: 0, f: 0 };
  const common = lcsLength(target, predicted);
  const precision = common / predicted.length;
  const recall = common / target.length;
  return { precision, recall, f: fMeasure(precision, recall) };
}

/** How sentence BLEU treats an n-gram order with no match (Chen & Cherry 2014, as sacrebleu names them). */
export type BleuSmoothing = "exp" | "floor" | "add-k" | "none";

/** Options of {@link sentenceBleu}; the defaults are sacrebleu's `sentence_bleu`. */
export interface BleuOptions {
  /** Default `exp`: mteval-v13a's method (Chen & Cherry's method 3), sacrebleu's default. */
  smoothing?: BleuSmoothing;
  /** The value of `floor` (default 0.1) or `add-k` (default 1). */
  smoothValue?: number;
  /** `13a` (default, mteval-v13a as sacrebleu has it) or `none` (split on whitespace). */
  tokenize?: "13a" | "none";
  /** Compare lower-cased text (default false). */
  lowercase?: boolean;
  /** Longest n-gram (default 4). */
  maxOrder?: number;
}

/** A sentence BLEU score in [0, 1] and what it was computed from. */
export interface BleuResult {
  score: number;
  /** Modified n-gram precisions (after smoothing), 1-grams first, in [0, 1]. */
  precisions: number[];
  brevityPenalty: number;
  hypothesisLength: number;
  referenceLength: number;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothing, number> = { exp: 0, floor: 0.1, "add-k": 1, none: 0 };

/** sacrebleu's `Tokenizer13a`: mteval-v13a's tokenization of punctuation and symbols. */
export function tokenize13a(line: string): string {
  let text = line
    .replaceAll("<skipped>", "")
    .replaceAll("-\n", "")
    .replaceAll("\n", " ")
    .replaceAll("&quot;", '"')
    .replaceAll("&amp;", "&")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">");
  text = ` ${text} `
    .replace(/([{-~[-` -&(-+:-@/])/g, " $1 ")
    // Periods and commas are split off unless they sit between digits (1,000.5 stays whole).
    .replace(/([^0-9])([.,])/g, "$1 $2 ")
    .replace(/([.,])([^0-9])/g, " $1 $2")
    .replace(/([0-9])(-)/g, "$1 $2 ");
  return words(text).join(" ");
}

function words(text: string): string[] {
  return text.split(/\s+/u).filter((word) => word !== "");
}

// sacrebleu's my_log: log(0) is a very negative number rather than -Infinity.
function safeLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * Sentence BLEU (Papineni et al. 2002) as sacrebleu's `sentence_bleu` computes it: clipped n-gram
 * counts against the references (each n-gram clipped by its largest count in any one reference),
 * the brevity penalty against the reference length closest to the hypothesis (the shorter on a
 * tie), the effective order (orders the hypothesis is too short for are left out), and smoothing
 * for orders with no match: `exp` halves the count of each further empty order (mteval-v13a,
 * sacrebleu's default), `floor` puts `smoothValue` matches there, `add-k` adds k to the counts of
 * orders above 1. No match at all scores 0.
 */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  options: BleuOptions = {},
): BleuResult {
  const smoothing = options.smoothing ?? "exp";
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[smoothing];
  const maxOrder = options.maxOrder ?? 4;
  const prepare = (text: string): string[] => {
    const cased = options.lowercase ? text.toLowerCase() : text;
    const trimmed = cased.replace(/\s+$/u, "");
    return words(options.tokenize === "none" ? trimmed : tokenize13a(trimmed));
  };
  const hypothesisTokens = prepare(hypothesis);
  const referenceMax = new Map<string, number>();
  const referenceLengths: number[] = [];
  for (const reference of references) {
    const tokens = prepare(reference);
    referenceLengths.push(tokens.length);
    for (let n = 1; n <= maxOrder; n++) {
      for (const [gram, count] of ngramCounts(tokens, n)) {
        const key = `${n}\u0002${gram}`;
        referenceMax.set(key, Math.max(referenceMax.get(key) ?? 0, count));
      }
    }
  }
  const sysLen = hypothesisTokens.length;
  let refLen = -1;
  for (const length of referenceLengths) {
    const diff = Math.abs(sysLen - length);
    const best = Math.abs(sysLen - refLen);
    if (refLen === -1 || diff < best || (diff === best && length < refLen)) refLen = length;
  }
  refLen = Math.max(refLen, 0);

  const correct: number[] = [];
  const total: number[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    let matched = 0;
    for (const [gram, count] of ngramCounts(hypothesisTokens, n)) {
      matched += Math.min(count, referenceMax.get(`${n}\u0002${gram}`) ?? 0);
    }
    correct.push(matched);
    total.push(Math.max(0, sysLen - n + 1));
  }

  const brevityPenalty = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuResult => ({
    score,
    precisions,
    brevityPenalty,
    hypothesisLength: sysLen,
    referenceLength: refLen,
  });
  if (correct.every((count) => count === 0)) return result(0);

  let mteval = 1;
  let order = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (smoothing === "add-k" && n > 1) {
      correct[n - 1] += smoothValue;
      total[n - 1] += smoothValue;
    }
    if (total[n - 1] === 0) break;
    order = n;
    if (correct[n - 1] === 0) {
      if (smoothing === "exp") {
        mteval *= 2;
        precisions[n - 1] = 1 / (mteval * total[n - 1]);
      } else if (smoothing === "floor") {
        precisions[n - 1] = smoothValue / total[n - 1];
      }
    } else {
      precisions[n - 1] = correct[n - 1] / total[n - 1];
    }
  }
  const logMean = precisions.slice(0, order).reduce((sum, p) => sum + safeLog(p), 0) / order;
  return result(brevityPenalty * Math.exp(logMean));
}

/** Levenshtein edit distance (insertions, deletions, substitutions) between two texts, by code point. */
export function levenshtein(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  const [long, short] = left.length >= right.length ? [left, right] : [right, left];
  const row = Array.from({ length: short.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= long.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= short.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (long[i - 1] === short[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[short.length];
}

/** Number of code points, the length levenshtein distances are normalized by. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
