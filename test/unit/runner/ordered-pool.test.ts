import { describe, expect, it } from "vitest";
import { runOrdered } from "../../../src/runner/ordered-pool.js";

async function* numbers(n: number, seen?: number[]) {
  for (let i = 0; i < n; i++) {
    seen?.push(i);
    yield i;
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runOrdered", () => {
  it("emits results in source order whatever order they finish in", async () => {
    const out: number[] = [];
    // Later items finish first.
    await runOrdered(
      numbers(20),
      async (i) => {
        await delay((20 - i) % 7);
        return i * 10;
      },
      { concurrency: () => 5, window: 100, onResult: (r) => out.push(r) },
    );
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
  });

  it("never runs more than the concurrency limit at once and skips undefined results", async () => {
    let running = 0;
    let peak = 0;
    const out: number[] = [];
    await runOrdered(
      numbers(30),
      async (i) => {
        running++;
        peak = Math.max(peak, running);
        await delay(1);
        running--;
        return i % 2 === 0 ? i : undefined;
      },
      { concurrency: () => 3, window: 100, onResult: (r) => out.push(r) },
    );
    expect(peak).toBe(3);
    expect(out).toEqual(Array.from({ length: 15 }, (_, i) => i * 2));
  });

  it("does not start work more than `window` items past the oldest unfinished one", async () => {
    const started: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const run = runOrdered(
      numbers(50),
      async (i) => {
        started.push(i);
        if (i === 0) await gate;
        return i;
      },
      { concurrency: () => 10, window: 8, onResult: () => undefined },
    );
    await delay(20);
    // Item 0 is stuck: only items 0..7 may have started.
    expect(Math.max(...started)).toBe(7);
    release();
    await run;
    expect(started).toHaveLength(50);
  });

  it("reads the source only as slots free up", async () => {
    const pulled: number[] = [];
    const controller = new AbortController();
    await runOrdered(
      numbers(1000, pulled),
      async (i) => {
        if (i === 4) controller.abort();
        await delay(1);
        return i;
      },
      { concurrency: () => 2, window: 100, signal: controller.signal, onResult: () => undefined },
    );
    expect(pulled.length).toBeLessThan(10);
  });

  it("reports the first worker failure after in-flight work settles, and tells onFailure at once", async () => {
    const failures: unknown[] = [];
    const out: number[] = [];
    await expect(
      runOrdered(
        numbers(10),
        async (i) => {
          if (i === 3) throw new Error("boom");
          await delay(2);
          return i;
        },
        {
          concurrency: () => 2,
          window: 100,
          onResult: (r) => out.push(r),
          onFailure: (e) => failures.push(e),
        },
      ),
    ).rejects.toThrow("boom");
    expect(failures).toHaveLength(1);
    expect(out.length).toBeLessThan(10);
  });

  it("propagates a failing source", async () => {
    async function* broken() {
      yield 1;
      throw new Error("bad line 2");
    }
    await expect(
      runOrdered(broken(), async (i) => i, { concurrency: () => 4, window: 10, onResult: () => undefined }),
    ).rejects.toThrow("bad line 2");
  });
});
