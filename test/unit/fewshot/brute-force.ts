/** Test helpers: a generated BM25 collection and a from-scratch top-k to check the index against. */
import { bm25Score, tokenize } from "../../../src/fewshot/bm25.js";
import { createRng } from "../../../src/rng.js";

/** A generated collection with a skewed vocabulary, so terms have very different document frequencies. */
export function generateDocs(count: number, seed: number): { id: string; text: string }[] {
  const rng = createRng(seed);
  const vocabulary = Array.from({ length: 60 }, (_, i) => `w${i}`);
  return Array.from({ length: count }, (_, i) => {
    const length = 3 + rng.int(18);
    const words = Array.from({ length }, () => vocabulary[Math.floor(vocabulary.length * rng.next() ** 2)]);
    return { id: `doc-${i}`, text: words.join(" ") };
  });
}

/** Brute force: score every document from scratch with the exported formula, then sort. */
export function bruteForceTop(
  docs: { id: string; text: string }[],
  query: string,
  k: number,
  exclude?: Set<string>,
) {
  const tokenized = docs.map((d) => tokenize(d.text));
  const df = new Map<string, number>();
  for (const terms of tokenized) for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
  const avgDocLength = tokenized.reduce((sum, t) => sum + t.length, 0) / docs.length;
  const queryTerms = tokenize(query);
  return tokenized
    .map((docTerms, position) => ({
      id: docs[position].id,
      position,
      score: bm25Score({
        queryTerms,
        docTerms,
        docCount: docs.length,
        avgDocLength,
        docFreq: (t) => df.get(t) ?? 0,
      }),
    }))
    .filter((h) => h.score > 0 && !exclude?.has(h.id))
    .sort((x, y) => y.score - x.score || x.position - y.position)
    .slice(0, k);
}
