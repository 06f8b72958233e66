import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCases } from "../../../src/dataset/read-cases.js";
import { readRows } from "../../../src/dataset/read-rows.js";
import { formatUserError } from "../../../src/errors.js";
import { canListDescriptors, fixture, openDescriptorsOn, userErrorFrom } from "./helpers.js";

describe("parse errors", () => {
  it("locates a broken JSONL line (line 3 of 5) in a one-line message", async () => {
    const error = await userErrorFrom(readRows(fixture("broken-line-3.jsonl")));
    expect(error.code).toBe("dataset-parse");
    expect(error.location).toMatchObject({ file: fixture("broken-line-3.jsonl"), line: 3 });
    expect(error.message).toMatch(/^line is not valid JSON: \S/);
    expect(error.message).not.toContain("\n");
    expect(error.hint).toMatch(/each line must be one JSON object/);
  });

  it("does not hand out the rows before a broken JSONL line as if the file were whole", async () => {
    const seen: number[] = [];
    const error = await userErrorFrom(
      (async function* () {
        for await (const row of readRows(fixture("broken-line-3.jsonl"))) {
          seen.push(row.line);
          yield row;
        }
      })(),
    );
    expect(seen).toEqual([1, 2]);
    expect(error.location?.line).toBe(3);
  });

  it("locates a JSON syntax error by line and column", async () => {
    const error = await userErrorFrom(readRows(fixture("broken.json")));
    expect(error.code).toBe("dataset-parse");
    // `{ "id": 2, "q": "trailing comma", }`: the error is at the closing brace.
    expect(error.location).toEqual({ file: fixture("broken.json"), line: 3, column: 37 });
  });

  it("locates a closing quote followed by text in CSV at the record's line", async () => {
    const error = await userErrorFrom(readRows(fixture("broken-quote.csv")));
    expect(error.code).toBe("dataset-parse");
    expect(error.location).toEqual({ file: fixture("broken-quote.csv"), line: 3 });
    expect(error.hint).toContain('""');
  });

  it("reports an unclosed CSV quote at the line where its record starts", async () => {
    const error = await userErrorFrom(readRows(fixture("unclosed-quote.csv")));
    expect(error.code).toBe("dataset-parse");
    expect(error.location?.line).toBe(4);
    expect(error.message).toContain("never closed");
  });

  it("rejects a CSV row with more fields than the header", async () => {
    const error = await userErrorFrom(readRows(fixture("field-count.csv")));
    expect(error.code).toBe("dataset-parse");
    expect(error.location?.line).toBe(3);
    expect(error.message).toBe("row has 3 fields but the header has 2");
  });

  it("locates a YAML syntax error by line and column", async () => {
    const error = await userErrorFrom(readRows(fixture("broken.yaml")));
    expect(error.code).toBe("dataset-parse");
    expect(error.location).toEqual({ file: fixture("broken.yaml"), line: 4, column: 22 });
    expect(error.message).not.toContain("\n");
  });
});

describe("invalid rows and files", () => {
  it("rejects a JSONL row that is not an object, with its line", async () => {
    const error = await userErrorFrom(readRows(fixture("non-object.jsonl")));
    expect(error.code).toBe("dataset-invalid");
    expect(error.location).toEqual({ file: fixture("non-object.jsonl"), line: 2 });
    expect(error.message).toContain("an array");
  });

  it("rejects a YAML item that is not a mapping, naming its index", async () => {
    const error = await userErrorFrom(readRows(fixture("scalar-row.yaml")));
    expect(error.code).toBe("dataset-invalid");
    expect(error.location?.line).toBe(3);
    expect(error.field).toBe("[1]");
  });

  it("rejects a JSON file that is neither an array nor {cases: [...]}", async () => {
    const error = await userErrorFrom(readRows(fixture("not-array.json")));
    expect(error.code).toBe("dataset-invalid");
    expect(error.message).toContain('"cases"');
  });

  it("reports a missing file with a hint", async () => {
    const error = await userErrorFrom(readCases(fixture("no-such-file.jsonl")));
    expect(error.code).toBe("dataset-not-found");
    expect(error.location).toEqual({ file: fixture("no-such-file.jsonl") });
    expect(error.hint).toMatch(/check the path/);
  });

  it("rejects an unknown extension, listing the supported ones", async () => {
    const error = await userErrorFrom(readRows(fixture("data.txt")));
    expect(error.code).toBe("dataset-invalid");
    for (const extension of [".jsonl", ".ndjson", ".json", ".csv", ".yaml", ".yml"]) {
      expect(error.message).toContain(extension);
    }
    expect(formatUserError(error)).toContain('extension ".txt"');
  });

  it("rejects a directory named like a dataset", async () => {
    const dir = await mkdtemp(join(tmpdir(), "promptsmith-dir-"));
    try {
      await mkdir(join(dir, "rows.jsonl"));
      const error = await userErrorFrom(readRows(join(dir, "rows.jsonl")));
      expect(error.code).toBe("dataset-invalid");
      expect(error.message).toContain("directory");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(canListDescriptors)("file handles after an error", () => {
  it.each([
    ["broken-line-3.jsonl"],
    ["non-object.jsonl"],
    ["broken-quote.csv"],
    ["field-count.csv"],
    ["duplicate-id.jsonl"],
  ])("%s is closed once the error is thrown", async (name) => {
    await userErrorFrom(readCases(fixture(name)));
    expect(openDescriptorsOn(fixture(name))).toBe(0);
  });
});
