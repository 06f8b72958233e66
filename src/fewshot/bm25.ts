/**
 * A small in-memory BM25 index (Robertson & Zaragoza's Okapi BM25) over short texts:
 * few-shot pools and context passages. The index is a real inverted index (term → postings),
 * so a search touches only the documents that share a term with the query.
 */

/** One document to index. */
export interface Bm25Doc {
  id: string;
  text: string;
}

/** BM25's free parameters. */
export interface Bm25Options {
  /** Term-frequency saturation; default 1.5. */
  k1?: number;
  /** Length normalisation, 0 (none) to 1 (full); default 0.75. */
  b?: number;
}

/** One search hit. */
export interface Bm25Hit {
  id: string;
  score: number;
  /** 0-based position of the document in the array the index was built from. */
  position: number;
}

/** Options of one search. */
export interface Bm25SearchOptions {
  /** Document ids that must not be returned (e.g. the query's own case). */
  exclude?: ReadonlySet<string>;
  /**
   * Returns only the documents it accepts (by position, with their score), asked in rank order
   * until k are accepted, so the next-best document takes a refused one's place and a costly check
   * runs on few documents.
   */
  accept?: (position: number, score: number) => boolean;
}

/** A built index. */
export interface Bm25Index {
  /** Number of documents indexed. */
  readonly size: number;
  /**
   * The `k` best documents with a positive score, best first; ties go to the earlier document.
   * Documents sharing no term with the query score 0 and are never returned.
   */
  search(query: string, k: number, options?: Bm25SearchOptions): Bm25Hit[];
}

/** Lucene's classic 33-word English stop set: short and well known; "how", "many" and numbers stay searchable. */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  "a",
  "an",
  "and",
  "are",
  "as",
  "at",
  "be",
  "but",
  "by",
  "for",
  "if",
  "in",
  "into",
  "is",
  "it",
  "no",
  "not",
  "of",
  "on",
  "or",
  "such",
  "that",
  "the",
  "their",
  "then",
  "there",
  "these",
  "they",
  "this",
  "to",
  "was",
  "will",
  "with",
]);

const SPLIT = /[^\p{L}\p{N}]+/u;

/** Lower-case, NFKC-normalise, split on anything that is not a letter or digit, drop stop words. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const raw of text.normalize("NFKC").toLowerCase().split(SPLIT)) {
    if (raw !== "" && !STOP_WORDS.has(raw)) tokens.push(raw);
  }
  return tokens;
}

/** BM25 inverse document frequency with the usual +1 smoothing, so it is never negative. */
export function bm25Idf(docCount: number, docFreq: number): number {
  return Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5));
}

/** One query term's contribution to one document's score. */
function termWeight(
  idf: number,
  tf: number,
  docLength: number,
  avgDocLength: number,
  k1: number,
  b: number,
): number {
  return (idf * (tf * (k1 + 1))) / (tf + k1 * (1 - b + (b * docLength) / avgDocLength));
}

/** Everything needed to score one document from scratch, without an index. */
export interface Bm25ScoreInput {
  /** The query's tokens, repeats included (each occurrence adds its term's weight again). */
  queryTerms: readonly string[];
  /** The document's tokens. */
  docTerms: readonly string[];
  /** Number of documents in the collection. */
  docCount: number;
  /** Mean token count of the collection's documents. */
  avgDocLength: number;
  /** How many documents contain a term. */
  docFreq: (term: string) => number;
  k1?: number;
  b?: number;
}

/**
 * The BM25 score of one document, computed directly from the formula:
 * Σ over query tokens q of idf(q) · tf·(k1+1) / (tf + k1·(1 − b + b·|D|/avgdl)).
 * The index uses the same arithmetic in the same order, so the two agree bit for bit.
 */
export function bm25Score(input: Bm25ScoreInput): number {
  const k1 = input.k1 ?? 1.5;
  const b = input.b ?? 0.75;
  const avgDocLength = input.avgDocLength > 0 ? input.avgDocLength : 1;
  let score = 0;
  for (const term of input.queryTerms) {
    let tf = 0;
    for (const t of input.docTerms) if (t === term) tf++;
    if (tf === 0) continue;
    score += termWeight(
      bm25Idf(input.docCount, input.docFreq(term)),
      tf,
      input.docTerms.length,
      avgDocLength,
      k1,
      b,
    );
  }
  return score;
}

interface Posting {
  doc: number;
  tf: number;
}

/** Build an index over `docs`; the array order is the tie-break order of every search. */
export function createBm25Index(docs: readonly Bm25Doc[], options: Bm25Options = {}): Bm25Index {
  const k1 = options.k1 ?? 1.5;
  const b = options.b ?? 0.75;
  if (!(k1 >= 0) || !Number.isFinite(k1))
    throw new RangeError(`BM25 k1 must be a finite number ≥ 0, received ${k1}`);
  if (!(b >= 0 && b <= 1)) throw new RangeError(`BM25 b must be between 0 and 1, received ${b}`);

  const postings = new Map<string, Posting[]>();
  const lengths = new Uint32Array(docs.length);
  let totalLength = 0;
  docs.forEach((doc, position) => {
    const terms = tokenize(doc.text);
    lengths[position] = terms.length;
    totalLength += terms.length;
    const counts = new Map<string, number>();
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, tf] of counts) {
      const list = postings.get(term);
      if (list) list.push({ doc: position, tf });
      else postings.set(term, [{ doc: position, tf }]);
    }
  });
  const docCount = docs.length;
  // An all-empty collection has avgdl 0; nothing can match then, so any positive value will do.
  const avgDocLength = docCount > 0 && totalLength > 0 ? totalLength / docCount : 1;

  const search = (query: string, k: number, searchOptions: Bm25SearchOptions = {}): Bm25Hit[] => {
    if (k <= 0 || docCount === 0) return [];
    const scores = new Float64Array(docCount);
    const touched: number[] = [];
    const seen = new Uint8Array(docCount);
    // Same order of additions as bm25Score (query token order), so the floats match exactly.
    for (const term of tokenize(query)) {
      const list = postings.get(term);
      if (!list) continue;
      const idf = bm25Idf(docCount, list.length);
      for (const { doc, tf } of list) {
        scores[doc] += termWeight(idf, tf, lengths[doc], avgDocLength, k1, b);
        if (!seen[doc]) {
          seen[doc] = 1;
          touched.push(doc);
        }
      }
    }
    const exclude = searchOptions.exclude;
    const hits: Bm25Hit[] = [];
    for (const doc of touched) {
      if (scores[doc] > 0 && !exclude?.has(docs[doc].id))
        hits.push({ id: docs[doc].id, score: scores[doc], position: doc });
    }
    hits.sort((x, y) => y.score - x.score || x.position - y.position);
    const accept = searchOptions.accept;
    if (!accept) return hits.slice(0, k);
    const accepted: Bm25Hit[] = [];
    for (const hit of hits) {
      if (accepted.length >= k) break;
      if (accept(hit.position, hit.score)) accepted.push(hit);
    }
    return accepted;
  };

  return { size: docCount, search };
}
