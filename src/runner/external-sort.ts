/**
 * Sorting more lines than should be held at once: lines are gathered into runs of a bounded size,
 * each run sorted and written to a temporary file, and the runs merged as streams. A list that fits
 * in one run never touches the disk.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** One line to sort and the key it sorts by (the key is never written out but in the runs). */
export interface Keyed {
  key: string[];
  line: string;
}

/** Options of externalSort. */
export interface ExternalSortOptions {
  /** Orders two keys. */
  compare: (a: string[], b: string[]) => number;
  /** Characters gathered before a run is sorted and written out (default 4 M: a few MB of text). */
  runChars?: number;
  /** Where the runs' temporary folder is made (default the system's temporary folder). */
  tmpDir?: string;
}

/**
 * The items in key order, streamed. Memory holds one run (`runChars`) while reading, and one line
 * per run while merging. Keys must not repeat (a tie keeps no particular order).
 */
export async function* externalSort(
  items: AsyncIterable<Keyed>,
  options: ExternalSortOptions,
): AsyncGenerator<Keyed> {
  const limit = options.runChars ?? 4 * 1024 * 1024;
  const byKey = (a: Keyed, b: Keyed) => options.compare(a.key, b.key);
  let run: Keyed[] = [];
  let chars = 0;
  let dir: string | undefined;
  const runs: string[] = [];
  try {
    for await (const item of items) {
      run.push(item);
      chars += item.line.length + 16 * item.key.length;
      if (chars < limit) continue;
      dir ??= mkdtempSync(join(options.tmpDir ?? tmpdir(), "promptsmith-sort-"));
      runs.push(writeRun(dir, runs.length, run.sort(byKey)));
      run = [];
      chars = 0;
    }
    run.sort(byKey);
    if (runs.length === 0) {
      yield* run;
      return;
    }
    if (run.length > 0) runs.push(writeRun(dir!, runs.length, run));
    run = [];
    yield* mergeRuns(runs, byKey);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** A sorted run as a file, one `<key JSON>\t<line>` a line (JSON never holds a raw tab). */
function writeRun(dir: string, index: number, run: Keyed[]): string {
  const path = join(dir, `run-${index}`);
  writeFileSync(path, run.map((item) => `${JSON.stringify(item.key)}\t${item.line}\n`).join(""));
  return path;
}

async function* mergeRuns(paths: string[], compare: (a: Keyed, b: Keyed) => number): AsyncGenerator<Keyed> {
  const readers = paths.map((path) =>
    createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Number.POSITIVE_INFINITY })[
      Symbol.asyncIterator
    ](),
  );
  const next = async (reader: AsyncIterator<string>): Promise<Keyed | undefined> => {
    const { value, done } = await reader.next();
    if (done) return undefined;
    const tab = value.indexOf("\t");
    return { key: JSON.parse(value.slice(0, tab)) as string[], line: value.slice(tab + 1) };
  };
  const heads = await Promise.all(readers.map(next));
  try {
    for (;;) {
      // A handful of runs (a run is tens of MB): a linear scan for the least head is enough.
      let least = -1;
      for (let i = 0; i < heads.length; i++) {
        if (heads[i] && (least === -1 || compare(heads[i]!, heads[least]!) < 0)) least = i;
      }
      if (least === -1) return;
      yield heads[least]!;
      heads[least] = await next(readers[least]);
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.return?.()));
  }
}

/**
 * Orders strings as people expect ids to go: numbers (all digits) by value before any other text,
 * other text by code unit. A total order, stable across machines and locales.
 */
export function compareIds(a: string, b: string): number {
  const aDigits = /^\d+$/.test(a);
  const bDigits = /^\d+$/.test(b);
  if (aDigits !== bDigits) return aDigits ? -1 : 1;
  if (aDigits && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders keys part by part with compareIds. */
export function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareIds(a[i], b[i]);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}
