import { describe, expect, it } from "vitest";
import { JsonArrayScanner } from "../../../src/dataset/json-stream.js";
import { loadRows, readRows } from "../../../src/dataset/read-rows.js";
import { collect, fixture, useTempFiles } from "./helpers.js";

const temp = useTempFiles("promptsmith-rows-");

describe("JSONL", () => {
  it("reads one object per line, skipping blank lines, with 1-based lines", async () => {
    const rows = await collect(readRows(fixture("basic.jsonl")));
    expect(rows.map((r) => r.line)).toEqual([1, 3, 5]);
    expect(rows[0].row).toEqual({ id: "q1", question: "2+2?", expected: "4" });
    expect(rows[2].row).toEqual({ id: "q3", question: "Is water wet?", expected: true, tags: ["physics"] });
  });

  it("treats CRLF endings as one line break and leaves no \\r in the values", async () => {
    const path = await temp("crlf.jsonl", '{"q":"a"}\r\n\r\n{"q":"b"}\r\n{"q":"c"}');
    const rows = await collect(readRows(path));
    expect(rows).toEqual([
      { row: { q: "a" }, line: 1 },
      { row: { q: "b" }, line: 3 },
      { row: { q: "c" }, line: 4 },
    ]);
  });

  it("ignores a UTF-8 byte order mark on the first line", async () => {
    const path = await temp("bom.jsonl", '\ufeff{"q":"a"}\n');
    expect(await collect(readRows(path))).toEqual([{ row: { q: "a" }, line: 1 }]);
  });

  it("reads .ndjson the same way", async () => {
    const rows = await collect(readRows(fixture("no-ids.ndjson")));
    expect(rows.map((r) => r.row.question)).toEqual(["a", "b", "c"]);
  });
});

describe("JSON", () => {
  it("reads a top-level array and gives each row the line its element starts on", async () => {
    const rows = await collect(readRows(fixture("basic.json")));
    expect(rows.map((r) => r.line)).toEqual([2, 3, 9]);
    expect(rows[1].row).toEqual({ id: "b", question: 'Say "hi" [politely]', expected: "hi" });
    expect(rows[2].row.meta).toEqual({ list: [1, 2, { x: "]" }] });
  });

  it('reads rows nested under "cases"', async () => {
    const rows = await collect(readRows(fixture("cases.json")));
    expect(rows).toEqual([
      { row: { question: "first" }, line: 4 },
      { row: { question: "second", expected: "2" }, line: 5 },
    ]);
  });

  it("finds elements and their lines past strings holding brackets, escapes and nested values, however the text is cut", () => {
    const text = '[{"a":"]\\"[","n":-1.5e3},\n\n [1,{"b":[]}],\n"x\\u00e9",\n  {}, 12345678, true, null]';
    const expected = JSON.parse(text);
    // Every chunk size from 1 character up: a value, string or number may be cut anywhere.
    for (let size = 1; size <= text.length; size++) {
      const scanner = new JsonArrayScanner("cases");
      const elements = [];
      for (let i = 0; i < text.length; i += size) elements.push(...scanner.push(text.slice(i, i + size)));
      elements.push(...scanner.end());
      expect(
        elements.map((e) => e.value),
        `chunks of ${size}`,
      ).toEqual(expected);
      expect(
        elements.map((e) => e.line),
        `chunks of ${size}`,
      ).toEqual([1, 3, 4, 5, 5, 5, 5]);
    }
  });

  it("reads the array under the key of a top-level object, checking the rest of the object", () => {
    const scan = (text: string) => {
      const scanner = new JsonArrayScanner("cases");
      return [...scanner.push(text), ...scanner.end()].map((e) => [e.value, e.line]);
    };
    expect(scan('{"name": {"cases": 1}, "n": [1, 2],\n "cases": [\n{},\n{"q": "]"}], "after": "x"}')).toEqual(
      [
        [{}, 3],
        [{ q: "]" }, 4],
      ],
    );
    expect(() => scan('{"cases": [{}], "cases": []}')).toThrow('the key "cases" appears twice');
    expect(() => scan('{"cases": [{}], "after": tru}')).toThrow(/not valid JSON|Unexpected/);
    expect(() => scan('[{"a": 1} {"b": 2}]')).toThrow("expected ',' or ']' after an element, found \"{\"");
    expect(() => scan("[{}, ]")).toThrow("a trailing comma before ']'");
    expect(() => scan('{"cases": [], "a": 1,}')).toThrow("a trailing comma before '}'");
    // Cut right after the comma: the brace arrives in the next chunk.
    const cut = new JsonArrayScanner("cases");
    cut.push('{"cases": [], "a": 1,');
    expect(() => cut.push("}")).toThrow("a trailing comma before '}'");
    expect(() => scan('[{"a": 1}')).toThrow("the file ends before the JSON does");
    expect(() => scan("[1] 2")).toThrow('unexpected "2" after the end of the JSON');
    expect(scan("  \n ")).toEqual([]);
  });

  it("reads a large JSON array as a stream, with every line number", async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `  {"id": ${i}, "q": "what is ${i}?"}`);
    const path = await temp("large.json", `[\n${rows.join(",\n")}\n]\n`);
    let count = 0;
    let lineSum = 0;
    for await (const row of readRows(path)) {
      expect(row.row.id).toBe(count);
      count++;
      lineSum += row.line;
    }
    expect(count).toBe(20_000);
    expect(lineSum).toBe((20_000 * 20_001) / 2 + 20_000);
  });

  it("accepts a byte order mark", async () => {
    const path = await temp("bom.json", '\ufeff[{"q":"a"}]');
    expect(await collect(readRows(path))).toEqual([{ row: { q: "a" }, line: 1 }]);
  });
});

describe("CSV", () => {
  it("handles quoted commas, embedded newlines and doubled quotes, keeping values as strings", async () => {
    const rows = await collect(readRows(fixture("basic.csv")));
    expect(rows).toEqual([
      { row: { id: "1", question: "Hello, world", expected: "greeting" }, line: 2 },
      { row: { id: "2", question: "Line one\nline two", expected: "multi" }, line: 3 },
      { row: { id: "3", question: 'She said "hi"', expected: "quote" }, line: 5 },
      { row: { id: "4", question: "42", expected: "007" }, line: 6 },
    ]);
  });

  it("strips a BOM from the first header and counts CRLF lines inside quotes once", async () => {
    const path = await temp(
      "bom-crlf.csv",
      '\ufeffid,text\r\n1,"two\r\nlines"\r\n\r\n2,"three\r\nmore\r\nlines"\r\n3,plain\r\n',
    );
    const rows = await collect(readRows(path));
    expect(Object.keys(rows[0].row)).toEqual(["id", "text"]);
    expect(rows.map((r) => r.line)).toEqual([2, 5, 8]);
    expect(rows[0].row.text).toBe("two\r\nlines");
    expect(rows[2].row).toEqual({ id: "3", text: "plain" });
  });

  it("skips blank and whitespace-only lines and trims header names", async () => {
    const path = await temp("blank.csv", "a, b\n\n1,2\n   \n3,4\n");
    expect(await collect(readRows(path))).toEqual([
      { row: { a: "1", b: "2" }, line: 3 },
      { row: { a: "3", b: "4" }, line: 5 },
    ]);
  });

  it("yields nothing for a header with no rows", async () => {
    const path = await temp("header-only.csv", "id,question\n");
    expect(await collect(readRows(path))).toEqual([]);
  });
});

describe("YAML", () => {
  it("reads a sequence of mappings with the line each item starts on", async () => {
    const rows = await collect(readRows(fixture("basic.yaml")));
    expect(rows.map((r) => r.line)).toEqual([2, 5, 11]);
    expect(rows[0].row).toEqual({ id: "y1", question: "2+2?", expected: 4 });
    expect(rows[1].row).toEqual({ id: "y2", question: "multi\nline\n", expected: ["a", "b"] });
  });

  it("reads rows nested under cases: in a .yml file", async () => {
    const rows = await collect(readRows(fixture("cases.yml")));
    expect(rows).toEqual([
      { row: { question: "first", expected: "one" }, line: 2 },
      { row: { question: "second" }, line: 4 },
    ]);
  });

  it("accepts a byte order mark", async () => {
    const path = await temp("bom.yaml", "\ufeff- q: a\n- q: b\n");
    expect(await collect(readRows(path))).toEqual([
      { row: { q: "a" }, line: 1 },
      { row: { q: "b" }, line: 2 },
    ]);
  });
});

describe("empty files", () => {
  it.each(["empty.jsonl", "empty.json", "empty.csv", "empty.yaml"])(
    "%s is an empty dataset",
    async (name) => {
      const path = await temp(name, "\n");
      expect(await collect(readRows(path))).toEqual([]);
    },
  );
});

describe("loadRows", () => {
  it("collects every row with its line", async () => {
    const rows = await loadRows(fixture("no-ids.jsonl"));
    expect(rows).toEqual([
      { row: { question: "a", answer: "A" }, line: 1 },
      { row: { question: "b", answer: "B" }, line: 2 },
      { row: { question: "c" }, line: 3 },
    ]);
  });

  it("chooses the format case-insensitively by extension", async () => {
    const path = await temp("UPPER.CSV", "x\n1\n");
    expect(await loadRows(path)).toEqual([{ row: { x: "1" }, line: 2 }]);
  });
});
