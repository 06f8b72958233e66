import { describe, expect, it } from "vitest";
import type { CaseResult, RunRecord } from "../../../src/record/types.js";
import { mergeRecords } from "../../../src/runner/merge.js";
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
