import { describe, expect, it } from "vitest";
import { createAdaptiveLimit, createTokenBucket, parseRetryAfter } from "../../../src/runner/rate-limit.js";

/** A clock whose sleep moves time forward at once: timings are exact and tests instant. */
function instantClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
    get time() {
      return t;
    },
  };
}

/** A clock whose sleeps finish only when the test advances time. */
function manualClock() {
  let t = 0;
  let pending: { until: number; resolve: () => void }[] = [];
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((resolve) => pending.push({ until: t + ms, resolve })),
    get sleeping() {
      return pending.length;
    },
    advance(ms: number) {
      t += ms;
      const due = pending.filter((p) => p.until <= t);
      pending = pending.filter((p) => p.until > t);
      for (const p of due) p.resolve();
    },
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("createTokenBucket", () => {
  it("lets a second's worth of requests through at once, then paces them (rpm 600: the 11th waits 100 ms)", async () => {
    const clock = instantClock();
    const bucket = createTokenBucket({ rpm: 600, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 10; i++) await bucket.acquire(0);
    expect(clock.time).toBe(0);
    await bucket.acquire(0);
    expect(clock.time).toBe(100);
    await bucket.acquire(0);
    expect(clock.time).toBe(200);
  });

  it("bursts as much as burstMs allows, and at least one request", async () => {
    const clock = instantClock();
    const minute = createTokenBucket({ rpm: 60, burstMs: 60_000, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 60; i++) await minute.acquire(0);
    expect(clock.time).toBe(0);
    await minute.acquire(0);
    expect(clock.time).toBe(1000);
    // rpm 2 holds a thirtieth of a request per second: one still goes at once, the next in 30 s.
    const slow = createTokenBucket({ rpm: 2, now: clock.now, sleep: clock.sleep });
    const start = clock.time;
    await slow.acquire(0);
    expect(clock.time).toBe(start);
    await slow.acquire(0);
    expect(clock.time).toBe(start + 30_000);
  });

  it("refills continuously with elapsed time, up to the burst", async () => {
    const clock = instantClock();
    const bucket = createTokenBucket({ rpm: 600, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 10; i++) await bucket.acquire(0);
    await clock.sleep(350); // 3.5 requests' worth comes back
    const before = clock.time;
    for (let i = 0; i < 3; i++) await bucket.acquire(0);
    expect(clock.time).toBe(before);
    await bucket.acquire(0); // half a request short: 50 ms
    expect(clock.time).toBe(before + 50);
    await clock.sleep(60_000); // a long idle refills one second's worth, not a minute's
    const idle = clock.time;
    for (let i = 0; i < 10; i++) await bucket.acquire(0);
    await bucket.acquire(0);
    expect(clock.time).toBe(idle + 100);
  });

  it("limits tokens per minute", async () => {
    const clock = instantClock();
    const bucket = createTokenBucket({ tpm: 60_000, now: clock.now, sleep: clock.sleep });
    await bucket.acquire(600);
    expect(clock.time).toBe(0);
    await bucket.acquire(600); // 400 of the second's 1000 left, 200 short: 200 ms at 1000 per second
    expect(clock.time).toBe(200);
  });

  it("waits for whichever of rpm and tpm is slower", async () => {
    const clock = instantClock();
    const bucket = createTokenBucket({ rpm: 120, tpm: 1_000_000, now: clock.now, sleep: clock.sleep });
    await bucket.acquire(10);
    await bucket.acquire(10);
    await bucket.acquire(10); // tokens plentiful, but 2 requests a second means 500 ms per request
    expect(clock.time).toBe(500);
  });

  it("lets a request larger than the bucket through alone, then makes the next pay it back", async () => {
    const clock = instantClock();
    const bucket = createTokenBucket({ tpm: 60_000, now: clock.now, sleep: clock.sleep });
    await bucket.acquire(500);
    await bucket.acquire(5000); // waits for a full bucket (500 tokens = 500 ms), then goes
    expect(clock.time).toBe(500);
    await bucket.acquire(100); // bucket at -4000: needs 4100 tokens = 4.1 s
    expect(clock.time).toBe(500 + 4100);
  });

  it("serves callers in arrival order, so a small request cannot overtake a big one", async () => {
    const clock = manualClock();
    const bucket = createTokenBucket({ tpm: 6000, now: clock.now, sleep: clock.sleep });
    const order: string[] = [];
    await bucket.acquire(100);
    const big = bucket.acquire(100).then(() => order.push("big"));
    const small = bucket.acquire(1).then(() => order.push("small"));
    await settle();
    expect(clock.sleeping).toBe(1); // only "big" waits on the clock; "small" waits in line
    clock.advance(10); // enough for 1 token, not for 100
    await settle();
    expect(order).toEqual([]);
    clock.advance(990);
    await big;
    await settle();
    expect(order).toEqual(["big"]);
    clock.advance(10);
    await small;
    expect(order).toEqual(["big", "small"]);
  });

  it("rejects with the abort reason while waiting, consumes nothing, and lets the queue move on", async () => {
    const clock = manualClock();
    const bucket = createTokenBucket({ rpm: 1, now: clock.now, sleep: clock.sleep });
    await bucket.acquire(0);
    const controller = new AbortController();
    const waiting = bucket.acquire(0, controller.signal);
    await settle();
    expect(clock.sleeping).toBe(1);
    const reason = new Error("cancelled");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);

    let next = false;
    const after = bucket.acquire(0).then(() => {
      next = true;
    });
    await settle();
    expect(next).toBe(false);
    clock.advance(60_000);
    await after;
    expect(next).toBe(true);
  });

  it("rejects at once for an already-aborted signal and a bad token count", async () => {
    const bucket = createTokenBucket({ rpm: 10 });
    await expect(bucket.acquire(0, AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
    await expect(bucket.acquire(Number.NaN)).rejects.toThrow(RangeError);
    expect(() => createTokenBucket({ rpm: 0 })).toThrow(RangeError);
    expect(() => createTokenBucket({ rpm: 10, burstMs: 0 })).toThrow(RangeError);
  });

  it("is a no-op without limits", async () => {
    const clock = instantClock();
    const bucket = createTokenBucket({ now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 1000; i++) await bucket.acquire(1_000_000);
    expect(clock.sleeps).toEqual([]);
  });

  it("aborts a real sleep through the default timer", async () => {
    const bucket = createTokenBucket({ rpm: 1 });
    await bucket.acquire(0);
    const controller = new AbortController();
    const waiting = bucket.acquire(0, controller.signal); // would wait ~60 s
    setImmediate(() => controller.abort(new Error("stop")));
    await expect(waiting).rejects.toThrow("stop");
  });
});

describe("createAdaptiveLimit", () => {
  it("starts at max and halves on rate limiting, never below min", () => {
    const limit = createAdaptiveLimit({ max: 10 });
    expect(limit.limit).toBe(10);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      limit.onRateLimited();
      seen.push(limit.limit);
    }
    expect(seen).toEqual([5, 2, 1, 1, 1]);
    const floored = createAdaptiveLimit({ max: 10, min: 3 });
    floored.onRateLimited();
    floored.onRateLimited();
    expect(floored.limit).toBe(3);
  });

  it("grows by one after a run of consecutive successes, not above max; a 429 restarts the run", () => {
    const limit = createAdaptiveLimit({ max: 4, successesToGrow: 3 });
    limit.onRateLimited(); // 2
    limit.onSuccess();
    limit.onSuccess();
    expect(limit.limit).toBe(2);
    limit.onSuccess();
    expect(limit.limit).toBe(3);
    limit.onSuccess();
    limit.onSuccess();
    limit.onRateLimited(); // 1, and the two successes no longer count
    limit.onSuccess();
    limit.onSuccess();
    expect(limit.limit).toBe(1);
    limit.onSuccess();
    expect(limit.limit).toBe(2);
    for (let i = 0; i < 30; i++) limit.onSuccess();
    expect(limit.limit).toBe(4);
  });

  it("hands out no new slots after the limit shrinks until in-flight drops below it", async () => {
    const limit = createAdaptiveLimit({ max: 4 });
    for (let i = 0; i < 4; i++) await limit.acquire();
    let granted = false;
    const fifth = limit.acquire().then(() => {
      granted = true;
    });
    limit.onRateLimited(); // limit 2, 4 in flight
    limit.release();
    limit.release();
    await settle();
    expect(limit.inFlight).toBe(2);
    expect(granted).toBe(false);
    limit.release();
    await fifth;
    expect(granted).toBe(true);
    expect(limit.inFlight).toBe(2);
  });

  it("wakes waiters when the limit grows", async () => {
    const limit = createAdaptiveLimit({ max: 2, successesToGrow: 2 });
    limit.onRateLimited(); // 1
    await limit.acquire();
    let granted = false;
    const second = limit.acquire().then(() => {
      granted = true;
    });
    limit.onSuccess();
    await settle();
    expect(granted).toBe(false);
    limit.onSuccess(); // limit 2
    await second;
    expect(limit.inFlight).toBe(2);
  });

  it("drops an aborted waiter from the queue", async () => {
    const limit = createAdaptiveLimit({ max: 1 });
    await limit.acquire();
    const controller = new AbortController();
    const aborted = limit.acquire(controller.signal);
    let third = false;
    const thirdDone = limit.acquire().then(() => {
      third = true;
    });
    controller.abort(new Error("bye"));
    await expect(aborted).rejects.toThrow("bye");
    limit.release();
    await thirdDone;
    expect(third).toBe(true);
    expect(limit.inFlight).toBe(1);
  });

  it("rejects bad options and unmatched releases", () => {
    expect(() => createAdaptiveLimit({ max: 0 })).toThrow(RangeError);
    expect(() => createAdaptiveLimit({ max: 2, successesToGrow: 0 })).toThrow(RangeError);
    expect(() => createAdaptiveLimit({ max: 2 }).release()).toThrow();
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2026-11-29T18:46:49.000Z");

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 3 ", now)).toBe(3000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
  });

  it("reads an HTTP date relative to now, and a past date as 0", () => {
    expect(parseRetryAfter(new Date(now.getTime() + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter("Sun, 29 Nov 2026 18:47:19 GMT", now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now.getTime() - 30_000).toUTCString(), now)).toBe(0);
  });

  it("gives undefined for missing or unreadable values", () => {
    for (const value of [null, undefined, "", "  ", "soon", "-5", "1e3", "Mon, 99 Foo 2026"]) {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    }
  });
});
