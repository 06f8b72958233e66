import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CaseResult, RunRecord } from "../../../src/record/types.js";
import { writeRecord } from "../../../src/record/writer.js";
import { mergeRecordFiles, mergeRecords } from "../../../src/runner/merge.js";
import { caseResult } from "../../helpers/records.js";

/** One case's result for prompt p: passes when the output is "4". */
const result = (id: string, output: string) =>
  caseResult(id, output, {
    provider: "openai:m",
    vars: { q: id },
    messages: [{ role: "user", content: id }],
  });

/** Shard `index` of 2 of a run whose project was checked out at `root`. */
function shard(index: number, root: string, cases: CaseResult[], extra: Partial<RunRecord> = {}) {
  const record: RunRecord = {
    version: 1,
    seed: 1,
    shard: { index, count: 2 },
    startedAt: `2026-01-01T00:00:0${index}.000Z`,
    finishedAt: `2026-01-01T00:01:0${index}.000Z`,
    status: "complete",
    config: {
      configPath: `${root}/promptsmith.yaml`,
      providers: [{ id: "openai:m", label: "openai:m", params: {} }],
      prompts: [{ id: "p", templatePath: `${root}/p.hbs`, template: "{{q}}" }],
      tests: { path: `${root}/data.jsonl`, expected: "expected" },
      scorers: [{ type: "exact" }],
    },
    summary: [],
    cases,
    ...extra,
  } as RunRecord;
  return { path: `shard-${index}.json`, record };
}

describe("mergeRecords", () => {
  it("merges shards run from different checkouts into dataset order, with the summary recomputed", () => {
    const merged = mergeRecords([
      shard(2, "/runner-b/work", [result("b", "4"), result("d", "5")]),
      shard(1, "/runner-a/work", [result("a", "4"), result("c", "4")]),
    ]);
    expect(merged.cases.map((c) => c.id)).toEqual(["a", "b", "c", "d"]);
    expect(merged.summary.map((s) => [s.passed, s.total])).toEqual([[3, 4]]);
    expect(merged.shard).toBeUndefined();
    expect(merged.startedAt).toBe("2026-01-01T00:00:01.000Z");
    expect(merged.finishedAt).toBe("2026-01-01T00:01:02.000Z");
  });

  it("refuses shards of different runs and says what differs", () => {
    const a = shard(1, "/w", [result("a", "4")]);
    const limited = shard(2, "/w", [result("b", "4")], { selection: { limit: 10 } });
    expect(() => mergeRecords([a, limited])).toThrow(
      "it is not a shard of the same run as shard-1.json (different: --limit and filters)",
    );
    const reseeded = shard(2, "/w", [result("b", "4")], { seed: 2 });
    expect(() => mergeRecords([a, reseeded])).toThrow("(different: seed)");
    const edited = shard(2, "/w", [result("b", "4")]);
    edited.record.config.prompts[0].template = "Q: {{q}}";
    edited.record.config.scorers = [{ type: "numeric" }];
    expect(() => mergeRecords([a, edited])).toThrow("(different: prompts, scorers)");
  });
});

describe("mergeRecordFiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "promptsmith-merge-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Three shards of a run with two prompts, uneven sizes, an interrupted shard and a stop reason. */
  function shardFiles(tag: string): string[] {
    const both = (id: string, output: string) => [
      result(id, output),
      { ...result(id, output === "4" ? "5" : "4"), prompt: "q" },
    ];
    const shards = [
      shard(1, "/a", [...both("c0", "4"), ...both("c3", "5"), ...both("c6", "4")]),
      shard(2, "/b", [...both("c1", "5"), ...both("c4", "4")], {
        status: "interrupted",
        stopReason: "Ctrl-C",
      }),
      shard(3, "/c", [...both("c2", "4"), ...both("c5", "9")]),
    ];
    return shards.map(({ record }) => {
      const path = join(dir, `${tag}-${record.shard!.index}.json`);
      writeRecord(path, { ...record, shard: { index: record.shard!.index, count: 3 } });
      return path;
    });
  }

  it("writes the same bytes as merging the records in memory, reading the shards as streams", async () => {
    const paths = shardFiles("same");
    const streamed = join(dir, "streamed.json");
    const { record, cases } = await mergeRecordFiles([paths[2], paths[0], paths[1]], {
      outputs: [streamed, join(dir, "streamed.jsonl")],
    });
    const inMemory = join(dir, "in-memory.json");
    const parsed = paths.map((path) => ({
      path,
      record: JSON.parse(readFileSync(path, "utf8")) as RunRecord,
    }));
    writeRecord(inMemory, mergeRecords([parsed[2], parsed[0], parsed[1]]));
    expect(readFileSync(streamed, "utf8")).toBe(readFileSync(inMemory, "utf8"));
    const merged = JSON.parse(readFileSync(streamed, "utf8")) as RunRecord;
    expect(merged.cases.map((c) => `${c.id}/${c.prompt}`).slice(0, 4)).toEqual([
      "c0/p",
      "c0/q",
      "c1/p",
      "c1/q",
    ]);
    // Interrupted if any shard was; the stop reason is the first file's, as in memory (none here).
    expect(merged.status).toBe("interrupted");
    expect("stopReason" in merged).toBe(false);
    expect(readFileSync(join(dir, "streamed.jsonl"), "utf8").trim().split("\n")).toHaveLength(14);
    expect(cases).toBe(14);
    // In memory: the summary, and no more than the failing cases the report shows.
    expect(record.summary).toEqual(merged.summary);
    expect(record.cases.every((c) => !c.pass)).toBe(true);
    expect(record.cases).toHaveLength(merged.cases.filter((c) => !c.pass).length);
  });

  it("keeps at most n failing cases per variant in memory", async () => {
    const { record } = await mergeRecordFiles(shardFiles("retain"), { retainCases: 1 });
    expect(record.cases.map((c) => c.prompt).sort()).toEqual(["p", "q"]);
  });

  it("reads a record whose keys were reordered (cases first) whole, with the same result", async () => {
    const paths = shardFiles("sorted");
    const record = JSON.parse(readFileSync(paths[0], "utf8")) as RunRecord;
    const { cases, ...rest } = record;
    writeFileSync(paths[0], JSON.stringify({ cases, ...rest }));
    const fromSorted = join(dir, "from-sorted.json");
    await mergeRecordFiles(paths, { outputs: [fromSorted] });
    const expected = join(dir, "expected.json");
    await mergeRecordFiles(shardFiles("unsorted"), { outputs: [expected] });
    expect(readFileSync(fromSorted, "utf8")).toBe(readFileSync(expected, "utf8"));
  });

  it("leaves no output when a shard breaks off part-way through its cases", async () => {
    const paths = shardFiles("broken");
    const size = readFileSync(paths[1]).length;
    truncateSync(paths[1], Math.floor(size * 0.6));
    const out = join(dir, "broken-out.json");
    await expect(mergeRecordFiles(paths, { outputs: [out] })).rejects.toMatchObject({
      code: "run-not-found",
      location: { file: paths[1] },
    });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith("broken-out"))).toEqual([]);
  });

  it("says a .jsonl results file holds cases only", async () => {
    const path = join(dir, "cases.jsonl");
    writeFileSync(path, `${JSON.stringify(result("a", "4"))}\n${JSON.stringify(result("b", "4"))}\n`);
    await expect(mergeRecordFiles([path])).rejects.toMatchObject({
      code: "run-not-found",
      hint: "a .jsonl results file holds cases only; write the full record with -o results.json",
    });
  });
});
