import { describe, expect, it } from "vitest";
import { createEmbeddingSelector } from "../../../src/fewshot/embedding.js";
import { createShotSelector, SHOT_STRATEGIES } from "../../../src/fewshot/select.js";
import type { ShotRow } from "../../../src/fewshot/types.js";
import { createRng } from "../../../src/rng.js";

// A case's copies in the pool (found by the contamination guard) are left out by position; the
// next-best example takes each one's place, so k stays k, for every strategy.

const pool: ShotRow[] = Array.from({ length: 24 }, (_, i) => ({
  id: `e${i}`,
  row: {
    question: `apples and pears ${i % 4 === 0 ? "and plums" : ""} question ${i} topic${i % 5}`,
    answer: ["pos", "neg", "neu"][i % 3],
  },
}));
const ids = (shots: ShotRow[]) => shots.map((s) => s.id);
const vars = { question: "apples and plums question 8 topic3" };

describe.each(SHOT_STRATEGIES)("select: %s", (select) => {
  const selector = createShotSelector(pool, { k: 5, select, seed: 3 });

  it("never returns an excluded position, keeps k, and stays the same for the same case", () => {
    const plain = selector.select({ id: "q", vars });
    const exclude = new Set([pool.findIndex((s) => s.id === plain[0].id), 5, 9]);
    const guarded = selector.select({ id: "q", vars, exclude });
    expect(guarded).toHaveLength(5);
    for (const shot of guarded) expect(exclude.has(pool.findIndex((s) => s.id === shot.id))).toBe(false);
    expect(ids(selector.select({ id: "q", vars, exclude }))).toEqual(ids(guarded));
    // An empty exclusion is no exclusion.
    expect(ids(selector.select({ id: "q", vars, exclude: new Set() }))).toEqual(ids(plain));
  });

  it("another case's shots do not change because one case had copies left out", () => {
    const before = ids(selector.select({ id: "other", vars }));
    selector.select({ id: "q", vars, exclude: new Set([0, 1, 2]) });
    expect(ids(selector.select({ id: "other", vars }))).toEqual(before);
  });
});

describe("the next-best example takes the excluded one's place", () => {
  it("first: the next rows in pool order", () => {
    const selector = createShotSelector(pool, { k: 3, select: "first" });
    expect(ids(selector.select({ id: "q", vars, exclude: new Set([1]) }))).toEqual(["e0", "e2", "e3"]);
  });

  it("similar: the ranking without the excluded rows (same scores, same order)", () => {
    const selector = createShotSelector(pool, { k: 8, select: "similar" });
    const ranking = selector.select({ id: "q", vars });
    const exclude = new Set([ranking[0], ranking[2]].map((s) => pool.findIndex((p) => p.id === s.id)));
    const guarded = createShotSelector(pool, { k: 6, select: "similar" }).select({ id: "q", vars, exclude });
    expect(ids(guarded)).toEqual(ids(ranking.filter((_, i) => i !== 0 && i !== 2)));
    expect(guarded.map((s) => s.rank)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("balanced: the excluded row's class still gets its turn, from the next row of that class", () => {
    const selector = createShotSelector(pool, { k: 3, select: "balanced" });
    const plain = selector.select({ id: "q", vars });
    expect(ids(plain)).toEqual(["e0", "e1", "e2"]);
    expect(ids(selector.select({ id: "q", vars, exclude: new Set([0]) }))).toEqual(["e3", "e1", "e2"]);
  });

  it("embedding: the nearest vectors without the excluded rows", () => {
    const rng = createRng(5);
    const vectors = pool.map(() => Array.from({ length: 6 }, () => rng.next() - 0.5));
    const selector = createEmbeddingSelector(pool, vectors, { k: 4 });
    const vector = vectors[7];
    const ranking = createEmbeddingSelector(pool, vectors, { k: 6 }).select({ id: "q", vector });
    expect(ranking[0].id).toBe("e7");
    const guarded = selector.select({ id: "q", vector, exclude: new Set([7, 99]) });
    expect(ids(guarded)).toEqual(ids(ranking.slice(1, 5)));
    expect(guarded.map((s) => s.rank)).toEqual([0, 1, 2, 3]);
  });
});
