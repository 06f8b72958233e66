import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readRecord } from "../../../src/record/read.js";
import type { RunRecord } from "../../../src/record/types.js";
import { writeRecord } from "../../../src/record/writer.js";
import { caseResult } from "../../helpers/records.js";

const dir = mkdtempSync(join(tmpdir(), "promptsmith-read-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A record of 3,000 results over two prompts, every third one failing; big enough to span many chunks. */
function bigRecord(): RunRecord {
  const cases = Array.from({ length: 3000 }, (_, i) => ({
    ...caseResult(String(i), i % 3 === 0 ? "5" : "4", { vars: { q: "x".repeat(100) } }),
    prompt: i % 2 === 0 ? "p" : "q",
  }));
  return {
    version: 1,
    runId: "run-1",
    seed: 1,
    startedAt: "2026-01-01T00:00:00.000Z",
    config: {
      configPath: "/w/promptsmith.yaml",
      providers: [{ id: "m", label: "m", params: {} }],
      prompts: [],
      tests: { path: "/w/data.jsonl", expected: "expected" },
      scorers: [{ type: "exact" }],
    },
    summary: [{ prompt: "p", provider: "m", total: 1500, passed: 1000 } as RunRecord["summary"][number]],
    finishedAt: "2026-01-01T00:01:00.000Z",
    status: "stopped",
    stopReason: "--max-errors",
    cases,
  } as RunRecord;
}

describe("readRecord", () => {
  it("keeps only the first n failing cases of each variant when asked, and every other field", async () => {
    const path = join(dir, "big.json");
    const record = bigRecord();
    writeRecord(path, record);
    const whole = await readRecord(path);
    expect(whole.cases).toHaveLength(3000);
    const kept = await readRecord(path, { retainCases: 4 });
    expect(kept.cases.map((c) => [c.id, c.prompt])).toEqual([
      ["0", "p"],
      ["3", "q"],
      ["6", "p"],
      ["9", "q"],
      ["12", "p"],
      ["15", "q"],
      ["18", "p"],
      ["21", "q"],
    ]);
    const { cases: _all, ...fields } = whole;
    const { cases: _kept, ...keptFields } = kept;
    expect(keptFields).toEqual(fields);
  });

  it("gives the same errors streamed as read whole", async () => {
    const jsonl = join(dir, "cases.jsonl");
    writeFileSync(jsonl, `${JSON.stringify(caseResult("a", "4"))}\n`);
    const notJson = join(dir, "notes.json");
    writeFileSync(notJson, "not json");
    const newer = join(dir, "newer.json");
    writeFileSync(newer, JSON.stringify({ ...bigRecord(), version: 2 }));
    for (const path of [jsonl, notJson, newer, join(dir, "missing.json")]) {
      const whole = await readRecord(path).catch((error: unknown) => error);
      const streamed = await readRecord(path, { retainCases: 5 }).catch((error: unknown) => error);
      expect(streamed).toMatchObject({ code: "run-not-found" });
      expect((streamed as Error).message).toBe((whole as Error).message);
    }
  });
});
