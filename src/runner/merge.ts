import { dirname, isAbsolute, relative as pathRelative } from "node:path";
import { UserError } from "../errors.js";
import { openRecordStream, type RecordStream } from "../record/read.js";
import { createCaseRetainer } from "../record/retain.js";
import type { CaseResult, RunRecord } from "../record/types.js";
import { createRecordWriter, endFields } from "../record/writer.js";
import { judgeGates, thresholdsOf } from "../stats/gates.js";
import { createRecordStats } from "../stats/record-stats.js";
import { canonicalJson } from "../store/job-key.js";

/**
 * Combines the records of `--shard i/n` runs into the record one unsharded run would have written:
 * shard i holds every n-th case from the i-th, so taking one case's results from each shard in turn
 * restores the dataset order, and the summary is recomputed from the merged cases.
 */
export function mergeRecords(records: { path: string; record: RunRecord }[]): RunRecord {
  const { sharded, order } = checkMergeable(records.map(({ path, record }) => ({ path, header: record })));
  let cases: CaseResult[];
  if (sharded) {
    const groups = order.map((i) => groupByCase(records[i].record.cases));
    cases = [];
    for (let round = 0; groups.some((g) => round < g.length); round++) {
      for (const g of groups) if (round < g.length) cases.push(...g[round]);
    }
  } else {
    cases = records.flatMap((r) => r.record.cases);
  }
  const [first] = records;
  const stats = createRecordStats(first.record);
  for (const c of cases) addTo(stats, c);
  const { shard: _shard, runId: _runId, summary: _s, comparisons: _c, gates: _g, ...rest } = first.record;
  return {
    ...rest,
    ...mergedTimes(records.map((r) => r.record)),
    ...endStats(stats, first.record.config),
    cases,
  };
}

/** Adds a case to the merged record's numbers; the same case twice is the user's mix-up, not a bug. */
function addTo(stats: ReturnType<typeof createRecordStats>, result: CaseResult): void {
  try {
    stats.add(result);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UserError({
      code: "usage",
      message: `these records hold case ${JSON.stringify(result.id)} more than once`,
      hint: "merge the shards of one run (--shard i/n), each once",
    });
  }
}

/** The merged record's summary, comparisons, and the config's threshold gates judged on them. */
function endStats(
  stats: ReturnType<typeof createRecordStats>,
  config: RunRecord["config"],
): Pick<RunRecord, "summary" | "comparisons" | "gates"> {
  const { summary, comparisons } = stats.end();
  const thresholds = thresholdsOf(config);
  return {
    summary,
    ...(comparisons ? { comparisons } : {}),
    ...(thresholds ? { gates: judgeGates({ summary, thresholds }) } : {}),
  };
}

/** Options of {@link mergeRecordFiles}. */
export interface MergeFilesOptions {
  /** Results files to write the merged record to (`.json`, or `.jsonl` for one case per line). */
  outputs?: string[];
  /** How many cases the returned record keeps: "all", or at most n failing cases per variant (default 20). */
  retainCases?: "all" | number;
}

/**
 * {@link mergeRecords} for results files, read and written as streams: the shards of a run of any
 * size merge in flat memory, into the same bytes. Returns the record with its summary and the
 * retained cases (the files in `outputs` get every case), and how many cases there were. A shard
 * found broken part-way leaves no output file behind.
 */
export async function mergeRecordFiles(
  paths: string[],
  options: MergeFilesOptions = {},
): Promise<{ record: RunRecord; cases: number }> {
  const streams: { path: string; header: RecordStream["header"]; stream: RecordStream }[] = [];
  for (const path of paths) {
    const stream = await openRecordStream(path);
    streams.push({ path, header: stream.header, stream });
  }
  const { sharded, order } = checkMergeable(streams);
  const { shard: _shard, runId: _runId, ...rest } = streams[0].header;
  const header = { ...rest, startedAt: mergedTimes(streams.map((s) => s.header)).startedAt };
  const writers = (options.outputs ?? []).map((path) => createRecordWriter(path, header));
  try {
    const stats = createRecordStats(streams[0].header);
    const retained: CaseResult[] = [];
    const keep = createCaseRetainer(options.retainCases ?? 20);
    let count = 0;
    const add = (result: CaseResult) => {
      count++;
      addTo(stats, result);
      if (writers.length > 0) {
        const json = JSON.stringify(result);
        for (const writer of writers) writer.write(result, json);
      }
      if (keep(result)) retained.push(result);
    };
    if (sharded) {
      // Shard i holds every n-th case from the i-th: a case's results from each shard in turn.
      const groups = order.map((i) => groupsOf(streams[i].stream.cases));
      for (let more = true; more; ) {
        more = false;
        for (const group of groups) {
          const next = await group.next();
          if (next.done) continue;
          more = true;
          for (const result of next.value) add(result);
        }
      }
    } else {
      for (const { stream } of streams) for await (const result of stream.cases) add(result);
    }
    const ends = streams.map((s) => ({ ...s.header, ...s.stream.end() }));
    const { finishedAt, status } = mergedTimes(ends);
    // As in memory: the stop reason is the first record's.
    const { stopReason } = ends[0];
    const tail = endFields({ ...endStats(stats, streams[0].header.config), finishedAt, status, stopReason });
    for (const writer of writers) writer.finish(tail);
    return { record: { ...header, ...tail, cases: retained }, cases: count };
  } catch (error) {
    for (const writer of writers) writer.abort();
    throw error;
  } finally {
    await Promise.all(streams.map((s) => s.stream.cases.return(undefined)));
  }
}

/**
 * Checks that the records are one run's shards (all of them, once each) or none are shards, and
 * gives the order to merge them in: by shard index, else as given.
 */
function checkMergeable(records: { path: string; header: MergeHeader }[]): {
  sharded: boolean;
  order: number[];
} {
  if (records.length === 0)
    throw new UserError({
      code: "usage",
      message: "nothing to merge",
      hint: "name the shard results: promptsmith merge a.json b.json -o all.json",
    });
  const [first] = records;
  const expected = runOf(first.header);
  for (const { path, header } of records) {
    const what = Object.keys(expected).filter(
      (key) => canonicalJson(runOf(header)[key]) !== canonicalJson(expected[key]),
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
  const order = records.map((_, i) => i);
  if (!records.every((r) => r.header.shard)) {
    if (records.some((r) => r.header.shard)) {
      throw new UserError({
        code: "usage",
        message: "some of these records are shards and some are not",
        hint: "merge the shards of one run",
      });
    }
    return { sharded: false, order };
  }
  const count = first.header.shard!.count;
  const byIndex = new Map<number, number>();
  for (const [i, { path, header }] of records.entries()) {
    const shard = header.shard!;
    if (shard.count !== count) {
      throw new UserError({
        code: "usage",
        location: { file: path },
        message: `it is shard ${shard.index}/${shard.count}, the others are of ${count}`,
        hint: "merge the shards of one run",
      });
    }
    if (byIndex.has(shard.index)) {
      throw new UserError({
        code: "usage",
        location: { file: path },
        message: `shard ${shard.index}/${count} is given twice (also ${records[byIndex.get(shard.index)!].path})`,
        hint: "name each shard once",
      });
    }
    byIndex.set(shard.index, i);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new UserError({
      code: "usage",
      message: `shard ${missing.join(", ")} of ${count} is missing`,
      hint: "merge every shard of the run",
    });
  }
  return { sharded: true, order: Array.from({ length: count }, (_, i) => byIndex.get(i + 1)!) };
}

/** The fields of a record that merging reads before its cases. */
type MergeHeader = Pick<RunRecord, "config" | "seed" | "selection" | "shard">;

/** The merged run's times and status: from the earliest start to the latest end; complete only if every part is. */
function mergedTimes(
  records: Pick<RunRecord, "startedAt" | "finishedAt" | "status">[],
): Pick<RunRecord, "startedAt" | "finishedAt" | "status"> {
  const statuses = records.map((r) => r.status ?? "complete");
  return {
    startedAt: records.map((r) => r.startedAt).sort()[0],
    finishedAt: records
      .map((r) => r.finishedAt ?? r.startedAt)
      .sort()
      .at(-1),
    status: statuses.every((s) => s === "complete")
      ? "complete"
      : statuses.includes("interrupted")
        ? "interrupted"
        : "stopped",
  };
}

/**
 * What shards of one run share: the config (paths taken relative to the config's folder, since CI
 * runners may check the project out in different places), the seed and the selection.
 */
function runOf(record: MergeHeader): Record<string, unknown> {
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

/** {@link groupByCase} as the cases stream in. */
async function* groupsOf(cases: AsyncIterable<CaseResult>): AsyncGenerator<CaseResult[], void, undefined> {
  let group: CaseResult[] = [];
  for await (const result of cases) {
    if (group.length > 0 && group[0].id !== result.id) {
      yield group;
      group = [];
    }
    group.push(result);
  }
  if (group.length > 0) yield group;
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
