import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLeaks, estimate, evaluate, loadConfig, mergeRecords, renderPrompt } from "../../src/index.js";
import type { CaseResult, RunRecord } from "../../src/record/types.js";
import { copyFixture } from "../helpers/cli.js";
import { startTestServer } from "../helpers/openai-test-server.js";

// fixtures/leaks: data/pool.jsonl holds test case t1 under its own id (line 1), t2 under another
// id with its case and spacing changed (line 3), and t3 with one word changed (line 5);
// docs/ holds t4's question word for word (reading.md) and t5's with two words changed, beside
// its answer (letters.md). Everything runs on the echo provider: no model, no network.

/** The pool rows that are copies of each case, by case id. */
const COPIES: Record<string, string[]> = { t1: ["t1"], t2: ["train-17"], t3: ["train-3"] };
const EXACT: Record<string, string[]> = { t1: ["t1"], t2: ["train-17"] };

async function run(yaml: string): Promise<RunRecord> {
  const dir = copyFixture("leaks");
  writeFileSync(join(dir, "promptsmith.yaml"), yaml);
  const suite = await loadConfig(dir, { env: {} });
  const { record } = await evaluate({ suite, env: {}, journal: false });
  return record;
}

const config = (...prompts: string[]) =>
  [
    "providers: [echo]",
    "prompts:",
    ...prompts.map((p) => `  - ${p}`),
    "tests: { path: data/test.jsonl, expected: answer }",
    "cache: false",
  ].join("\n");
const QA = `text: "{{#each shots}}Q: {{question}}\\nA: {{answer}}\\n\\n{{/each}}Q: {{question}}\\nA:"`;
const RAG = `text: "{{#each context}}[{{source}}] {{text}}\\n{{/each}}Q: {{question}}\\nA:"`;

const casesOf = (record: RunRecord, prompt: string | RegExp) =>
  record.cases.filter((c) => (typeof prompt === "string" ? c.prompt === prompt : prompt.test(c.prompt)));

describe("shots from another file that holds copies of test cases", () => {
  it("the issue's reproduction: an exact copy is never a case's shot, and the next-best takes its place", async () => {
    const suite = await loadConfig(copyFixture("leaks"), { env: {} });
    const [rendered] = await renderPrompt({ suite, caseId: "t1", prompts: ["fs"] });
    expect(rendered.shots).toHaveLength(2);
    expect(rendered.shots).not.toContain("t1");
    expect(rendered.messages[0].content.split(NATALIA_START)).toHaveLength(2); // only the case's own question
    expect(rendered.leaks).toEqual([
      {
        in: "shots",
        id: "t1",
        source: "data/pool.jsonl:1",
        kind: "exact",
        similarity: 1,
        action: "excluded",
      },
    ]);
  });

  it("by default: exact copies (same id; another id, case and spacing changed) excluded, the near-copy flagged, all counted", async () => {
    const record = await run(
      config(`{ id: fs, ${QA}, shots: { from: data/pool.jsonl, k: 2, select: similar } }`),
    );
    const cases = casesOf(record, "fs");
    for (const c of cases) {
      expect(c.shots).toHaveLength(2);
      for (const copy of EXACT[c.id] ?? []) expect(c.shots).not.toContain(copy);
    }
    const byId = Object.fromEntries(cases.map((c) => [c.id, c]));
    expect(byId.t1.leaks).toEqual([
      {
        in: "shots",
        id: "t1",
        source: "data/pool.jsonl:1",
        kind: "exact",
        similarity: 1,
        action: "excluded",
      },
    ]);
    expect(byId.t2.leaks).toEqual([
      {
        in: "shots",
        id: "train-17",
        source: "data/pool.jsonl:3",
        kind: "exact",
        similarity: 1,
        action: "excluded",
      },
    ]);
    // 45 of 51 word 3-grams shared (computed in Python, see test/unit/fewshot/leaks.test.ts).
    // `similar` ranks the near-copy first, and a flagged copy stays: the record says it was shown.
    expect(byId.t3.shots).toContain("train-3");
    expect(byId.t3.leaks).toEqual([
      {
        in: "shots",
        id: "train-3",
        source: "data/pool.jsonl:5",
        kind: "near",
        similarity: 0.8824,
        action: "flagged",
        shown: true,
      },
    ]);
    for (const id of ["t4", "t5", "t6"]) expect(byId[id].leaks).toBeUndefined();
    expect(record.summary[0].leaks).toEqual({ cases: 3, excluded: 2, flagged: 1 });
  });

  it("leak: exclude keeps every copy out, for every strategy, with draws and a token budget; k stays k", async () => {
    const from = "from: data/pool.jsonl, leak: exclude";
    const record = await run(
      config(
        `{ id: s, ${QA}, shots: { ${from}, k: 2, select: [first, random, balanced, similar] } }`,
        `{ id: d, ${QA}, shots: { ${from}, k: 2, select: random, draws: 3 } }`,
        `{ id: b, ${QA}, shots: { ${from}, k: 3, select: similar, maxTokens: 140 } }`,
      ),
    );
    expect(record.cases).toHaveLength(6 * (4 + 3 + 1));
    for (const c of record.cases) {
      for (const copy of COPIES[c.id] ?? []) expect(c.shots, `${c.prompt} ${c.id}`).not.toContain(copy);
      if (c.prompt !== "b") expect(c.shots, `${c.prompt} ${c.id}`).toHaveLength(2);
      expect(c.leaks?.map((l) => l.id) ?? []).toEqual(COPIES[c.id] ?? []);
      for (const leak of c.leaks ?? []) expect(leak.action).toBe("excluded");
    }
    // The budget dropped examples from some cases, never to make room for a copy.
    expect(casesOf(record, "b").some((c) => (c.shots?.length ?? 0) < 3)).toBe(true);
    for (const row of record.summary) {
      const perCase = row.prompt === "d" ? 3 : 1;
      expect(row.leaks, row.prompt).toEqual({ cases: 3 * perCase, excluded: 3 * perCase, flagged: 0 });
    }
  });

  it("a clean pool: nothing excluded or flagged, and the shots are those of an unguarded run", async () => {
    const record = await run(
      config(
        `{ id: fs, ${QA}, shots: { from: data/clean.jsonl, k: 2, select: [first, similar] } }`,
        `{ id: off, ${QA}, shots: { from: data/clean.jsonl, k: 2, select: [first, similar], leak: allow } }`,
      ),
    );
    for (const c of record.cases) expect(c.leaks).toBeUndefined();
    for (const row of record.summary) expect(row.leaks).toBeUndefined();
    const shots = (prompt: RegExp) => casesOf(record, prompt).map((c: CaseResult) => c.shots);
    expect(shots(/^fs@/)).toEqual(shots(/^off@/));
  });
});

describe("rows without the selection field", () => {
  it("are compared over the fields both sides have: an extra column on either side hides no copy", async () => {
    const dir = copyFixture("leaks");
    const TEXT = "An unforgettable film, with a cast at its best and a story that never drags.";
    writeFileSync(
      join(dir, "data", "reviews.jsonl"),
      [
        { id: "r1", text: "A dull film, badly shot.", split: "train", label: "neg" },
        { id: "r2", text: TEXT, split: "train", label: "pos" },
        { id: "r3", text: "Good film", label: "pos" },
        { id: "r4", text: "Nothing happens for two hours.", split: "train", label: "neg" },
      ]
        .map((row) => `${JSON.stringify(row)}\n`)
        .join(""),
    );
    writeFileSync(
      join(dir, "data", "sentiment.jsonl"),
      [
        { id: "s1", text: TEXT, label: "pos" },
        { id: "s2", text: "Good film", topic: "cinema", label: "pos" },
      ]
        .map((row) => `${JSON.stringify(row)}\n`)
        .join(""),
    );
    writeFileSync(
      join(dir, "promptsmith.yaml"),
      [
        "providers: [echo]",
        "prompts:",
        "  - id: fs",
        '    text: "{{#each shots}}{{text}} -> {{label}}\\n{{/each}}{{text}} ->"',
        "    shots: { from: data/reviews.jsonl, k: 2, label: label }",
        "tests: { path: data/sentiment.jsonl, expected: label }",
        "cache: false",
      ].join("\n"),
    );
    const suite = await loadConfig(dir, { env: {} });
    const { record } = await evaluate({ suite, env: {}, journal: false });
    expect(record.cases.map((c) => [c.id, c.shots, c.leaks?.map((l) => [l.id, l.kind, l.action])])).toEqual([
      ["s1", ["r1", "r3"], [["r2", "exact", "excluded"]]],
      ["s2", ["r1", "r2"], [["r3", "exact", "excluded"]]],
    ]);
    const report = await checkLeaks({ suite });
    expect(report).toMatchObject({ exact: 2, near: 0 });
    expect(report.findings.map((f) => [f.case.id, f.case.line, f.copy.id, f.copy.line, f.kind])).toEqual([
      ["s1", 1, "r2", 2, "exact"],
      ["s2", 2, "r3", 3, "exact"],
    ]);
  });
});

describe("select: embedding", () => {
  it("leaves exact copies out too: the loopback server's vectors rank a copy first, the guard takes the next", async () => {
    const server = await startTestServer();
    try {
      const dir = copyFixture("leaks");
      writeFileSync(
        join(dir, "promptsmith.yaml"),
        [
          "providers: [{ id: openai:test-model, maxRetries: 0 }]",
          "prompts:",
          `  - { id: e, ${QA}, shots: { from: data/pool.jsonl, k: 2, select: embedding, embedding: { model: test-embedding } } }`,
          "tests: { path: data/test.jsonl, expected: answer }",
          "cache: false",
        ].join("\n"),
      );
      const suite = await loadConfig(dir, { env: {} });
      const { record } = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url }, journal: false });
      const byId = Object.fromEntries(record.cases.map((c) => [c.id, c]));
      for (const c of record.cases) expect(c.shots).toHaveLength(2);
      expect(byId.t1.shots).not.toContain("t1");
      expect(byId.t2.shots).not.toContain("train-17");
      expect(byId.t1.leaks).toMatchObject([{ id: "t1", action: "excluded" }]);
      expect(record.summary[0].leaks).toEqual({ cases: 3, excluded: 2, flagged: 1 });
    } finally {
      await server.close();
    }
  });
});

describe("a context corpus that holds copies of test cases", () => {
  it("flags a passage with the question word for word, and one with a near-copy of it beside the answer", async () => {
    const record = await run(config(`{ id: rag, ${RAG}, context: { corpus: docs, k: 2 } }`));
    const byId = Object.fromEntries(record.cases.map((c) => [c.id, c]));
    expect(byId.t4.leaks).toEqual([
      {
        in: "context",
        id: "reading.md#1",
        source: "docs/reading.md:6",
        kind: "exact",
        similarity: 1,
        action: "flagged",
        shown: true,
      },
    ]);
    // 17 of the question's 19 word 3-grams, and "624" (computed in Python, see the unit test).
    expect(byId.t5.leaks).toEqual([
      {
        in: "context",
        id: "letters.md#1",
        source: "docs/letters.md:5",
        kind: "near",
        similarity: 0.8947,
        action: "flagged",
        shown: true,
      },
    ]);
    expect(byId.t5.context?.map((p) => `${p.source}#${p.index}`)).toContain("letters.md#1");
    for (const id of ["t1", "t2", "t3", "t6"]) expect(byId[id].leaks).toBeUndefined();
    expect(record.summary[0].leaks).toEqual({ cases: 2, excluded: 0, flagged: 2 });
  });

  it("exclude: copies drops them, and the next passages take their place", async () => {
    const record = await run(config(`{ id: rag, ${RAG}, context: { corpus: docs, k: 2, exclude: copies } }`));
    const byId = Object.fromEntries(record.cases.map((c) => [c.id, c]));
    expect(byId.t4.context?.map((p) => `${p.source}#${p.index}`)).not.toContain("reading.md#1");
    expect(byId.t5.context?.map((p) => `${p.source}#${p.index}`)).not.toContain("letters.md#1");
    for (const c of record.cases) expect(c.context).toHaveLength(2);
    expect(byId.t4.messages[0].content).not.toContain("[reading.md] Julie is reading");
    expect(byId.t4.leaks).toMatchObject([{ id: "reading.md#1", kind: "exact", action: "excluded" }]);
    expect(byId.t5.leaks).toMatchObject([{ id: "letters.md#1", kind: "near", action: "excluded" }]);
    expect(record.summary[0].leaks).toEqual({ cases: 2, excluded: 2, flagged: 0 });
  });

  it("a clean corpus: nothing flagged", async () => {
    const record = await run(config(`{ id: rag, ${RAG}, context: { corpus: docs-clean, k: 2 } }`));
    for (const c of record.cases) expect(c.leaks).toBeUndefined();
    expect(record.summary[0].leaks).toBeUndefined();
  });
});

describe("the counts are a function of the cases", () => {
  it("merged shards and a resumed run count exactly what one uninterrupted run counts", async () => {
    const suite = await loadConfig(copyFixture("leaks"), { env: {} });
    const whole = (await evaluate({ suite, env: {} })).record;
    expect(whole.summary.map((row) => row.leaks)).toEqual([
      { cases: 3, excluded: 2, flagged: 1 },
      { cases: 2, excluded: 0, flagged: 2 },
    ]);
    const shards = await Promise.all(
      [1, 2].map((index) => evaluate({ suite, env: {}, journal: false, shard: { index, count: 2 } })),
    );
    expect(shards[0].record.summary[0].leaks).not.toEqual(whole.summary[0].leaks);
    const merged = mergeRecords(shards.map(({ record }, i) => ({ path: `shard-${i}.json`, record })));
    expect(merged.summary.map((row) => row.leaks)).toEqual(whole.summary.map((row) => row.leaks));
    // Every job replayed from the journal, leaks and all.
    const resumed = (await evaluate({ suite, env: {}, resume: true })).record;
    expect(resumed.summary.map((row) => row.leaks)).toEqual(whole.summary.map((row) => row.leaks));
    expect(resumed.cases.map((c) => c.leaks)).toEqual(whole.cases.map((c) => c.leaks));
  });

  it("with repeat, each run of a case records its copies, and the summary counts the case once, as total does", async () => {
    const dir = copyFixture("leaks");
    appendFileSync(join(dir, "promptsmith.yaml"), "repeat: 3\n");
    const suite = await loadConfig(dir, { env: {} });
    const { record } = await evaluate({ suite, env: {}, journal: false });
    const fs = record.cases.filter((c) => c.prompt === "fs" && c.id === "t1");
    expect(fs.map((c) => c.repeat)).toEqual([0, 1, 2]);
    for (const c of fs) expect(c.leaks).toMatchObject([{ id: "t1", action: "excluded" }]);
    expect(record.summary[0]).toMatchObject({ total: 6, leaks: { cases: 3, excluded: 2, flagged: 1 } });
  });
});

describe("a dry run counts what the run would exclude or flag", () => {
  it("per prompt, without sending anything", async () => {
    const suite = await loadConfig(copyFixture("leaks"), { env: {} });
    const result = await estimate({ suite, env: {} });
    const byPrompt = Object.fromEntries(result.rows.map((r) => [r.prompt, r.leaks]));
    expect(byPrompt).toEqual({
      fs: { checked: 6, cases: 3, excluded: 2, flagged: 1, guarded: ["shots"] },
      rag: { checked: 6, cases: 2, excluded: 0, flagged: 2, guarded: ["context"] },
    });
  });
});

const NATALIA_START = "Natalia sold clips to 48";
