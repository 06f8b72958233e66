import { describe, expect, it } from "vitest";
import { isUserError } from "../../../src/errors.js";
import {
  cosineSimilarity,
  createEmbeddingSelector,
  poolTexts,
  queryText,
} from "../../../src/fewshot/embedding.js";
import { arrangeShots, createShotSelector } from "../../../src/fewshot/select.js";
import type { ShotRow } from "../../../src/fewshot/types.js";
import { createRng } from "../../../src/rng.js";

const ids = (shots: ShotRow[]) => shots.map((s) => s.id);

/**
 * Random vectors; every fifth row repeats the one before it (as duplicate texts would), so exact
 * ties happen and must break by pool order.
 */
function generate(count: number, dims: number, seed: number): { pool: ShotRow[]; vectors: number[][] } {
  const rng = createRng(seed);
  const vectors: number[][] = [];
  for (let i = 0; i < count; i++) {
    vectors.push(i % 5 === 4 ? [...vectors[i - 1]] : Array.from({ length: dims }, () => rng.next() * 2 - 1));
  }
  const pool = vectors.map((_, i) => ({ id: `r${i}`, row: { question: `q${i}` } }));
  return { pool, vectors };
}

/** From scratch: cosine in float64, every row scored, sorted by score then pool position. */
function bruteForce(vectors: number[][], query: number[], k: number, skip?: number): number[] {
  const cos = (a: number[], b: number[]) => {
    const dot = a.reduce((s, x, i) => s + x * b[i], 0);
    const n = Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
    return n === 0 ? 0 : dot / n;
  };
  return vectors
    .map((v, position) => ({ position, score: cos(v, query) }))
    .filter((h) => h.position !== skip)
    .sort((x, y) => y.score - x.score || x.position - y.position)
    .slice(0, k)
    .map((h) => h.position);
}

describe("createEmbeddingSelector", () => {
  it("matches a brute-force cosine top-k over many random pools and queries", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { pool, vectors } = generate(40, 6, seed);
      const rng = createRng(seed * 101);
      const selector = createEmbeddingSelector(pool, vectors, { k: 7 });
      for (let q = 0; q < 10; q++) {
        const vector = Array.from({ length: 6 }, () => rng.next() * 2 - 1);
        const expected = bruteForce(vectors, vector, 7).map((p) => `r${p}`);
        expect(ids(selector.select({ id: "query", vector })), `seed ${seed} query ${q}`).toEqual(expected);
      }
    }
  });

  it("ranks 0 = most similar and scores with the cosine similarity", () => {
    const pool = ["a", "b", "c"].map((id) => ({ id, row: {} }));
    const vectors = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    const shots = createEmbeddingSelector(pool, vectors, { k: 3 }).select({ id: "x", vector: [2, 1] });
    expect(ids(shots)).toEqual(["c", "a", "b"]);
    expect(shots.map((s) => s.rank)).toEqual([0, 1, 2]);
    expect(shots[0].score).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(shots[1].score).toBeCloseTo(2 / Math.sqrt(5), 6);
    expect(shots[2].score).toBeCloseTo(1 / Math.sqrt(5), 6);
  });

  it("breaks ties by pool order, and a zero vector scores 0", () => {
    const pool = ["a", "b", "c", "d"].map((id) => ({ id, row: {} }));
    const vectors = [
      [0, 0],
      [3, 0],
      [1, 0],
      [0, 1],
    ];
    const shots = createEmbeddingSelector(pool, vectors, { k: 4 }).select({ id: "x", vector: [1, 0] });
    expect(ids(shots)).toEqual(["b", "c", "a", "d"]);
    expect(shots[2].score).toBe(0);
  });

  it("never gives a case itself with excludeSelf, and returns the whole pool when k is larger", () => {
    const { pool, vectors } = generate(10, 4, 3);
    const selector = createEmbeddingSelector(pool, vectors, { k: 100, excludeSelf: true });
    const shots = selector.select({ id: "r6", vector: vectors[6] });
    expect(shots).toHaveLength(9);
    expect(ids(shots)).not.toContain("r6");
    expect(ids(shots)).toEqual(bruteForce(vectors, vectors[6], 100, 6).map((p) => `r${p}`));
    // Without excludeSelf the row itself is nearest; a duplicate ties with it and comes after it.
    const near = createEmbeddingSelector(pool, vectors, { k: 2 });
    expect(ids(near.select({ id: "r6", vector: vectors[6] }))[0]).toBe("r6");
    expect(ids(near.select({ id: "r4", vector: vectors[4] }))).toEqual(["r3", "r4"]);
    expect(ids(selector.select({ id: "r4", vector: vectors[4] })).slice(0, 1)).toEqual(["r3"]);
    expect(createEmbeddingSelector(pool, vectors, { k: 0 }).select({ id: "r6", vector: vectors[6] })).toEqual(
      [],
    );
  });

  it("takes Float32Array vectors and a Float32Array query", () => {
    const { pool, vectors } = generate(25, 5, 9);
    const floats = vectors.map((v) => Float32Array.from(v));
    // Float32 rounding must not reorder anything here: the scores are far apart at float32 precision.
    const query = Float32Array.from([1, -2, 0, 2, 1]);
    const expected = bruteForce(
      vectors.map((v) => Array.from(Float32Array.from(v))),
      [1, -2, 0, 2, 1],
      5,
    ).map((p) => `r${p}`);
    expect(ids(createEmbeddingSelector(pool, floats, { k: 5 }).select({ id: "q", vector: query }))).toEqual(
      expected,
    );
  });

  it("arranges the chosen shots like createShotSelector: reverse, and random seeded per case", () => {
    const { pool, vectors } = generate(30, 5, 4);
    const vector = vectors[7];
    const ranked = ids(createEmbeddingSelector(pool, vectors, { k: 5 }).select({ id: "q", vector }));
    const reversed = createEmbeddingSelector(pool, vectors, { k: 5, order: "reverse" }).select({
      id: "q",
      vector,
    });
    expect(ids(reversed)).toEqual([...ranked].reverse());
    // Ranks stay those of similarity, so a budget can still drop the least similar.
    expect(reversed.map((s) => s.rank)).toEqual([4, 3, 2, 1, 0]);

    const random = createEmbeddingSelector(pool, vectors, { k: 5, order: "random", seed: 11 });
    const shuffled = ids(random.select({ id: "q", vector }));
    expect([...shuffled].sort()).toEqual([...ranked].sort());
    expect(ids(random.select({ id: "q", vector }))).toEqual(shuffled);
    const asShotSelector = arrangeShots(
      ranked.map((id, rank) => ({ id, row: {}, rank })),
      "random",
      11,
      "q",
    );
    expect(shuffled).toEqual(ids(asShotSelector));
    // Another seed gives another order for at least one case.
    const other = createEmbeddingSelector(pool, vectors, { k: 5, order: "random", seed: 12 });
    const differs = ["a", "b", "c", "d", "e"].some(
      (id) => ids(other.select({ id, vector })).join() !== ids(random.select({ id, vector })).join(),
    );
    expect(differs).toBe(true);
  });

  it("shuffles exactly as createShotSelector does for the same seed and case", () => {
    const { pool, vectors } = generate(6, 3, 5);
    // Vectors ordered so that similarity order is pool order: then both selectors choose the same rows.
    const aligned = vectors.map((_, i) => [Math.cos(i / 10), Math.sin(i / 10), 0]);
    const embedding = createEmbeddingSelector(pool, aligned, { k: 4, order: "random", seed: 3 });
    const first = createShotSelector(pool, { k: 4, select: "first", order: "random", seed: 3 });
    for (const id of ["x", "y", "z"]) {
      expect(ids(embedding.select({ id, vector: [1, 0, 0] }))).toEqual(ids(first.select({ id, vars: {} })));
    }
  });

  it("rejects vectors that do not fit the pool or each other, and a bad k", () => {
    const pool = [
      { id: "a", row: {} },
      { id: "b", row: {} },
    ];
    expect(() => createEmbeddingSelector(pool, [[1, 0]], { k: 1 })).toThrow(RangeError);
    expect(() => createEmbeddingSelector(pool, [[1, 0], [1]], { k: 1 })).toThrow(/dimensions/);
    const selector = createEmbeddingSelector(
      pool,
      [
        [1, 0],
        [0, 1],
      ],
      { k: 1 },
    );
    expect(() => selector.select({ id: "q", vector: [1, 0, 0] })).toThrow(/dimensions/);
    try {
      createEmbeddingSelector(
        pool,
        [
          [1, 0],
          [0, 1],
        ],
        { k: -1 },
      );
      expect.fail("expected a UserError");
    } catch (error) {
      expect(isUserError(error) && error.field).toBe("shots.k");
    }
  });
});

describe("cosineSimilarity", () => {
  it("is 1 for parallel, -1 for opposite, 0 for orthogonal or zero vectors", () => {
    expect(cosineSimilarity([1, 2], [2, 4])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 2], [-1, -2])).toBeCloseTo(-1, 12);
    expect(cosineSimilarity([1, 0], [0, 5])).toBe(0);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(RangeError);
  });
});

describe("poolTexts and queryText", () => {
  it("reads the field as text, and names a row or case without it", () => {
    const pool = [
      { id: "a", row: { question: "one", n: 2 } },
      { id: "b", row: { question: "two", n: { x: 1 } } },
    ];
    expect(poolTexts(pool, "question")).toEqual(["one", "two"]);
    expect(poolTexts(pool, "n")).toEqual(["2", '{"x":1}']);
    try {
      poolTexts([...pool, { id: "c", row: {} }], "question", "/data/train.jsonl");
      expect.fail("expected a UserError");
    } catch (error) {
      if (!isUserError(error)) throw error;
      expect(error.code).toBe("dataset-invalid");
      expect(error.location?.file).toBe("/data/train.jsonl");
      expect(error.message).toContain('example "c" has no "question" field');
      expect(error.hint).toMatch(/shots\.field/);
    }
    expect(queryText({ id: "q", vars: { question: "hi" } }, "question")).toBe("hi");
    expect(() => queryText({ id: "q7", vars: {} }, "question")).toThrow(/case "q7" has no "question" field/);
  });
});
