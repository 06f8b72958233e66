import { describe, expect, it } from "vitest";
import { readCases } from "../../../src/dataset/read-cases.js";
import { formatUserError } from "../../../src/errors.js";
import { collect, fixture, userErrorFrom, useTempFiles } from "./helpers.js";

const temp = useTempFiles("promptsmith-cases-");

describe("readCases", () => {
  it("takes ids from the id field and keeps the whole row as vars", async () => {
    const cases = await collect(readCases(fixture("basic.jsonl")));
    expect(cases.map((c) => c.id)).toEqual(["q1", "q2", "q3"]);
    expect(cases[1]).toEqual({
      id: "q2",
      vars: { id: "q2", question: "Capital of France?", expected: "Paris" },
      expected: "Paris",
      line: 3,
    });
  });

  it("numbers rows from 0 when there is no id field, and leaves expected undefined when absent", async () => {
    const cases = await collect(readCases(fixture("no-ids.jsonl")));
    expect(cases.map((c) => c.id)).toEqual(["0", "1", "2"]);
    expect(cases.every((c) => c.expected === undefined)).toBe(true);
  });

  it("turns numeric ids into strings", async () => {
    const cases = await collect(readCases(fixture("duplicate-id.jsonl"), { idField: "q" }));
    expect(cases.map((c) => c.id)).toEqual(["a", "b", "c", "d", "e"]);
    const numeric = await collect(readCases(await temp("numeric.jsonl", '{"id": 7}\n{"id": 8.5}\n')));
    expect(numeric.map((c) => c.id)).toEqual(["7", "8.5"]);
  });

  it("falls back to the row index for an empty or null id, counting rows not lines", async () => {
    const path = await temp("mixed.jsonl", '{"id": "x"}\n\n{"id": ""}\n{"id": null}\n');
    const cases = await collect(readCases(path));
    expect(cases.map((c) => [c.id, c.line])).toEqual([
      ["x", 1],
      ["1", 3],
      ["2", 4],
    ]);
  });

  it("reads the gold answer from the field named by expectedField", async () => {
    const cases = await collect(readCases(fixture("no-ids.jsonl"), { expectedField: "answer" }));
    expect(cases.map((c) => c.expected)).toEqual(["A", "B", undefined]);
  });

  it("uses idField, and does not find ids on the object prototype", async () => {
    const cases = await collect(readCases(fixture("basic.csv"), { idField: "expected" }));
    expect(cases.map((c) => c.id)).toEqual(["greeting", "multi", "quote", "007"]);
    const proto = await collect(readCases(fixture("no-ids.jsonl"), { idField: "constructor" }));
    expect(proto.map((c) => c.id)).toEqual(["0", "1", "2"]);
  });

  it("keeps CSV ids and expected values as strings", async () => {
    const cases = await collect(readCases(fixture("basic.csv")));
    expect(cases.map((c) => c.id)).toEqual(["1", "2", "3", "4"]);
    expect(cases[3].expected).toBe("007");
  });

  it("rejects a duplicate id, naming both lines", async () => {
    const error = await userErrorFrom(readCases(fixture("duplicate-id.jsonl")));
    expect(error.code).toBe("dataset-invalid");
    expect(error.location).toEqual({ file: fixture("duplicate-id.jsonl"), line: 5 });
    expect(error.message).toBe('id "7" already used on line 3');
    expect(error.hint).toBe("ids must be unique; remove the id field to use row numbers");
  });

  it("rejects an id that collides with another row's index", async () => {
    const path = await temp("collide.yaml", "- q: a\n- id: 0\n  q: b\n");
    const error = await userErrorFrom(readCases(path));
    expect(formatUserError(error)).toContain(':2 id: id "0" already used on line 1');
  });

  it("rejects a duplicate id in a JSON array written on one line", async () => {
    const path = await temp("one-line.json", '[{"id": "x", "q": 1}, {"id": "y"}, {"id": "x", "q": 2}]');
    const error = await userErrorFrom(readCases(path));
    expect(formatUserError(error)).toContain(':1 id: id "x" already used on line 1');
  });

  it("rejects an id that is neither text nor a number", async () => {
    const path = await temp("object-id.jsonl", '{"id": {"n": 1}}\n');
    const error = await userErrorFrom(readCases(path));
    expect(error.code).toBe("dataset-invalid");
    expect(error.field).toBe("id");
    expect(error.location?.line).toBe(1);
  });
});
