import { dirname, isAbsolute, relative as pathRelative } from "node:path";
import { UserError } from "../errors.js";
import type { CaseResult, RunRecord } from "../record/types.js";
import { createSummaryAccumulator } from "../stats/summary.js";
import { canonicalJson } from "./job-key.js";

/**
 * Combines the records of `--shard i/n` runs into the record one unsharded run would have written:
 * shard i holds every n-th case from the i-th, so taking one case's results from each shard in turn
 * restores the dataset order, and the summary is recomputed from the merged cases.
 */
export function mergeRecords(records: { path: string; record: RunRecord }[]): RunRecord {
  if (records.length === 0)
    throw new UserError({
      code: "usage",
      message: "nothing to merge",
      hint: "name the shard results: promptsmith merge a.json b.json -o all.json",
    });
  const [first] = records;
  const expected = runOf(first.record);
  for (const { path, record } of records) {
    const what = Object.keys(expected).filter(
      (key) => canonicalJson(runOf(record)[key]) !== canonicalJson(expected[key]),
    );
    if (what.length > 0) {
      throw new UserError({
        code: "usage",
        location: { file: path },
        message: `it is not a shard of the same run as ${first.path} (different: ${what.join(", ")})`,
        hint: "merge the shards of one config, run with the same seed, --limit and filters",
      });
    }
  }
  const sharded = records.every((r) => r.record.shard);
  let cases: CaseResult[];
  if (sharded) {
    const count = first.record.shard!.count;
    const byIndex = new Map<number, { path: string; record: RunRecord }>();
    for (const entry of records) {
      const shard = entry.record.shard!;
      if (shard.count !== count) {
        throw new UserError({
          code: "usage",
          location: { file: entry.path },
          message: `it is shard ${shard.index}/${shard.count}, the others are of ${count}`,
          hint: "merge the shards of one run",
        });
      }
      if (byIndex.has(shard.index)) {
        throw new UserError({
          code: "usage",
          location: { file: entry.path },
          message: `shard ${shard.index}/${count} is given twice (also ${byIndex.get(shard.index)!.path})`,
          hint: "name each shard once",
        });
      }
      byIndex.set(shard.index, entry);
    }
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
    if (missing.length > 0) {
      throw new UserError({
        code: "usage",
        message: `shard ${missing.join(", ")} of ${count} is missing`,
        hint: "merge every shard of the run",
      });
    }
    const groups = Array.from({ length: count }, (_, i) => groupByCase(byIndex.get(i + 1)!.record.cases));
    cases = [];
    for (let round = 0; groups.some((g) => round < g.length); round++) {
      for (const g of groups) if (round < g.length) cases.push(...g[round]);
    }
  } else if (records.some((r) => r.record.shard)) {
    throw new UserError({
      code: "usage",
      message: "some of these records are shards and some are not",
      hint: "merge the shards of one run",
    });
  } else {
    cases = records.flatMap((r) => r.record.cases);
  }
  const summary = createSummaryAccumulator();
  for (const c of cases) summary.add(c);
  const statuses = records.map((r) => r.record.status ?? "complete");
  const { shard: _shard, runId: _runId, ...rest } = first.record;
  return {
    ...rest,
    startedAt: records.map((r) => r.record.startedAt).sort()[0],
    finishedAt: records
      .map((r) => r.record.finishedAt ?? r.record.startedAt)
      .sort()
      .at(-1),
    status: statuses.every((s) => s === "complete")
      ? "complete"
      : statuses.includes("interrupted")
        ? "interrupted"
        : "stopped",
    summary: summary.rows(),
    cases,
  };
}

/**
 * What shards of one run share: the config (paths taken relative to the config's folder, since CI
 * runners may check the project out in different places), the seed and the selection.
 */
function runOf(record: RunRecord): Record<string, unknown> {
  const { configPath, description: _description, ...config } = record.config;
  const base = dirname(configPath);
  const relative = (value: unknown): unknown => {
    if (typeof value === "string") return isAbsolute(value) ? pathRelative(base, value) : value;
    if (Array.isArray(value)) return value.map(relative);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relative(v)]));
    return value;
  };
  const { prompts, providers, scorers, tests, ...other } = relative(config) as Record<string, unknown>;
  return {
    prompts,
    providers,
    scorers,
    tests,
    "other config": other,
    seed: record.seed,
    "--limit and filters": record.selection,
  };
}

/** Consecutive results of the same case (all its prompts, providers and draws). */
function groupByCase(cases: CaseResult[]): CaseResult[][] {
  const groups: CaseResult[][] = [];
  for (const c of cases) {
    const last = groups.at(-1);
    if (last && last[0].id === c.id) last.push(c);
    else groups.push([c]);
  }
  return groups;
}
