import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";
import {
  createJournalWriter,
  type JournalTimers,
  journalPath,
  listJournals,
  newRunId,
  openJournalReplay,
  pruneJournals,
  readJournal,
  readJournalHeader,
  reopenJournalWriter,
} from "../../../src/store/journal.js";
import { transpileForChild } from "../../helpers/transpile.js";

const _root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
let dir: string;
let counter = 0;
const freshPath = (): string => join(dir, `case-${++counter}`, "runs", "run.jsonl");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "promptsmith-journal-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Timers the test fires by hand. */
function manualTimers(): JournalTimers & {
  pending: { callback: () => void; ms: number }[];
  fire(): void;
  /** Ends the current turn of the event loop: runs what was set to run after it. */
  endTurn(): void;
} {
  const pending: { callback: () => void; ms: number }[] = [];
  const immediates: (() => void)[] = [];
  return {
    pending,
    setImmediate(callback) {
      immediates.push(callback);
    },
    endTurn() {
      for (const callback of immediates.splice(0)) callback();
    },
    setTimeout(callback, ms) {
      const handle = { callback, ms };
      pending.push(handle);
      return handle;
    },
    clearTimeout(handle) {
      const index = pending.indexOf(handle as (typeof pending)[number]);
      if (index !== -1) pending.splice(index, 1);
    },
    fire() {
      for (const handle of pending.splice(0)) handle.callback();
    },
  };
}

const lines = (path: string): string[] => readFileSync(path, "utf8").split("\n").filter(Boolean);
const header = '{"type":"header","suite":"s"}\n';
const result = (key: string, value: unknown): string =>
  `${JSON.stringify({ type: "result", key, result: value })}\n`;

async function readError(path: string): Promise<UserError> {
  try {
    await readJournal(path);
  } catch (error) {
    if (isUserError(error)) return error;
    throw error;
  }
  throw new Error("readJournal did not fail");
}

function writeRaw(text: string): string {
  const path = freshPath();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe("journal writer and reader", () => {
  it("round-trips a header and results, writing the header to disk at once", async () => {
    const path = freshPath();
    const writer = createJournalWriter(
      path,
      { suite: "math", seed: 7, type: "ignored" },
      { timers: manualTimers() },
    );
    expect(lines(path)).toEqual(['{"type":"header","suite":"math","seed":7}']);
    writer.append({ key: "cot|echo|1", result: { pass: true, output: "line one\nline two" } });
    writer.append({ key: "cot|echo|2", result: { pass: false, error: { kind: "timeout" } } });
    writer.append({ key: "cot|echo|3", result: undefined });
    writer.close();
    const journal = await readJournal(path);
    expect(journal.header).toEqual({ suite: "math", seed: 7 });
    expect(journal.truncatedTail).toBe(false);
    expect([...journal.results]).toEqual([
      ["cot|echo|1", { pass: true, output: "line one\nline two" }],
      ["cot|echo|2", { pass: false, error: { kind: "timeout" } }],
      ["cot|echo|3", null],
    ]);
  });

  it("refuses to overwrite an existing journal and to append after close", () => {
    const path = freshPath();
    const writer = createJournalWriter(path, {});
    writer.close();
    expect(() => createJournalWriter(path, {})).toThrow(/EEXIST/);
    expect(() => writer.append({ key: "k", result: 1 })).toThrow(/closed/);
  });

  it("writes a turn's lines when the turn is over, fsyncs on the timer, and flush() cancels the timer", () => {
    const path = freshPath();
    const timers = manualTimers();
    const writer = createJournalWriter(path, {}, { timers, flushIntervalMs: 1000 });
    writer.append({ key: "a", result: 1 });
    writer.append({ key: "b", result: 2 });
    expect(lines(path)).toHaveLength(1);
    expect(timers.pending.map((t) => t.ms)).toEqual([1000]); // one timer for the whole batch
    // Both lines reach the file at the end of the turn, not a second later: a kill loses neither.
    timers.endTurn();
    expect(lines(path)).toHaveLength(3);
    timers.fire();
    expect(lines(path)).toHaveLength(3);
    writer.append({ key: "c", result: 3 });
    expect(timers.pending).toHaveLength(1);
    writer.flush();
    expect(timers.pending).toHaveLength(0);
    expect(lines(path)).toHaveLength(4);
    writer.close();
  });

  it("flushes at once when the buffer passes its size limit", () => {
    const path = freshPath();
    const timers = manualTimers();
    const writer = createJournalWriter(path, {}, { timers, maxBufferBytes: 200 });
    writer.append({ key: "a", result: "x".repeat(100) });
    expect(lines(path)).toHaveLength(1);
    writer.append({ key: "b", result: "x".repeat(100) });
    expect(lines(path)).toHaveLength(3);
    expect(timers.pending).toHaveLength(0);
    writer.close();
  });

  it("lets a later result for a key replace an earlier one", async () => {
    const path = writeRaw(header + result("a", 1) + result("b", 2) + result("a", 3));
    const journal = await readJournal(path);
    expect(Object.fromEntries(journal.results)).toEqual({ a: 3, b: 2 });
  });

  it("tolerates a last line cut off mid-write", async () => {
    const path = writeRaw(`${header}${result("a", 1)}${result("b", 2)}{"type":"result","key":"c","res`);
    const journal = await readJournal(path);
    expect(journal.truncatedTail).toBe(true);
    expect([...journal.results.keys()]).toEqual(["a", "b"]);
  });

  it("accepts a complete last line that lacks its newline", async () => {
    const path = writeRaw(header + result("a", 1).trimEnd());
    const journal = await readJournal(path);
    expect(journal.truncatedTail).toBe(false);
    expect(journal.results.get("a")).toBe(1);
  });

  it("rejects a corrupt line in the middle, naming its line number", async () => {
    const path = writeRaw(`${header}${result("a", 1)}{"type":"result","key":"b"\n${result("c", 3)}`);
    const error = await readError(path);
    expect(error.code).toBe("run-not-found");
    expect(error.location).toEqual({ file: path, line: 3 });
  });

  it("rejects a cut-off line followed by more lines, a non-result line, and a missing header", async () => {
    const glued = writeRaw(`${header}{"type":"result","key":"a"${result("b", 2)}`);
    expect((await readError(glued)).location?.line).toBe(2);
    const wrongShape = writeRaw(`${header}${result("a", 1)}{"type":"note"}\n${result("b", 2)}`);
    expect((await readError(wrongShape)).location?.line).toBe(3);
    const noHeader = writeRaw(result("a", 1));
    expect((await readError(noHeader)).location?.line).toBe(1);
    const empty = writeRaw("");
    expect((await readError(empty)).code).toBe("run-not-found");
  });

  it("reports a missing journal as run-not-found", async () => {
    const error = await readError(join(dir, "nope", "missing.jsonl"));
    expect(error.code).toBe("run-not-found");
  });

  it("reads a journal larger than one stream chunk, with lines spanning chunks", async () => {
    const path = freshPath();
    const writer = createJournalWriter(path, { big: true });
    const text = "é".repeat(5000); // multi-byte characters across chunk boundaries
    for (let i = 0; i < 100; i++) writer.append({ key: `k${i}`, result: { i, text } });
    writer.close();
    const journal = await readJournal(path);
    expect(journal.results.size).toBe(100);
    expect(journal.results.get("k99")).toEqual({ i: 99, text });
  });

  it("replays each key's latest result, as readJournal reads it, from lines read back one at a time", async () => {
    const path = freshPath();
    const writer = createJournalWriter(path, { big: true });
    const text = "é".repeat(12_000); // 24 KB lines: longer than the line reader's first buffer
    for (let i = 0; i < 40; i++)
      writer.append({ key: `k${i % 30}`, result: { i, text: i % 7 === 0 ? text : "x" } });
    writer.close();
    const replay = await openJournalReplay(path);
    const full = await readJournal(path);
    try {
      expect(replay.header).toEqual({ big: true });
      expect(replay.size).toBe(30);
      for (const [key, result] of full.results) {
        const replayed = replay.get(key);
        expect(replayed?.result, key).toEqual(result);
        expect(JSON.parse(replayed!.json), key).toEqual(result);
      }
      // A key written twice reads as its later line; a key never written is not there.
      expect(replay.get("k5")?.result).toEqual({ i: 35, text });
      expect(replay.get("k30")).toBeUndefined();
    } finally {
      replay.close();
    }
    expect(readJournalHeader(path)).toEqual({ big: true });
    expect(readJournalHeader(join(dir, "missing.jsonl"))).toBeUndefined();
  });

  it("slices a result's JSON even when its key holds the field's own text, and reads other layouts", async () => {
    const tricky = 'k,"result":1';
    const path = writeRaw(
      `${header}${result(tricky, { a: [1, "}"] })}{"result":{"b":2},"key":"x","type":"result"}\n`,
    );
    const replay = await openJournalReplay(path);
    expect(replay.get(tricky)?.json).toBe('{"a":[1,"}"]}');
    expect(replay.get("x")).toEqual({ result: { b: 2 }, json: '{"b":2}' });
    replay.close();
  });

  it("leaves a cut-off last line out", async () => {
    const path = writeRaw(`${header}${result("a", 1)}{"type":"result","key":"b","res`);
    const replay = await openJournalReplay(path);
    expect(replay.size).toBe(1);
    expect(replay.get("a")).toEqual({ result: 1, json: "1" });
    expect(replay.get("b")).toBeUndefined();
    replay.close();
  });

  it("tells apart keys whose hashes collide by the key written in each line", async () => {
    const path = freshPath();
    const writer = createJournalWriter(path, {});
    for (let i = 0; i < 50; i++) writer.append({ key: `p|m|${i % 40}`, result: i });
    writer.close();
    // Three hashes for 40 keys: every lookup meets collisions, and retried keys too.
    const replay = await openJournalReplay(path, { hash: (key) => key.length % 3 });
    expect(replay.size).toBe(40);
    for (let k = 0; k < 40; k++) expect(replay.get(`p|m|${k}`)?.result, `p|m|${k}`).toBe(k < 10 ? k + 40 : k);
    expect(replay.get("p|m|40")).toBeUndefined();
    replay.close();
  });

  it("lets one process at a time write a run, and takes over the lock of one that is gone", async () => {
    const path = freshPath();
    const writer = createJournalWriter(path, { suite: "s" });
    // The same run resumed while it is still being written: refused, nothing touched.
    const refused = await reopenJournalWriter(path).catch((error: unknown) => error);
    expect(isUserError(refused)).toBe(true);
    expect((refused as UserError).message).toBe(`the run is in use by process ${process.pid}`);
    expect((refused as UserError).hint).toContain(`delete ${path}.lock`);
    writer.close();
    expect(existsSync(`${path}.lock`)).toBe(false);

    // A lock left by a killed process on this machine is taken over.
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: gone, host: hostname() }));
    const again = await reopenJournalWriter(path);
    again.append({ key: "a", result: 1 });
    again.close();
    expect(Object.fromEntries((await readJournal(path)).results)).toEqual({ a: 1 });

    // One held from another machine (a shared disk) cannot be checked, so it stands.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: gone, host: "elsewhere" }));
    await expect(reopenJournalWriter(path)).rejects.toThrow(
      `the run is in use by process ${gone} on elsewhere`,
    );
  });

  it("reopens a crashed journal, dropping the cut-off tail before appending", async () => {
    const path = writeRaw(`${header}${result("a", 1)}{"type":"result","key":"b","res`);
    const writer = await reopenJournalWriter(path);
    writer.append({ key: "b", result: 2 });
    writer.close();
    const journal = await readJournal(path);
    expect(journal.truncatedTail).toBe(false);
    expect(Object.fromEntries(journal.results)).toEqual({ a: 1, b: 2 });
    expect(journal.header).toEqual({ suite: "s" });

    const noNewline = writeRaw(header + result("a", 1).trimEnd());
    const again = await reopenJournalWriter(noNewline);
    again.append({ key: "b", result: 2 });
    again.close();
    expect(Object.fromEntries((await readJournal(noNewline)).results)).toEqual({ a: 1, b: 2 });
  });
});

describe("run ids", () => {
  it("are the UTC start time plus four hex digits", () => {
    expect(newRunId(new Date("2026-11-29T18:46:49.123Z"), () => "a3f0")).toBe(
      "2026-11-29T18-46-49-123Z-a3f0",
    );
    expect(newRunId(new Date())).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{4}$/);
  });

  it("are listed newest first, ignoring other files, and [] for a missing folder", () => {
    const runs = join(dir, `list-${++counter}`);
    const ids = [
      newRunId(new Date("2026-11-29T18:46:49.123Z")),
      newRunId(new Date("2026-11-30T08:00:00.000Z")),
      newRunId(new Date("2025-01-01T00:00:00.000Z")),
    ];
    for (const id of ids) createJournalWriter(journalPath(runs, id), {}).close();
    writeFileSync(join(runs, "notes.txt"), "");
    expect(listJournals(runs)).toEqual([ids[1], ids[0], ids[2]]);
    expect(listJournals(join(dir, "no-such-folder"))).toEqual([]);
    expect(listJournals(join(runs, "notes.txt", "runs"))).toEqual([]);
  });
});

describe("pruneJournals", () => {
  it("keeps a config's newest runs and any run in use; other configs' runs are not its to remove", () => {
    const runs = join(dir, `prune-${++counter}`);
    const day = (d: number) => newRunId(new Date(Date.UTC(2026, 10, d)), () => "0000");
    const make = (id: string, configPath: string) =>
      createJournalWriter(journalPath(runs, id), { configPath }).close();
    for (const d of [1, 2, 3, 4, 5, 6]) make(day(d), "/a.yaml");
    make(day(7), "/b.yaml");
    make(day(8), "/b.yaml");
    // Day 2 is being resumed by a live process (this one); day 3's lock was left by a dead one.
    writeFileSync(
      `${journalPath(runs, day(2))}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname() }),
    );
    writeFileSync(
      `${journalPath(runs, day(3))}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 1, host: hostname() }),
    );

    expect(pruneJournals(runs, "/a.yaml", 2).sort()).toEqual([day(1), day(3), day(4)]);
    expect(listJournals(runs)).toEqual([day(8), day(7), day(6), day(5), day(2)]);
    expect(existsSync(`${journalPath(runs, day(3))}.lock`)).toBe(false);
    expect(existsSync(`${journalPath(runs, day(2))}.lock`)).toBe(true);
    expect(pruneJournals(runs, "/a.yaml", 2)).toEqual([]);
    expect(pruneJournals(join(dir, "no-such-folder"), "/a.yaml", 2)).toEqual([]);
  });
});

describe("journal under SIGKILL", () => {
  // Node 20 cannot run TypeScript (no --experimental-strip-types) and tsx is not installed, so
  // the child runs the real journal module with its types stripped by TypeScript's transpiler
  // into a temp folder; journal.ts needs nothing but node: built-ins and the files below.
  let built: string;

  beforeAll(async () => {
    built = join(dir, "built");
    await transpileForChild(["store/journal.ts", "errors.ts", "key-set.ts", "record/writer.ts"], built);
  });

  it("keeps every line flushed before the kill, and nothing but whole lines and one cut-off tail", async () => {
    const path = freshPath();
    const script = join(built, "append-forever.mjs");
    // Appends forever; every 25 entries it flushes by hand and says so, after the fsync returned.
    // Other flushes come from the 1 s timer and the 64 KiB limit, as in a real run.
    writeFileSync(
      script,
      `import { createJournalWriter } from "./store/journal.js";
       const writer = createJournalWriter(process.argv[2], { run: "kill-test" });
       const pad = "x".repeat(300);
       for (let i = 0; ; i++) {
         writer.append({ key: "job-" + i, result: { i, pad } });
         if ((i + 1) % 25 === 0) {
           writer.flush();
           process.stdout.write("flushed " + (i + 1) + "\\n");
         }
         await new Promise((r) => setTimeout(r, 1));
       }`,
    );
    const child = spawn(process.execPath, [script, path], { stdio: ["ignore", "pipe", "pipe"] });
    let lastFlushed = 0;
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      for (const match of chunk.toString().matchAll(/flushed (\d+)/g))
        lastFlushed = Math.max(lastFlushed, Number(match[1]));
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolveExit) =>
      child.on("exit", (_code, signal) => resolveExit(signal)),
    );

    // Wait until the file holds enough lines, then kill without warning.
    const wanted = 300;
    for (;;) {
      const count = existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;
      if (count >= wanted && lastFlushed > 0) break;
      if (child.exitCode !== null) throw new Error(`child exited early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const flushedBeforeKill = lastFlushed;
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(stderr).toBe("");

    // Every complete line must parse; a cut-off last line is the only thing allowed to be wrong.
    const text = readFileSync(path, "utf8");
    const complete = text
      .slice(0, text.lastIndexOf("\n") + 1)
      .split("\n")
      .filter(Boolean);
    for (const line of complete) expect(() => JSON.parse(line)).not.toThrow();

    const journal = await readJournal(path);
    expect(journal.header).toEqual({ run: "kill-test" });
    expect(journal.results.size).toBeGreaterThanOrEqual(Math.max(wanted - 1, flushedBeforeKill));
    // What survived is exactly the first N appends, in order: nothing skipped, nothing reordered.
    expect([...journal.results.keys()]).toEqual(
      Array.from({ length: journal.results.size }, (_, i) => `job-${i}`),
    );
  });
});
