import { describe, expect, it } from "vitest";
import { bm25Idf, createBm25Index, tokenize } from "../../../src/fewshot/bm25.js";
import { createRng } from "../../../src/rng.js";
import { bruteForceTop, generateDocs } from "./brute-force.js";

describe("tokenize", () => {
  it("lower-cases, splits on non letters/digits in any script, and drops stop words", () => {
    expect(tokenize("The Café's 3 naïve-Ärzte, and 東京!")).toEqual([
      "café",
      "s",
      "3",
      "naïve",
      "ärzte",
      "東京",
    ]);
    expect(tokenize("  to be or not to be  ")).toEqual([]);
    expect(tokenize("How many apples?")).toEqual(["how", "many", "apples"]);
  });

  it("normalises compatibility forms (NFKC) so ﬁ and fi match", () => {
    expect(tokenize("ﬁle")).toEqual(["file"]);
  });
});

describe("BM25 on a hand-computed example", () => {
  // d1 → [cat, sat] (2), d2 → [dog, sat, cat] (3), d3 → [dogs, bark] (2); avgdl = 7/3, N = 3.
  const docs = [
    { id: "d1", text: "The cat sat" },
    { id: "d2", text: "the dog sat on the cat" },
    { id: "d3", text: "Dogs bark" },
  ];
  const index = createBm25Index(docs);

  it("uses idf = ln(1 + (N - df + 0.5)/(df + 0.5))", () => {
    expect(bm25Idf(3, 2)).toBeCloseTo(Math.log(1.6), 12); // cat: (3-2+.5)/(2+.5) = 0.6
    expect(bm25Idf(3, 1)).toBeCloseTo(Math.log(1 + 2.5 / 1.5), 12); // dog
    expect(bm25Idf(3, 3)).toBeGreaterThan(0); // +1 smoothing: a term in every doc still counts a little
  });

  it("scores and ranks as computed by hand (k1 = 1.5, b = 0.75)", () => {
    // d1: ln1.6 · 2.5 / (1 + 1.5·(0.25 + 0.75·2/(7/3))) = 0.470004 · 2.5/2.339286 = 0.502294
    // d2: cat 0.470004 · 2.5/(1 + 1.5·(0.25 + 0.75·3/(7/3))) + dog 0.980829 · same ratio = 1.285548
    const hits = index.search("cat dog", 10);
    expect(hits.map((h) => h.id)).toEqual(["d2", "d1"]); // no stemming: "dogs" ≠ "dog", so d3 is absent
    expect(hits[0].score).toBeCloseTo(1.285548, 5);
    expect(hits[1].score).toBeCloseTo(0.502294, 5);
  });

  it("honours k, exclude, and returns nothing for an unmatched or empty query", () => {
    expect(index.search("cat dog", 1).map((h) => h.id)).toEqual(["d2"]);
    expect(index.search("cat dog", 10, { exclude: new Set(["d2"]) }).map((h) => h.id)).toEqual(["d1"]);
    expect(index.search("zebra", 10)).toEqual([]);
    expect(index.search("the and of", 10)).toEqual([]);
    expect(index.search("cat", 0)).toEqual([]);
  });

  it("changes with k1 and b as the formula says", () => {
    const flat = createBm25Index(docs, { b: 0 });
    // b = 0: no length normalisation, so d1 and d2 score the same for "cat" and the earlier doc wins.
    const hits = flat.search("cat", 2);
    expect(hits.map((h) => h.id)).toEqual(["d1", "d2"]);
    expect(hits[0].score).toBe(hits[1].score);
    expect(() => createBm25Index(docs, { b: 2 })).toThrow(RangeError);
    expect(() => createBm25Index(docs, { k1: -1 })).toThrow(RangeError);
  });

  it("breaks ties by original document order", () => {
    const same = createBm25Index([
      { id: "z", text: "apple pie" },
      { id: "a", text: "apple tart" },
      { id: "m", text: "apple cake" },
    ]);
    expect(same.search("apple", 3).map((h) => h.id)).toEqual(["z", "a", "m"]);
  });

  it("handles an empty collection and documents with no tokens", () => {
    expect(createBm25Index([]).search("x", 3)).toEqual([]);
    expect(createBm25Index([{ id: "e", text: "the of" }]).search("the", 3)).toEqual([]);
  });
});

describe("BM25 index against brute force", () => {
  const docs = generateDocs(200, 2024);
  const index = createBm25Index(docs);
  const rng = createRng(99);

  it("returns exactly the brute-force top-k, scores included, for many queries", () => {
    for (let q = 0; q < 60; q++) {
      const query = Array.from({ length: 1 + rng.int(5) }, () => `w${rng.int(70)}`).join(" ");
      const k = 1 + rng.int(12);
      const expected = bruteForceTop(docs, query, k);
      const actual = index.search(query, k);
      expect(
        actual.map((h) => h.id),
        query,
      ).toEqual(expected.map((h) => h.id));
      expect(actual.map((h) => h.score)).toEqual(expected.map((h) => h.score));
    }
  });

  it("matches brute force with exclusions", () => {
    const exclude = new Set(["doc-0", "doc-5", "doc-17"]);
    for (const query of ["w0 w1", "w2 w2 w30", "w59"]) {
      expect(index.search(query, 8, { exclude }).map((h) => h.id)).toEqual(
        bruteForceTop(docs, query, 8, exclude).map((h) => h.id),
      );
    }
  });
});
