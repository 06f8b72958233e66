import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CaseResult, RunRecord } from "../../../src/record/types.js";
import { createRecordWriter } from "../../../src/record/writer.js";
import { caseResult } from "../../helpers/records.js";

const header: Omit<RunRecord, "summary" | "cases"> = {
  version: 1,
  startedAt: "2026-01-01T00:00:00.000Z",
  config: {
    configPath: "/x/promptsmith.yaml",
    providers: [],
    prompts: [],
    tests: { path: "/x/t.jsonl", expected: "expected" },
    scorers: [],
  },
};

const result = (id: string, output: string) => caseResult(id, output);

const end = { summary: [], finishedAt: "2026-01-01T00:00:01.000Z", status: "complete" as const };

describe("createRecordWriter", () => {
  it("writes one valid JSON document, and only under the real name once finished", () => {
    const dir = mkdtempSync(join(tmpdir(), "writer-"));
    const path = join(dir, "out", "results.json");
    const writer = createRecordWriter(path, header);
    writer.write(result("a", "4"));
    writer.write(result("b", 'tricky "quote"\n},]'));
    expect(existsSync(path)).toBe(false);
    writer.finish(end);
    const record = JSON.parse(readFileSync(path, "utf8"));
    expect(record.version).toBe(1);
    expect(record.status).toBe("complete");
    expect(record.cases.map((c: CaseResult) => c.id)).toEqual(["a", "b"]);
    expect(record.cases[1].output).toBe('tricky "quote"\n},]');
    expect(readdirSync(join(dir, "out"))).toEqual(["results.json"]);
  });

  it("removes the partial files of killed writers of the same path, and no other", () => {
    const dir = mkdtempSync(join(tmpdir(), "writer-"));
    const path = join(dir, "results.json");
    // A process that has exited: its pid names a partial file nobody will finish.
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    const orphan = `results.json.partial-${gone}`;
    // The parent (the test runner) is alive: its file might still be written.
    const live = `results.json.partial-${process.ppid}`;
    const other = `other.json.partial-${gone}`;
    for (const name of [orphan, live, other]) writeFileSync(join(dir, name), "{");
    const writer = createRecordWriter(path, header);
    expect(readdirSync(dir).sort()).toEqual([other, live, `results.json.partial-${process.pid}`].sort());
    writer.finish(end);
    expect(readdirSync(dir).sort()).toEqual([other, live, "results.json"].sort());
  });

  it("writes an empty cases list when nothing finished", () => {
    const path = join(mkdtempSync(join(tmpdir(), "writer-")), "r.json");
    const writer = createRecordWriter(path, header);
    writer.finish({ ...end, status: "interrupted" });
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ cases: [], status: "interrupted" });
  });

  it("writes one case per line for .jsonl", () => {
    const path = join(mkdtempSync(join(tmpdir(), "writer-")), "r.jsonl");
    const writer = createRecordWriter(path, header);
    for (let i = 0; i < 3000; i++) writer.write(result(String(i), "4"));
    writer.finish(end);
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(3000);
    expect(JSON.parse(lines[2999]).id).toBe("2999");
  });

  it("abort leaves no file behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "writer-"));
    const writer = createRecordWriter(join(dir, "r.json"), header);
    writer.write(result("a", "4"));
    writer.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
