import { describe, expect, it } from "vitest";
import type { CaseResult, RunRecord } from "../../../src/record/types.js";
import { renderJsonSummary } from "../../../src/reporters/json.js";
import { renderTerminalReport } from "../../../src/reporters/terminal.js";

function record(cases: CaseResult[]): RunRecord {
  return {
    version: 1,
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:02.500Z",
    status: "complete",
    config: {
      description: "demo",
      configPath: "/x.yaml",
      providers: [],
      prompts: [],
      tests: { path: "/t.jsonl", expected: "answer" },
      scorers: [],
    },
    summary: [
      {
        prompt: "zero-shot",
        provider: "m",
        total: 10,
        passed: 7,
        failed: 2,
        errors: 0,
        unparsed: 1,
        accuracy: 0.7,
        ci95: [0.3968, 0.8922],
        latencyMs: { p50: 812, p95: 2210 },
        tokens: { prompt: 1500, completion: 200 },
      },
      {
        prompt: "cot",
        provider: "m",
        total: 10,
        passed: 9,
        failed: 0,
        errors: 1,
        unparsed: 0,
        accuracy: 0.9,
        ci95: [0.5958, 0.9821],
        latencyMs: { p50: 1400, p95: 2000 },
        tokens: { prompt: 12000, completion: 900 },
      },
    ],
    cases,
  };
}

const failing: CaseResult = {
  id: "17",
  prompt: "zero-shot",
  provider: "m",
  vars: {},
  messages: [],
  output: "I think \u001b[2J\u001b[31m 33",
  extracted: "33",
  expected: 30,
  pass: false,
  score: 0,
  reason: "expected 30, extracted 33",
  unparsed: false,
  latencyMs: 1,
  tokens: { prompt: 1, completion: 1 },
  error: null,
};
const errored: CaseResult = {
  ...failing,
  id: "18",
  prompt: "cot",
  output: null,
  extracted: null,
  error: { kind: "server", message: "500 upstream" },
};

describe("renderTerminalReport", () => {
  it("shows one row per variant with accuracy, interval, counts, latency and tokens", () => {
    const text = renderTerminalReport(record([]), { color: false });
    expect(text).toContain("promptsmith · demo · 20 jobs · 2.5s");
    const row = text.split("\n").find((l) => l.startsWith("zero-shot"))!;
    expect(row).toMatch(/zero-shot\s+m\s+70\.0%\s+40%–89%\s+–\s+7\s+2\s+0\s+1\s+812ms\s+1\.5k\/200/);
    expect(text.split("\n").find((l) => l.startsWith("cot"))).toMatch(/90\.0%.*1\.4s\s+12k\/900/);
    expect(text).not.toContain("Failures");
    const one = record([]);
    one.summary = [{ ...one.summary[0], total: 1, passed: 1, failed: 0, unparsed: 0 }];
    expect(renderTerminalReport(one, { color: false })).toContain("promptsmith · demo · 1 job · 2.5s");
  });

  it("lists failures with expected vs extracted, and errors with their kind", () => {
    const text = renderTerminalReport(record([failing, errored]), { color: false });
    expect(text).toContain("Failures (2 of 4)");
    expect(text).toContain("zero-shot · m · case 17");
    expect(text).toMatch(/expected 30\s+extracted 33/);
    expect(text).toContain("server: 500 upstream");
  });

  it("never passes a model's escape sequences to the terminal", () => {
    const text = renderTerminalReport(record([failing]), { color: false });
    expect(text).not.toContain("\u001b");
    expect(text).toContain("\\x1b[2J");
  });

  it("gives each scorer of a combination a column: mean score and pass rate", () => {
    const withScorers = record([]);
    withScorers.summary[0].scorers = {
      contains: { n: 10, mean: 0.8, passRate: 0.8, unparsed: 0 },
      "rouge-l": { n: 10, mean: 0.4567, passRate: 0.3, unparsed: 0 },
    };
    const text = renderTerminalReport(withScorers, { color: false });
    const lines = text.split("\n");
    expect(lines.find((l) => l.startsWith("prompt "))).toMatch(/tokens in\/out\s+contains\s+rouge-l$/);
    expect(lines.find((l) => l.startsWith("zero-shot"))).toMatch(/1\.5k\/200\s+0\.80 80%\s+0\.46 30%$/);
    expect(lines.find((l) => l.startsWith("cot"))).toMatch(/12k\/900\s+–\s+–$/);
    expect(text).toContain("contains, rouge-l: each scorer's mean score and pass rate");
    expect(renderTerminalReport(record([]), { color: false })).not.toContain("each scorer's");
  });

  it("colours only when asked", () => {
    expect(renderTerminalReport(record([failing]), { color: true })).toContain("\u001b[");
    expect(renderTerminalReport(record([failing]), { color: false })).not.toContain("\u001b[");
  });
});

describe("the terminal charts", () => {
  /** The bar of a variant's line in the interval chart. */
  function barOf(text: string, name: string): string {
    const line = text.split("\n").find((l) => l.startsWith(`  ${name}`))!;
    return / {2}([·━●]{10,}) {2}/.exec(line)![1];
  }

  it("draw each variant's accuracy as a dot inside its 95% interval, on one 0–100% scale", () => {
    const text = renderTerminalReport(record([]), { color: false, width: 100 });
    expect(text).toContain("accuracy and its 95% interval");
    // zero-shot: 70.0% in [39.68%, 89.22%]; cot: 90.0% in [59.58%, 98.21%] (the record's numbers).
    for (const [name, accuracy, low, high] of [
      ["zero-shot · m", 0.7, 0.3968, 0.8922],
      ["cot · m", 0.9, 0.5958, 0.9821],
    ] as const) {
      const bar = barOf(text, name);
      const at = (v: number) => Math.round(v * (bar.length - 1));
      expect(bar.indexOf("●")).toBe(at(accuracy));
      expect(bar.indexOf("━")).toBe(at(low));
      expect(bar.lastIndexOf("━")).toBe(at(high));
      expect(bar.replace(/[━●]/g, "").length).toBe(bar.length - (at(high) - at(low) + 1));
    }
  });

  it("fit the terminal's width, and are plain text without colour", () => {
    const narrow = renderTerminalReport(record([]), { color: false, width: 70 });
    const wide = renderTerminalReport(record([]), { color: false, width: 160 });
    expect(barOf(narrow, "cot · m").length).toBeLessThan(barOf(wide, "cot · m").length);
    for (const text of [narrow, wide]) {
      const chart = text.slice(text.indexOf("accuracy and its"));
      for (const line of chart.split("\n").filter((l) => l.includes("●")))
        expect(line.length, line).toBeLessThanOrEqual(text === narrow ? 70 : 160);
    }
    expect(narrow).not.toContain("\u001b");
    // With colour, the interval is one cyan run (ESC[36m … ESC[39m).
    expect(renderTerminalReport(record([]), { color: true })).toContain(`\u001b[36m${"━".repeat(3)}`);
  });

  /** The record swept over k with these accuracies, under the configured prompt id `base`. */
  function sweep(base: string, ks: number[], accuracies: number[]): RunRecord {
    const swept = record([]);
    swept.config.prompts = ks.map((k) => ({
      id: `${base}@k=${k}`,
      baseId: base,
      sweep: { k },
      template: "",
    }));
    swept.summary = accuracies.map((accuracy, i) => ({
      ...swept.summary[0],
      prompt: `${base}@k=${ks[i]}`,
      accuracy,
      ci95: [Math.max(0, accuracy - 0.2), Math.min(1, accuracy + 0.2)] as [number, number],
    }));
    return swept;
  }

  it("show a k-sweep as a sparkline with its values", () => {
    const text = renderTerminalReport(sweep("few", [0, 2, 4], [0, 0.5, 1]), { color: false, width: 100 });
    // Eight levels over 0–100%: 0 → the lowest, 50% → round(3.5) = the fifth, 100% → the highest.
    expect(text).toMatch(/accuracy by k\n {2}few · m {2}▁▅█ {2}k=0 0\.0% · k=2 50\.0% · k=4 100\.0%\n/);
  });

  it("cut a sparkline's values to the width: the ends and the best, else the best alone", () => {
    const ks = [0, 1, 2, 4, 8];
    const accuracies = [0.1, 0.6, 0.9, 0.7, 0.5];
    const wide = renderTerminalReport(sweep("few", ks, accuracies), { color: false, width: 100 });
    expect(wide).toContain("  few · m  ▂▅▇▆▅  k=0 10.0% · k=1 60.0% · k=2 90.0% · k=4 70.0% · k=8 50.0%\n");
    const cut = renderTerminalReport(sweep("few", ks, accuracies), { color: false, width: 60 });
    expect(cut).toContain("  few · m  ▂▅▇▆▅  k=0 10.0% … k=8 50.0%, best k=2 90.0%\n");
    const name = "a-much-longer-prompt-name";
    const narrow = renderTerminalReport(sweep(name, ks, accuracies), { color: false, width: 60 });
    expect(narrow).toContain(`  ${name} · m  ▂▅▇▆▅  best k=2 90.0%\n`);
    for (const line of [...cut.split("\n"), ...narrow.split("\n")].filter((l) => l.includes("▂▅▇▆▅")))
      expect(line.length).toBeLessThanOrEqual(60);
  });
});

describe("renderJsonSummary", () => {
  it("prints the summary rows with the record version and no cases", () => {
    const parsed = JSON.parse(renderJsonSummary(record([failing])));
    expect(parsed.version).toBe(1);
    expect(parsed.summary).toHaveLength(2);
    expect(parsed.cases).toBeUndefined();
  });
});
