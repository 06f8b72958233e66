import { describe, expect, it } from "vitest";
import { isUserError } from "../../../src/errors.js";
import {
  createShotSelector,
  SHOT_STRATEGIES,
  type ShotSelectorOptions,
} from "../../../src/fewshot/select.js";
import type { ShotRow } from "../../../src/fewshot/types.js";
import { bruteForceTop, generateDocs } from "./brute-force.js";

/** 30 rows; labels: pos ×15, neg ×10, neu ×5, interleaved so pool order ≠ class order. */
function makePool(): ShotRow[] {
  return Array.from({ length: 30 }, (_, i) => ({
    id: `c${i}`,
    row: {
      question: `question ${i} about ${["apples", "trains", "rivers"][i % 3]} and topic${i % 7}`,
      answer: i % 6 === 5 ? "neu" : i % 2 === 0 ? "pos" : "neg",
    },
  }));
}
const pool = makePool();
const ids = (shots: ShotRow[]) => shots.map((s) => s.id);
const query = (id: string, question = "anything") => ({ id, vars: { question } });

describe("first", () => {
  it("takes the first k rows, skipping the case itself when excludeSelf", () => {
    expect(ids(createShotSelector(pool, { k: 3, select: "first" }).select(query("c1")))).toEqual([
      "c0",
      "c1",
      "c2",
    ]);
    const selector = createShotSelector(pool, { k: 3, select: "first", excludeSelf: true });
    expect(ids(selector.select(query("c1")))).toEqual(["c0", "c2", "c3"]);
  });

  it("returns every available row when k exceeds the pool, and none for k = 0", () => {
    expect(createShotSelector(pool, { k: 100, select: "first" }).select(query("x"))).toHaveLength(30);
    expect(
      createShotSelector(pool, { k: 100, select: "first", excludeSelf: true }).select(query("c4")),
    ).toHaveLength(29);
    expect(createShotSelector(pool, { k: 0, select: "first" }).select(query("x"))).toEqual([]);
    expect(createShotSelector([], { k: 4, select: "random" }).select(query("x"))).toEqual([]);
  });
});

describe("random", () => {
  const draw = (seed: number, caseId: string) =>
    ids(createShotSelector(pool, { k: 5, select: "random", seed }).select(query(caseId)));

  it("is repeatable: same seed and case → same shots, even from a fresh selector", () => {
    expect(draw(1, "c7")).toEqual(draw(1, "c7"));
    const selector = createShotSelector(pool, { k: 5, select: "random", seed: 1 });
    const first = ids(selector.select(query("c7")));
    selector.select(query("c8"));
    expect(ids(selector.select(query("c7")))).toEqual(first);
  });

  it("gives each case its own draw and each seed its own draws", () => {
    expect(draw(1, "c7")).not.toEqual(draw(1, "c8"));
    const caseIds = Array.from({ length: 20 }, (_, i) => `case-${i}`);
    const differing = caseIds.filter((id) => draw(1, id).join() !== draw(2, id).join());
    expect(differing.length).toBeGreaterThanOrEqual(18);
    const distinct = new Set(caseIds.map((id) => draw(1, id).join()));
    expect(distinct.size).toBeGreaterThanOrEqual(18);
  });

  it("draws k distinct rows from the pool", () => {
    const shots = draw(3, "c0");
    expect(new Set(shots).size).toBe(5);
    for (const id of shots) expect(pool.some((row) => row.id === id)).toBe(true);
  });

  it("spreads over the whole pool across cases", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) for (const id of draw(9, `q${i}`)) seen.add(id);
    expect(seen.size).toBe(30);
  });
});

describe("balanced", () => {
  const label = (shots: ShotRow[]) => shots.map((s) => s.row.answer);

  it("covers every label at k = 3, most frequent class first", () => {
    const shots = createShotSelector(pool, { k: 3, select: "balanced" }).select(query("x"));
    expect(label(shots)).toEqual(["pos", "neg", "neu"]);
    expect(ids(shots)).toEqual(["c0", "c1", "c5"]); // first of each class in pool order
  });

  it("goes round-robin past one per class at k = 5", () => {
    const shots = createShotSelector(pool, { k: 5, select: "balanced" }).select(query("x"));
    expect(label(shots)).toEqual(["pos", "neg", "neu", "pos", "neg"]);
    expect(ids(shots)).toEqual(["c0", "c1", "c5", "c2", "c3"]);
  });

  it("keeps going with the classes left when a small class runs out", () => {
    const shots = createShotSelector(pool, { k: 30, select: "balanced" }).select(query("x"));
    expect(shots).toHaveLength(30);
    const counts = { pos: 0, neg: 0, neu: 0 } as Record<string, number>;
    for (const s of shots.slice(0, 15)) counts[s.row.answer as string]++;
    expect(counts).toEqual({ pos: 5, neg: 5, neu: 5 });
  });

  it("breaks frequency ties by first appearance and uses the label option", () => {
    const tied: ShotRow[] = [
      { id: "1", row: { kind: "b" } },
      { id: "2", row: { kind: "a" } },
      { id: "3", row: { kind: "a" } },
      { id: "4", row: { kind: "b" } },
    ];
    const shots = createShotSelector(tied, { k: 4, select: "balanced", label: "kind" }).select(query("x"));
    expect(ids(shots)).toEqual(["1", "2", "4", "3"]);
  });

  it("treats number labels as their text and rejects a row without the label", () => {
    const numeric: ShotRow[] = [
      { id: "1", row: { answer: 1 } },
      { id: "2", row: { answer: "1" } },
      { id: "3", row: { answer: 2 } },
    ];
    expect(ids(createShotSelector(numeric, { k: 2, select: "balanced" }).select(query("x")))).toEqual([
      "1",
      "3",
    ]);
    const bad = [...numeric, { id: "4", row: { other: 1 } }];
    expect(() =>
      createShotSelector(bad, { k: 2, select: "balanced", poolSource: "shots.jsonl" }),
    ).toThrowError(
      expect.objectContaining({
        code: "dataset-invalid",
        field: "shots.label",
        location: { file: "shots.jsonl" },
      }),
    );
  });
});

describe("similar", () => {
  const docs = generateDocs(200, 7);
  const textPool: ShotRow[] = docs.map((d) => ({ id: d.id, row: { question: d.text, answer: "x" } }));

  it("returns exactly the brute-force BM25 top-k, most similar first", () => {
    const selector = createShotSelector(textPool, { k: 6, select: "similar" });
    for (let i = 0; i < 40; i++) {
      const text = generateDocs(1, 1000 + i)[0].text;
      const shots = selector.select(query(`q${i}`, text));
      const expected = bruteForceTop(docs, text, 6);
      expect(ids(shots), text).toEqual(expected.map((h) => h.id));
      expect(shots.map((s) => s.score)).toEqual(expected.map((h) => h.score));
      expect(shots.map((s) => s.rank)).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });

  it("never returns the case itself when the pool is the test set", () => {
    const selector = createShotSelector(textPool, { k: 5, select: "similar", excludeSelf: true });
    for (const row of textPool.slice(0, 50)) {
      const shots = selector.select({ id: row.id, vars: row.row });
      expect(ids(shots)).not.toContain(row.id);
      expect(ids(shots)).toEqual(
        bruteForceTop(docs, row.row.question as string, 5, new Set([row.id])).map((h) => h.id),
      );
    }
  });

  it("fills up with pool-order rows (score 0) when too few rows share a term", () => {
    const small: ShotRow[] = [
      { id: "a", row: { text: "red apples" } },
      { id: "b", row: { text: "blue trains" } },
      { id: "c", row: { text: "green trains" } },
      { id: "d", row: { text: "yellow rivers" } },
    ];
    const selector = createShotSelector(small, { k: 3, select: "similar", field: "text" });
    const shots = selector.select({ id: "q", vars: { text: "old trains" } });
    expect(ids(shots)).toEqual(["b", "c", "a"]);
    expect(shots[2].score).toBe(0);
    expect(selector.select({ id: "q", vars: { text: "nothing matches" } }).map((s) => s.id)).toEqual([
      "a",
      "b",
      "c",
    ]);
  });

  it("rejects a case or a pool row without the text field", () => {
    const selector = createShotSelector(textPool, { k: 2, select: "similar" });
    expect(() => selector.select({ id: "q", vars: { prompt: "w1" } })).toThrowError(
      expect.objectContaining({ code: "dataset-invalid", field: "shots.field" }),
    );
    expect(() => createShotSelector(textPool, { k: 2, select: "similar", field: "body" })).toThrowError(
      expect.objectContaining({ code: "dataset-invalid" }),
    );
  });
});

describe("excludeSelf, for every strategy and order", () => {
  for (const select of SHOT_STRATEGIES) {
    for (const order of ["as-is", "reverse", "random"] as const) {
      it(`${select} / ${order}: no case is among its own shots`, () => {
        const selector = createShotSelector(pool, { k: 8, select, order, seed: 5, excludeSelf: true });
        for (const row of pool) {
          const shots = selector.select({ id: row.id, vars: row.row });
          expect(ids(shots)).not.toContain(row.id);
          expect(shots).toHaveLength(8);
        }
      });
    }
  }

  it("balanced skips a class whose only row is the case itself", () => {
    const tiny: ShotRow[] = [
      { id: "a1", row: { answer: "a" } },
      { id: "a2", row: { answer: "a" } },
      { id: "b1", row: { answer: "b" } },
    ];
    const selector = createShotSelector(tiny, { k: 2, select: "balanced", excludeSelf: true });
    expect(ids(selector.select({ id: "b1", vars: {} }))).toEqual(["a1", "a2"]);
  });
});

describe("order", () => {
  const base: ShotSelectorOptions = { k: 6, select: "random", seed: 4 };
  const asIs = createShotSelector(pool, base);

  it("reverse is the strategy's order backwards, keeping each shot's rank", () => {
    const forward = asIs.select(query("c3"));
    const backward = createShotSelector(pool, { ...base, order: "reverse" }).select(query("c3"));
    expect(ids(backward)).toEqual(ids(forward).reverse());
    expect(backward.map((s) => s.rank)).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it("random is a seeded permutation of the same shots", () => {
    const shuffled = createShotSelector(pool, { ...base, order: "random" });
    const again = createShotSelector(pool, { ...base, order: "random" });
    let moved = 0;
    for (let i = 0; i < 10; i++) {
      const forward = ids(asIs.select(query(`q${i}`)));
      const mixed = ids(shuffled.select(query(`q${i}`)));
      expect([...mixed].sort()).toEqual([...forward].sort());
      expect(ids(again.select(query(`q${i}`)))).toEqual(mixed);
      if (mixed.join() !== forward.join()) moved++;
    }
    expect(moved).toBeGreaterThanOrEqual(8);
  });

  it("applies to first too", () => {
    const shots = createShotSelector(pool, { k: 3, select: "first", order: "reverse" }).select(query("x"));
    expect(ids(shots)).toEqual(["c2", "c1", "c0"]);
  });
});

describe("options", () => {
  it("rejects a bad k, strategy, order or seed as a located config error", () => {
    const cases: [Partial<ShotSelectorOptions>, string][] = [
      [{ k: -1 }, "shots.k"],
      [{ k: 2.5 }, "shots.k"],
      [{ select: "nearest" as never }, "shots.select"],
      [{ order: "sorted" as never }, "shots.order"],
      [{ seed: Number.NaN }, "shots.seed"],
    ];
    for (const [patch, field] of cases) {
      try {
        createShotSelector(pool, { k: 2, select: "first", ...patch });
        expect.unreachable(field);
      } catch (error) {
        expect(isUserError(error) && error.code === "config-invalid" && error.field === field, field).toBe(
          true,
        );
        expect((error as { hint?: string }).hint).toBeTruthy();
      }
    }
  });
});
