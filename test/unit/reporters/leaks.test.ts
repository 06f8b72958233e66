import { describe, expect, it } from "vitest";
import type { RunRecord, SummaryRow } from "../../../src/record/types.js";
import { leakLines, leakNote } from "../../../src/reporters/leaks.js";
import { renderMarkdownReport } from "../../../src/reporters/markdown.js";
import { renderTerminalReport } from "../../../src/reporters/terminal.js";

function row(prompt: string, provider: string, total: number, leaks?: SummaryRow["leaks"]): SummaryRow {
  return {
    prompt,
    provider,
    total,
    passed: 0,
    failed: total,
    errors: 0,
    unparsed: 0,
    accuracy: 0,
    ci95: [0, 0],
    latencyMs: { p50: 0, p95: 0 },
    tokens: { prompt: 0, completion: 0 },
    ...(leaks ? { leaks } : {}),
  };
}

/** Prompts: fs (shots), rag (context), both (shots and context), off (leak: allow), zero (no shots, k 0). */
function record(summary: SummaryRow[]): RunRecord {
  return {
    version: 1,
    startedAt: "2026-01-01T00:00:00.000Z",
    config: {
      configPath: "/x.yaml",
      providers: [],
      prompts: [
        { id: "fs", template: "", shots: { from: "/p.jsonl", k: 2 } },
        { id: "rag", template: "", context: { corpus: "/docs", k: 2 } },
        { id: "both", template: "", shots: { from: "/p.jsonl", k: 2 }, context: { corpus: "/docs" } },
        { id: "off", template: "", shots: { from: "/p.jsonl", k: 2, leak: "allow" } },
        { id: "zero", template: "", shots: { from: "/p.jsonl", k: 0 } },
      ],
      tests: { path: "/t.jsonl", expected: "answer" },
      scorers: [],
    },
    summary,
    cases: [],
  };
}

describe("the leak guard's lines", () => {
  it("one per guarded prompt, zero included; none for a prompt with nothing checked", () => {
    const lines = leakLines(
      record([
        row("fs", "m", 6, { cases: 3, excluded: 2, flagged: 1 }),
        row("rag", "m", 6),
        row("both", "m", 1, { cases: 1, excluded: 1, flagged: 1 }),
        row("off", "m", 6),
        row("zero", "m", 6),
      ]),
    );
    expect(lines).toEqual([
      "leak guard · fs: 3 of 6 cases had a copy among their examples: 2 excluded, 1 flagged",
      "leak guard · rag: none of 6 cases had a copy among their passages",
      "leak guard · both: 1 of 1 case had a copy among their examples or passages: 1 excluded, 1 flagged",
    ]);
  });

  it("one line per provider only where the providers' counts differ", () => {
    const same = leakLines(record([row("fs", "a", 4), row("fs", "b", 4)]));
    expect(same).toEqual(["leak guard · fs: none of 4 cases had a copy among their examples"]);
    const differ = leakLines(
      record([row("fs", "a", 4, { cases: 1, excluded: 1, flagged: 0 }), row("fs", "b", 2)]),
    );
    expect(differ).toEqual([
      "leak guard · fs · a: 1 of 4 cases had a copy among their examples: 1 excluded, 0 flagged",
      "leak guard · fs · b: none of 2 cases had a copy among their examples",
    ]);
  });

  it("are in the terminal and Markdown reports", () => {
    const run = record([row("fs", "m", 6, { cases: 3, excluded: 2, flagged: 1 })]);
    expect(renderTerminalReport(run)).toContain(
      "leak guard · fs: 3 of 6 cases had a copy among their examples: 2 excluded, 1 flagged",
    );
    expect(renderMarkdownReport(run)).toContain(
      "- leak guard · fs: 3 of 6 cases had a copy among their examples",
    );
  });

  it("render's note names each copy, and says when a flagged one was not shown", () => {
    expect(
      leakNote(
        "fs",
        "t3",
        ["shots", "context"],
        [
          { in: "shots", id: "a", source: "p.jsonl:2", kind: "exact", similarity: 1, action: "excluded" },
          {
            in: "shots",
            id: "b",
            source: "p.jsonl:5",
            kind: "near",
            similarity: 0.8824,
            action: "flagged",
            shown: false,
          },
          {
            in: "context",
            id: "f.md#1",
            source: "docs/f.md:6",
            kind: "exact",
            similarity: 1,
            action: "flagged",
            shown: true,
          },
        ],
      ),
    ).toBe(
      "leak guard · fs · case t3: 1 example excluded (a at p.jsonl:2, exact copy); 1 example flagged (b at p.jsonl:5, near-copy 88%, not shown); 1 passage flagged (f.md#1 at docs/f.md:6, exact copy, shown)",
    );
    expect(leakNote("fs", "t6", ["shots", "context"], [])).toBe(
      "leak guard · fs · case t6: no example or passage is a copy of this case",
    );
  });
});
