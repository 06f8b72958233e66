import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Suite } from "../../../src/config/types.js";
import { countJobs, iterateJobs, type Shard } from "../../../src/runner/jobs.js";
import type { Variant } from "../../../src/runner/prepare.js";

describe("countJobs", () => {
  it("counts what iterateJobs yields, for every shard and limit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promptsmith-jobs-"));
    const path = join(dir, "cases.jsonl");
    writeFileSync(
      path,
      `${Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: i, q: i })).join("\n")}\n`,
    );
    const suite = { tests: { path, expected: "q" } } as unknown as Suite;
    // One variant with one draw, one with three (shots.draws: 3): 4 jobs per case and target.
    const variants = [{ selectors: [] }, { selectors: [1, 2, 3] }] as unknown as Variant[];
    const targets = ["p1", "p2"];
    for (const shard of [
      undefined,
      { index: 1, count: 3 },
      { index: 3, count: 3 },
      { index: 2, count: 20 },
    ] as (Shard | undefined)[]) {
      for (const limit of [undefined, 0, 2, 100]) {
        let yielded = 0;
        for await (const _job of iterateJobs(suite, variants, targets, { shard, limit })) yielded++;
        const counted = await countJobs(suite, variants, targets.length, { shard, limit });
        expect(counted, JSON.stringify({ shard, limit })).toBe(yielded);
      }
    }
    expect(await countJobs(suite, variants, 2)).toBe(80);
  });
});
