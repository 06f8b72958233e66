import type { Suite } from "../config/types.js";
import { readCases, readRows } from "../dataset/index.js";
import type { Case } from "../dataset/types.js";
import { UserError } from "../errors.js";
import type { Shard } from "../record/types.js";
import { jobId } from "../store/job-key.js";
import type { Variant } from "./prepare.js";
import { matchesAny } from "./select.js";

export type { Shard };

/** One unit of work: a case, a prompt variant, a target (a provider) and a shot draw. */
export interface JobOf<T> {
  testCase: Case;
  variant: Variant;
  bound: T;
  draw: number;
  /** Which run of the case (`repeat: k`), from 0, of how many. */
  repeat: number;
  repeats: number;
}

/** Which cases a run takes: `--shard`, `--filter-case` (ids or globs), then `--limit`. */
export interface CaseSelection {
  limit?: number;
  shard?: Shard;
  filterCase?: string[];
}

/**
 * Streams the jobs of a run in their fixed order: case by case (the dataset is never read ahead of
 * the pool), then prompt, provider and draw. `--shard i/n` keeps every n-th case starting at the
 * i-th, so shards can be merged back by interleaving their cases; `--limit` counts the cases that
 * `--filter-case` kept. `onEnd` gets the job count.
 */
export async function* iterateJobs<T>(
  suite: Suite,
  variants: Variant[],
  targets: T[],
  options: CaseSelection & { onEnd?: (jobs: number) => void } = {},
): AsyncGenerator<JobOf<T>> {
  let position = 0;
  let taken = 0;
  const repeats = repeatsOf(suite);
  for await (const testCase of readCases(suite.tests.path, { expectedField: suite.tests.expected })) {
    const mine = inShard(position++, options.shard);
    if (!mine || !matchesAny(options.filterCase, [testCase.id])) continue;
    if (options.limit !== undefined && taken >= options.limit) break;
    taken++;
    for (const variant of variants) {
      for (const bound of targets) {
        for (let draw = 0; draw < drawsOf(variant); draw++) {
          // A case's runs come one after another, so a record holds them together.
          for (let repeat = 0; repeat < repeats; repeat++)
            yield { testCase, variant, bound, draw, repeat, repeats };
        }
      }
    }
  }
  options.onEnd?.(jobsPerCase(variants, targets.length) * repeats * taken);
}

/**
 * How many jobs {@link iterateJobs} yields with the same options, found by reading the dataset's
 * rows once more and keeping none: a progress bar can show the total long before the run reaches
 * the last case. Undefined when `signal` aborts first.
 */
export async function countJobs(
  suite: Suite,
  variants: Variant[],
  targets: number,
  options: CaseSelection & { signal?: AbortSignal } = {},
): Promise<number | undefined> {
  let position = 0;
  let taken = 0;
  // Rows are cheaper than cases; ids are needed only to filter by them.
  const items: AsyncIterable<Case | unknown> = options.filterCase?.length
    ? readCases(suite.tests.path, { expectedField: suite.tests.expected })
    : readRows(suite.tests.path);
  for await (const item of items) {
    if (options.signal?.aborted) return undefined;
    if (!inShard(position++, options.shard)) continue;
    if (options.filterCase?.length && !matchesAny(options.filterCase, [(item as Case).id])) continue;
    if (options.limit !== undefined && taken >= options.limit) break;
    taken++;
  }
  return jobsPerCase(variants, targets) * repeatsOf(suite) * taken;
}

/** How many times every case runs (`repeat: k`; a suite built in code may leave it out). */
export function repeatsOf(suite: Suite): number {
  return suite.repeat?.k ?? 1;
}

/** Whether the case at `position` (0-based, in file order) belongs to the shard. */
function inShard(position: number, shard: Shard | undefined): boolean {
  return !shard || position % shard.count === shard.index - 1;
}

function jobsPerCase(variants: Variant[], targets: number): number {
  return variants.reduce((n, v) => n + drawsOf(v), 0) * targets;
}

/** How many shot draws a variant runs (1 unless `shots.draws` > 1). */
export function drawsOf(variant: Variant): number {
  return Math.max(1, variant.selectors.length);
}

/** The journal key of a job: prompt, provider (by label), case and (with several draws) the draw. */
export function journalKeyOf(job: JobOf<unknown>, providerLabel: string): string {
  return jobId({
    promptId: job.variant.prompt.id,
    providerLabel,
    caseId: job.testCase.id,
    ...(drawsOf(job.variant) > 1 ? { sample: job.draw } : {}),
    ...(job.repeats > 1 ? { repeat: job.repeat } : {}),
  });
}

/**
 * Refuses a `--filter-case` that matches no case of the dataset, before anything runs; reads the
 * cases only until the first match.
 */
export async function requireCaseMatch(suite: Suite, filters: string[]): Promise<void> {
  const seen: string[] = [];
  for await (const testCase of readCases(suite.tests.path, { expectedField: suite.tests.expected })) {
    if (matchesAny(filters, [testCase.id])) return;
    if (seen.length < 5) seen.push(testCase.id);
  }
  throw new UserError({
    code: "usage",
    field: "--filter-case",
    message: `no case of ${suite.tests.path} matches ${filters.map((f) => JSON.stringify(f)).join(", ")}`,
    hint:
      seen.length > 0
        ? `case ids are the rows' id field, else their index from 0; the first are ${seen.join(", ")} (globs with * allowed)`
        : "the dataset has no cases",
  });
}
