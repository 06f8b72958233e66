import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isUserError } from "../../../src/errors.js";
import { type CacheValue, openCache, type ResponseCache } from "../../../src/store/cache.js";
import { cacheKey } from "../../../src/store/job-key.js";
import { transpileForChild } from "../../helpers/transpile.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const require = createRequire(import.meta.url);
// Used directly only to look at the file from outside, the way another tool would.
const Database = require("better-sqlite3") as new (
  path: string,
) => {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(source: string): { run(...params: unknown[]): unknown };
  close(): void;
};

let dir: string;
const open: ResponseCache[] = [];
const track = (cache: ResponseCache): ResponseCache => {
  open.push(cache);
  return cache;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "promptsmith-cache-"));
});
afterEach(() => {
  for (const cache of open.splice(0)) cache.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const freshPath = (): string => join(dir, `case-${++counter}`, "nested", "cache.db");

const answer = (output: string, providerId = "openai:gpt-4o-mini"): CacheValue => ({
  output,
  usage: { prompt: 12, completion: 3 },
  latencyMs: 250,
  providerId,
  model: "gpt-4o-mini-2024-07-18",
});

describe("openCache", () => {
  it("round-trips a response, creating the parent folders", () => {
    const cache = track(openCache(freshPath(), { now: () => new Date("2026-11-29T18:46:49.123Z") }));
    expect(cache.get("missing")).toBeUndefined();
    cache.set("k1", answer("4"));
    expect(cache.get("k1")).toEqual({ ...answer("4"), createdAt: "2026-11-29T18:46:49.123Z" });
  });

  it("finds an entry whatever order the params were written in (via cacheKey)", () => {
    const cache = track(openCache(freshPath()));
    const messages = [{ role: "user" as const, content: "2+2?" }];
    const written = cacheKey({
      providerId: "echo",
      messages,
      params: { temperature: 0, max_tokens: 5 },
      sampleIndex: 0,
    });
    const looked = cacheKey({
      providerId: "echo",
      messages,
      params: { max_tokens: 5, temperature: 0 },
      sampleIndex: 0,
    });
    cache.set(written, answer("4", "echo"));
    expect(cache.get(looked)?.output).toBe("4");
    const otherSample = cacheKey({
      providerId: "echo",
      messages,
      params: { max_tokens: 5, temperature: 0 },
      sampleIndex: 1,
    });
    expect(cache.get(otherSample)).toBeUndefined();
  });

  it("keeps a value without a model, and replaces a value stored again under the same key", () => {
    const cache = track(openCache(freshPath()));
    cache.set("k", { output: "a", usage: { prompt: 0, completion: 0 }, latencyMs: 0, providerId: "echo" });
    expect(cache.get("k")).not.toHaveProperty("model");
    cache.set("k", answer("b"));
    expect(cache.get("k")?.output).toBe("b");
    expect(cache.stats().entries).toBe(1);
  });

  it("reports stats per provider and clears", () => {
    const cache = track(openCache(freshPath()));
    const empty = cache.stats();
    expect(empty.entries).toBe(0);
    expect(empty.byProvider).toEqual([]);
    cache.set("a", answer("x", "echo"));
    cache.set("b", answer("x".repeat(200_000), "openai:gpt-4o"));
    cache.set("c", answer("x", "openai:gpt-4o"));
    const stats = cache.stats();
    expect(stats.entries).toBe(3);
    expect(stats.bytes).toBeGreaterThanOrEqual(200_000);
    expect(stats.byProvider).toEqual([
      { provider: "openai:gpt-4o", entries: 2 },
      { provider: "echo", entries: 1 },
    ]);
    expect(cache.clear()).toBe(3);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
    expect(cache.clear()).toBe(0);
  });

  it("persists across close and reopen", () => {
    const path = freshPath();
    const first = openCache(path);
    first.set("k", answer("kept"));
    first.close();
    const second = track(openCache(path));
    expect(second.get("k")?.output).toBe("kept");
  });

  it("puts the file in WAL mode", () => {
    const path = freshPath();
    const cache = track(openCache(path));
    cache.set("k", answer("x"));
    const outside = new Database(path);
    try {
      expect(outside.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      outside.close();
    }
  });

  it("lets two connections to one file write and read each other's entries once written", () => {
    const path = freshPath();
    const a = track(openCache(path));
    const b = track(openCache(path));
    for (let i = 0; i < 50; i++) {
      a.set(`a${i}`, answer(`from a ${i}`));
      b.set(`b${i}`, answer(`from b ${i}`));
      // Queued: this connection sees it at once, the other once the batch is written.
      expect(a.get(`a${i}`)?.output).toBe(`from a ${i}`);
      expect(b.get(`a${i}`)).toBeUndefined();
      a.flush();
      b.flush();
      expect(b.get(`a${i}`)?.output).toBe(`from a ${i}`);
      expect(a.get(`b${i}`)?.output).toBe(`from b ${i}`);
    }
    expect(a.stats().entries).toBe(100);
    expect(b.clear()).toBe(100);
    expect(a.stats().entries).toBe(0);
  });

  it("writes a full batch at once, and the rest after a short delay, without holding the process", async () => {
    const path = freshPath();
    const a = track(openCache(path));
    const b = track(openCache(path));
    for (let i = 0; i < 256; i++) a.set(`k${i}`, answer(`v${i}`));
    expect(b.stats().entries).toBe(256);
    a.set("late", answer("late"));
    expect(b.get("late")).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(b.get("late")?.output).toBe("late");
  });

  it("refuses to store something that is not a successful answer", () => {
    const cache = track(openCache(freshPath()));
    const failed = {
      error: { kind: "timeout", message: "took too long" },
      providerId: "echo",
    } as unknown as CacheValue;
    expect(() => cache.set("k", failed)).toThrow(TypeError);
    expect(() => cache.set("k", { ...answer("x"), latencyMs: Number.NaN })).toThrow(TypeError);
    expect(cache.stats().entries).toBe(0);
  });

  it("treats a row it cannot read as a miss", () => {
    const path = freshPath();
    const cache = track(openCache(path));
    const outside = new Database(path);
    try {
      outside
        .prepare("INSERT INTO responses (key, provider, model, response, created_at) VALUES (?, ?, ?, ?, ?)")
        .run("bad", "echo", null, "{not json", "2026-01-01T00:00:00.000Z");
    } finally {
      outside.close();
    }
    expect(cache.get("bad")).toBeUndefined();
  });

  it("reports a file that is not a cache as a user error", () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      "this is not a database, just some text that is long enough to have a header".repeat(20),
    );
    let caught: unknown;
    try {
      openCache(path);
    } catch (error) {
      caught = error;
    }
    expect(isUserError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: "usage", location: { file: path } });
  });

  it("throws when used after close", () => {
    const cache = openCache(freshPath());
    cache.close();
    cache.close();
    expect(() => cache.get("k")).toThrow(/closed/);
  });
});

describe("openCache across processes", () => {
  // The child runs the real module, transpiled (types stripped) into a temp folder, because
  // Node 20 cannot run TypeScript and tsx is not installed. NODE_PATH lets its lazy
  // require("better-sqlite3") find the project's node_modules from there.
  let built: string;

  beforeAll(async () => {
    built = join(dir, "built");
    await transpileForChild(["store/cache.ts", "errors.ts"], built);
  });

  interface ChildRun {
    /** Resolves when the child prints "ready" (or exits). */
    ready: Promise<void>;
    done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  }

  const runChild = (script: string, args: string[]): ChildRun => {
    const file = join(built, `child-${++counter}.mjs`);
    writeFileSync(file, script);
    const child = spawn(process.execPath, [file, ...args], {
      env: { ...process.env, NODE_PATH: join(root, "node_modules") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let markReady!: () => void;
    const ready = new Promise<void>((resolveReady) => {
      markReady = resolveReady;
    });
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("ready")) markReady();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveDone) => {
      child.on("close", (code) => {
        markReady();
        resolveDone({ code, stdout, stderr });
      });
    });
    return { ready, done };
  };

  it("does not load better-sqlite3 just by importing the module", async () => {
    const result = await runChild(
      `import "./store/cache.js";
       import { createRequire } from "node:module";
       const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("better-sqlite3"));
       console.log(JSON.stringify({ loaded }));`,
      [],
    ).done;
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ loaded: false });
  });

  it("lets two processes write to one cache at the same time", async () => {
    const path = freshPath();
    const count = 400;
    const childRun = runChild(
      `import { openCache } from "./store/cache.js";
       const [path, count] = [process.argv[2], Number(process.argv[3])];
       const cache = openCache(path);
       console.log("ready");
       for (let i = 0; i < count; i++) {
         cache.set("child-" + i, { output: "c" + i, usage: { prompt: 1, completion: 1 }, latencyMs: 1, providerId: "child" });
         if (cache.get("child-" + i)?.output !== "c" + i) throw new Error("lost child-" + i);
         if (i % 10 === 0) await new Promise((r) => setImmediate(r));
       }
       cache.close();`,
      [path, String(count)],
    );
    const cache = track(openCache(path));
    await childRun.ready;
    for (let i = 0; i < count; i++) {
      cache.set(`parent-${i}`, answer(`p${i}`, "parent"));
      expect(cache.get(`parent-${i}`)?.output).toBe(`p${i}`);
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    const result = await childRun.done;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const stats = cache.stats();
    expect(stats.entries).toBe(2 * count);
    expect(stats.byProvider).toEqual([
      { provider: "child", entries: count },
      { provider: "parent", entries: count },
    ]);
    expect(cache.get(`child-${count - 1}`)?.output).toBe(`c${count - 1}`);
  });
});
