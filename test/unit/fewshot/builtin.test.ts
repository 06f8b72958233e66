import { describe, expect, it } from "vitest";
import { gsm8kCotExemplars } from "../../../src/fewshot/builtin/gsm8k-cot.js";
import { builtinPools, isBuiltinPoolRef, loadBuiltinPool } from "../../../src/fewshot/builtin/index.js";
import { createShotSelector } from "../../../src/fewshot/select.js";

describe("gsm8k-cot (Wei et al. 2022)", () => {
  const pool = loadBuiltinPool("gsm8k-cot");

  it("has the 8 exemplars in published order with their answers", () => {
    expect(pool).toHaveLength(8);
    expect(pool.map((s) => s.row.answer)).toEqual(["6", "5", "39", "8", "9", "29", "33", "8"]);
    expect(new Set(pool.map((s) => s.id)).size).toBe(8);
    const openings = [
      "There are 15 trees in the grove",
      "If there are 3 cars in the parking lot",
      "Leah had 32 chocolates",
      "Jason had 20 lollipops",
      "Shawn has five toys",
      "There were nine computers in the server room",
      "Michael had 58 golf balls",
      "Olivia has $23",
    ];
    expect(pool.map((s, i) => (s.row.question as string).startsWith(openings[i]))).toEqual(
      Array(8).fill(true),
    );
  });

  it("rebuilds the published answer lines from rationale + answer", () => {
    const line = (i: number) =>
      `${gsm8kCotExemplars[i].rationale} The answer is ${gsm8kCotExemplars[i].answer}.`;
    expect(line(0)).toBe(
      "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.",
    );
    expect(line(7)).toBe(
      "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8.",
    );
    for (const row of gsm8kCotExemplars) {
      expect(row.rationale).not.toMatch(/The answer is/);
      expect(row.answer).toMatch(/^\d+$/);
    }
  });

  it("is a pool the selector can use", () => {
    const shots = createShotSelector(pool, { k: 2, select: "similar" }).select({
      id: "t",
      vars: { question: "Tom had 40 golf balls and lost 3 on tuesday." },
    });
    expect(shots[0].id).toBe(pool[6].id);
  });
});

describe("loadBuiltinPool", () => {
  it("accepts the name with or without the builtin: prefix", () => {
    expect(isBuiltinPoolRef("builtin:gsm8k-cot")).toBe(true);
    expect(isBuiltinPoolRef("./shots.jsonl")).toBe(false);
    expect(loadBuiltinPool("builtin:gsm8k-cot")).toEqual(loadBuiltinPool("gsm8k-cot"));
  });

  it("hands out a fresh array over frozen rows, so callers cannot corrupt the registry", () => {
    const pool = loadBuiltinPool("gsm8k-cot");
    pool.pop();
    expect(loadBuiltinPool("gsm8k-cot")).toHaveLength(8);
    expect(Object.isFrozen(builtinPools["gsm8k-cot"][0])).toBe(true);
  });

  it("rejects an unknown name with a hint listing the known pools", () => {
    for (const name of ["gsm8k", "toString", "builtin:nope"]) {
      expect(() => loadBuiltinPool(name)).toThrowError(
        expect.objectContaining({
          code: "config-invalid",
          field: "shots.from",
          hint: expect.stringContaining("builtin:gsm8k-cot"),
        }),
      );
    }
  });
});
