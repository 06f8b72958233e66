import { describe, expect, it } from "vitest";
import { quantileSorted, wilsonInterval } from "../../../src/stats/interval.js";
import { createSummaryAccumulator } from "../../../src/stats/summary.js";

describe("wilsonInterval", () => {
  it("matches the textbook values", () => {
    // 3 of 5: the standard Wilson 95% interval is [0.2307, 0.8824].
    const [lo, hi] = wilsonInterval(3, 5);
    expect(lo).toBeCloseTo(0.2307, 4);
    expect(hi).toBeCloseTo(0.8824, 4);
    // 1225 of 1319 (the README's example row).
    const [lo2, hi2] = wilsonInterval(1225, 1319);
    expect(lo2).toBeCloseTo(0.9135, 3);
    expect(hi2).toBeCloseTo(0.9415, 3);
  });

  it("stays inside [0, 1] at the edges and is empty for no cases", () => {
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(0, 10)[1]).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(10, 10)[1]).toBe(1);
    expect(wilsonInterval(10, 10)[0]).toBeCloseTo(0.7225, 4);
    expect(wilsonInterval(0, 0)).toEqual([0, 0]);
  });
});

describe("quantileSorted", () => {
  it("takes the nearest rank", () => {
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(quantileSorted(values, 0.5)).toBe(50);
    expect(quantileSorted(values, 0.95)).toBe(100);
    expect(quantileSorted([7], 0.5)).toBe(7);
    expect(quantileSorted([], 0.5)).toBe(0);
  });
});

describe("createSummaryAccumulator", () => {
  it("counts passed, failed, errors and unparsed apart, per prompt × provider", () => {
    const summary = createSummaryAccumulator();
    const base = { prompt: "p", provider: "m", latencyMs: 100, tokens: { prompt: 10, completion: 2 } };
    summary.add({ ...base, pass: true, unparsed: false, error: null });
    summary.add({ ...base, pass: true, unparsed: false, error: null, latencyMs: 300 });
    summary.add({ ...base, pass: false, unparsed: false, error: null, latencyMs: 200 });
    summary.add({ ...base, pass: false, unparsed: true, error: null });
    summary.add({
      ...base,
      pass: false,
      unparsed: false,
      error: { kind: "server" },
      latencyMs: 0,
      tokens: { prompt: 0, completion: 0 },
    });
    summary.add({ ...base, prompt: "q", pass: true, unparsed: false, error: null });
    const [p, q] = summary.rows();
    expect(p).toMatchObject({
      prompt: "p",
      total: 5,
      passed: 2,
      failed: 1,
      errors: 1,
      unparsed: 1,
      accuracy: 0.4,
    });
    expect(p.tokens).toEqual({ prompt: 40, completion: 8 });
    // Errored calls have no latency: p50 over 100, 300, 200, 100.
    expect(p.latencyMs).toEqual({ p50: 100, p95: 300 });
    expect(q).toMatchObject({ prompt: "q", total: 1, passed: 1, accuracy: 1 });
  });
});
