import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyFixture, runCli } from "../helpers/cli.js";

// fixtures/leaks: see test/integration/leaks.test.ts for what its pool and corpus hold.

describe("promptsmith check-leaks", () => {
  it("lists every copy with the file and line of both sides, and exits 1 on an exact copy", async () => {
    const dir = copyFixture("leaks");
    const run = await runCli(["check-leaks"], { cwd: dir });
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stdout.trim().split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "exact  data/test.jsonl:1 case t1  in data/pool.jsonl:1 (example t1)",
      "exact  data/test.jsonl:2 case t2  in data/pool.jsonl:3 (example train-17)",
      "near   data/test.jsonl:3 case t3  in data/pool.jsonl:5 (example train-3): 88% of its word 3-grams",
      "exact  data/test.jsonl:4 case t4  in docs/reading.md:6 (passage reading.md#1)",
      "near   data/test.jsonl:5 case t5  in docs/letters.md:5 (passage letters.md#1): 89% of its word 3-grams, and the answer",
    ]);
    expect(lines.at(-1)).toBe(
      "6 cases against 1 example pool (7 examples) and 1 corpus (7 passages): 3 exact copies, 2 near-copies",
    );
    expect(run.stderr).toMatch(
      /^error: 3 exact copies of test cases in the example pools or corpora\n {2}hint: /,
    );
  });

  it("--json gives the same findings for scripts", async () => {
    const run = await runCli(["check-leaks", "--json"], { cwd: copyFixture("leaks") });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ cases: 6, exact: 3, near: 2 });
    expect(report.findings[2]).toEqual({
      case: { id: "t3", file: "data/test.jsonl", line: 3 },
      in: "shots",
      copy: { id: "train-3", file: "data/pool.jsonl", line: 5 },
      kind: "near",
      similarity: 0.8824,
    });
    expect(report.findings[3]).toMatchObject({
      in: "context",
      copy: { id: "reading.md#1", file: "docs/reading.md", line: 6 },
      kind: "exact",
    });
  });

  it("a clean pool and corpus report zero and exit 0; near-copies alone do not fail", async () => {
    const dir = copyFixture("leaks");
    const clean = join(dir, "clean.yaml");
    writeFileSync(
      clean,
      [
        "providers: [echo]",
        "prompts:",
        '  - { id: fs, text: "{{question}}", shots: { from: data/clean.jsonl, k: 2 } }',
        '  - { id: rag, text: "{{question}}", context: { corpus: docs-clean } }',
        "tests: { path: data/test.jsonl, expected: answer }",
      ].join("\n"),
    );
    const run = await runCli(["check-leaks", clean], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(
      "6 cases against 1 example pool (4 examples) and 1 corpus (3 passages): 0 exact copies, 0 near-copies",
    );
    appendFileSync(
      join(dir, "data/clean.jsonl"),
      `${JSON.stringify({ id: "n", question: "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents decided to give her $25 for that purpose, and her grandparents twice as much as her parents. How much more money does Betty need to buy the wallet?", answer: 0 })}\n`,
    );
    const near = await runCli(["check-leaks", clean], { cwd: dir });
    expect(near.code, near.stderr).toBe(0);
    expect(near.stdout).toMatch(
      /^near {3}data\/test\.jsonl:3 case t3 {2}in data\/clean\.jsonl:5 \(example n\)/,
    );
  });

  it("bad input is a located error and exit 2", async () => {
    const dir = copyFixture("leaks");
    appendFileSync(join(dir, "data/pool.jsonl"), "{ not json\n");
    const run = await runCli(["check-leaks"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pool\.jsonl:8/);
    const missing = await runCli(["check-leaks", "nowhere.yaml"], { cwd: dir });
    expect(missing.code).toBe(2);
  });
});

describe("every run says how much overlap it found, per prompt, in one line", () => {
  it("eval", async () => {
    const run = await runCli(["eval", "--no-cache"], { cwd: copyFixture("leaks") });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "leak guard · fs: 3 of 6 cases had a copy among their examples: 2 excluded, 1 flagged",
    );
    expect(run.stdout).toContain(
      "leak guard · rag: 2 of 6 cases had a copy among their passages: 0 excluded, 2 flagged",
    );
  });

  it("eval --dry-run", async () => {
    const run = await runCli(["eval", "--dry-run"], { cwd: copyFixture("leaks") });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "leak guard · fs: 3 of 6 cases had a copy among their examples: 2 excluded, 1 flagged",
    );
  });

  it("render, for the case it renders; and a clean case says none", async () => {
    const dir = copyFixture("leaks");
    const run = await runCli(["render", "--case", "t1", "--prompt", "fs"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      "leak guard · fs · case t1: 1 example excluded (t1 at data/pool.jsonl:1, exact copy)",
    );
    expect(run.stdout.match(/Natalia sold clips/g)).toHaveLength(1);
    const clean = await runCli(["render", "--case", "t6"], { cwd: dir });
    expect(clean.stderr).toContain("leak guard · fs · case t6: no example is a copy of this case");
    expect(clean.stderr).toContain("leak guard · rag · case t6: no passage is a copy of this case");
  });
});
