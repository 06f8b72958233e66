import { describe, expect, test } from "vitest";
import {
  countVariants,
  expandSweeps,
  type SweepAxis,
  type SweepValue,
  sweepNames,
} from "../../../src/config/index.js";
import { K_BY_SELECT_IDS } from "./helpers.js";

function plain<T extends string | number | boolean>(...values: T[]): SweepValue<T>[] {
  return values.map((value) => ({ value, label: String(value), recorded: value }));
}

describe("expandSweeps", () => {
  test("no axes: one variant with the base id and no sweep record", () => {
    expect(expandSweeps("p", [])).toEqual([{ id: "p", values: {} }]);
    expect(expandSweeps("p", [])[0].sweep).toBeUndefined();
  });

  test("k: [0,1,2,4,8] × select: [first, similar] gives 10 variants, the first axis varying slowest", () => {
    const axes: SweepAxis[] = [
      { field: "shots.k", values: plain(0, 1, 2, 4, 8) },
      { field: "shots.select", values: plain("first", "similar") },
    ];
    const variants = expandSweeps("p", axes);
    expect(countVariants(axes)).toBe(10);
    expect(variants.map((variant) => variant.id)).toEqual(K_BY_SELECT_IDS);
    expect(variants[7]).toEqual({
      id: "p@k=4,select=similar",
      sweep: { k: 4, select: "similar" },
      values: { "shots.k": 4, "shots.select": "similar" },
    });
  });

  test("a one-value axis still names the variant; labels and recorded values may differ from the value", () => {
    const axes: SweepAxis[] = [
      {
        field: "template",
        values: [{ value: { template: "…" }, label: "cot", recorded: "cot" }],
      },
      { field: "cot", values: [{ value: "Let's think step by step.", label: "true", recorded: true }] },
    ];
    expect(expandSweeps("base", axes)).toEqual([
      {
        id: "base@template=cot,cot=true",
        sweep: { template: "cot", cot: true },
        values: { template: { template: "…" }, cot: "Let's think step by step." },
      },
    ]);
  });

  test("two axes sharing a leaf name are named by their whole field", () => {
    expect(sweepNames(["shots.k", "shots.select", "context.k"])).toEqual(["shots.k", "select", "context.k"]);
    const variants = expandSweeps("p", [
      { field: "shots.k", values: plain(1) },
      { field: "context.k", values: plain(2, 3) },
    ]);
    expect(variants.map((variant) => variant.id)).toEqual([
      "p@shots.k=1,context.k=2",
      "p@shots.k=1,context.k=3",
    ]);
    expect(variants[1].sweep).toEqual({ "shots.k": 1, "context.k": 3 });
  });

  test("counts multiply; an empty axis gives no variants; past the limit is a RangeError", () => {
    const axes: SweepAxis[] = [
      { field: "shots.k", values: plain(...Array.from({ length: 20 }, (_, i) => i)) },
      { field: "samples", values: plain(1, 2, 3) },
    ];
    expect(countVariants(axes)).toBe(60);
    expect(expandSweeps("p", axes, 60)).toHaveLength(60);
    expect(() => expandSweeps("p", axes, 59)).toThrow(RangeError);
    expect(countVariants([])).toBe(1);
    expect(expandSweeps("p", [{ field: "cot", values: [] }])).toEqual([]);
  });
});
