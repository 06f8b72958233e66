import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCases } from "../../../src/dataset/read-cases.js";
import { readRows } from "../../../src/dataset/read-rows.js";
import { canListDescriptors, openDescriptorsOn } from "./helpers.js";

const ROWS = 50_000;
// Fewer for YAML: its broken tail is then parsed whole, to report the error where yaml finds it.
const YAML_ROWS = 10_000;
let dir: string;
let clean: string;
let brokenTailJsonl: string;
let brokenTailCsv: string;
let brokenTailYaml: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "promptsmith-stream-"));
  const jsonl = Array.from(
    { length: ROWS },
    (_, i) => `{"id": ${i}, "question": "What is ${i} + 1?", "expected": "${i + 1}"}`,
  ).join("\n");
  const csv = `id,question\n${Array.from({ length: ROWS }, (_, i) => `${i},"What is ${i}, plus one?"`).join("\n")}`;
  clean = join(dir, "large.jsonl");
  brokenTailJsonl = join(dir, "broken-tail.jsonl");
  brokenTailCsv = join(dir, "broken-tail.csv");
  brokenTailYaml = join(dir, "broken-tail.yaml");
  const yaml = Array.from(
    { length: YAML_ROWS },
    (_, i) => `- id: ${i}\n  question: What is ${i} + 1?\n`,
  ).join("");
  // The broken last line fails any reader that parses the whole file before handing out rows.
  await Promise.all([
    writeFile(clean, `${jsonl}\n`),
    writeFile(brokenTailJsonl, `${jsonl}\n{"id": "last", oops}\n`),
    writeFile(brokenTailCsv, `${csv}\nlast,"never closed\n`),
    writeFile(brokenTailYaml, `${yaml}- id: last\n  id: again\n`),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("streaming", () => {
  it("reads a 50,000-line JSONL file to the end with every line number", async () => {
    let count = 0;
    let lineSum = 0;
    let last: { id: string; expected: unknown; line?: number } | undefined;
    for await (const testCase of readCases(clean)) {
      count++;
      lineSum += testCase.line ?? 0;
      last = testCase;
    }
    expect(count).toBe(ROWS);
    expect(lineSum).toBe((ROWS * (ROWS + 1)) / 2);
    expect(last).toMatchObject({ id: "49999", expected: "50000", line: 50_000 });
  });

  it("reports the broken last line after handing out the 50,000 rows before it", async () => {
    let count = 0;
    await expect(
      (async () => {
        for await (const _ of readRows(brokenTailJsonl)) count++;
      })(),
    ).rejects.toMatchObject({ code: "dataset-parse", location: { line: ROWS + 1 } });
    expect(count).toBe(ROWS);
  });

  it("hands out a YAML list's rows before reading its broken last item, and locates that item", async () => {
    let count = 0;
    let lastLine = 0;
    await expect(
      (async () => {
        for await (const row of readRows(brokenTailYaml)) {
          count++;
          lastLine = row.line;
        }
      })(),
    ).rejects.toMatchObject({ code: "dataset-parse", location: { line: 2 * YAML_ROWS + 2 } });
    // Items are parsed a batch at a time, so the good items in the broken one's batch are not handed out.
    expect(count).toBeGreaterThan(YAML_ROWS - 256);
    expect(lastLine).toBe(2 * count - 1);
  });

  it.each([
    ["JSONL", () => brokenTailJsonl],
    ["CSV", () => brokenTailCsv],
    ["YAML", () => brokenTailYaml],
  ])("stops reading a large %s file on an early break, without error", async (_format, path) => {
    const ids: string[] = [];
    for await (const testCase of readCases(path())) {
      ids.push(testCase.id);
      if (ids.length === 10) break;
    }
    expect(ids).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    if (canListDescriptors) expect(openDescriptorsOn(path())).toBe(0);
  });

  it.runIf(canListDescriptors)("closes the file when the consumer throws mid-stream", async () => {
    await expect(
      (async () => {
        for await (const row of readRows(clean)) {
          if (row.line === 3) throw new Error("consumer failed");
        }
      })(),
    ).rejects.toThrow("consumer failed");
    expect(openDescriptorsOn(clean)).toBe(0);
  });
});
