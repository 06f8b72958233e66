import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { isUserError } from "../../src/errors.js";
import { type SnapshotChange, snapshot, snapshotPath } from "../../src/runner/snapshot.js";

const KEY = "sk-snapshot-test-DO-NOT-LEAK-4242";

/** A project of two prompts × two providers over `cases` (ids 1…cases), in a fresh folder. */
function project(cases = 12): string {
  const dir = mkdtempSync(join(tmpdir(), "promptsmith-snapshot-"));
  mkdirSync(join(dir, "templates", "partials"), { recursive: true });
  writeFileSync(
    join(dir, "promptsmith.yaml"),
    [
      "providers:",
      "  - id: openai:test-model",
      "    params: { temperature: 0, max_tokens: 64 }",
      "  - echo",
      "prompts:",
      "  - id: plain",
      "    template: templates/plain.hbs",
      "  - id: few-shot",
      "    template: templates/few-shot.hbs",
      "    shots: { from: train.jsonl, k: 2 }",
      "tests: { path: cases.jsonl, expected: answer }",
      "scorer: numeric",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "templates", "plain.hbs"),
    "{{#system}}Answer with a number.{{/system}}\n{{#user}}Q: {{question}}{{/user}}\n",
  );
  writeFileSync(
    join(dir, "templates", "few-shot.hbs"),
    "{{#user}}\n{{#each shots}}\nQ: {{question}}\nA: {{answer}}\n\n{{/each}}\nQ: {{question}}\n{{/user}}\n",
  );
  writeFileSync(
    join(dir, "train.jsonl"),
    '{"question": "1 + 1?", "answer": 2}\n{"question": "2 + 3?", "answer": 5}\n',
  );
  writeCases(dir, cases);
  return dir;
}

function writeCases(dir: string, count: number, skip = -1): void {
  const rows = Array.from({ length: count }, (_, i) => i + 1)
    .filter((id) => id !== skip)
    .map((id) => JSON.stringify({ id: String(id), question: `What is ${id} + ${id}?`, answer: 2 * id }));
  writeFileSync(join(dir, "cases.jsonl"), `${rows.join("\n")}\n`);
}

async function run(dir: string, mode: "write" | "check", extra: { runChars?: number } = {}) {
  const suite = await loadConfig(dir, { cwd: dir, env: { OPENAI_API_KEY: KEY } });
  const changes: SnapshotChange[] = [];
  const result = await snapshot({ suite, mode, onChange: (c) => changes.push(c), ...extra });
  return { result, changes, path: snapshotPath(suite) };
}

describe("snapshot", () => {
  it("writes one sorted line per case × prompt × provider beside the config, and then checks clean", async () => {
    const dir = project();
    const { result, path } = await run(dir, "write");
    expect(path).toBe(join(dir, "promptsmith.snap.jsonl"));
    expect(result).toMatchObject({ requests: 12 * 2 * 2, existed: false });
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(JSON.parse(lines[0])).toEqual({ promptsmith: "snapshot", version: 1 });
    const requests = lines.slice(1).map((line) => JSON.parse(line));
    expect(requests).toHaveLength(48);
    // Sorted by case (numbers by value), then prompt, then provider.
    expect(requests.slice(0, 4).map((r) => [r.case, r.prompt, r.provider])).toEqual([
      ["1", "few-shot", "echo"],
      ["1", "few-shot", "openai:test-model"],
      ["1", "plain", "echo"],
      ["1", "plain", "openai:test-model"],
    ]);
    expect(requests.at(-1).case).toBe("12");
    expect(requests[3]).toEqual({
      case: "1",
      prompt: "plain",
      provider: "openai:test-model",
      model: "test-model",
      params: { max_tokens: 64, temperature: 0 },
      n: 1,
      messages: [
        { role: "system", content: "Answer with a number." },
        { role: "user", content: "Q: What is 1 + 1?" },
      ],
    });
    expect(requests[0].shots).toHaveLength(2);
    expect(readFileSync(path, "utf8")).not.toContain(KEY);

    const check = await run(dir, "check");
    expect(check.changes).toEqual([]);
    expect(check.result).toMatchObject({ requests: 48, unchanged: 48, changed: 0, added: 0, removed: 0 });
  });

  it("finds a one-character template change in every request it alters, with a diff, and writes nothing", async () => {
    const dir = project();
    const { path } = await run(dir, "write");
    const before = readFileSync(path, "utf8");
    writeFileSync(
      join(dir, "templates", "plain.hbs"),
      "{{#system}}Answer with a number!{{/system}}\n{{#user}}Q: {{question}}{{/user}}\n",
    );
    const { result, changes } = await run(dir, "check");
    expect(result).toMatchObject({ changed: 24, unchanged: 24, added: 0, removed: 0 });
    expect(changes.every((c) => c.kind === "changed" && c.request.prompt === "plain")).toBe(true);
    const first = changes[0] as Extract<SnapshotChange, { kind: "changed" }>;
    expect(first.request).toEqual({ case: "1", prompt: "plain", provider: "echo" });
    expect(first.diff()).toContain("--- snapshot\n+++ now\n");
    expect(first.diff()).toContain("-Answer with a number.\n+Answer with a number!\n");
    expect(readFileSync(path, "utf8")).toBe(before);
  });

  it("passes a refactor that renders the same text (the template moved into a partial)", async () => {
    const dir = project();
    await run(dir, "write");
    writeFileSync(join(dir, "templates", "partials", "question.hbs"), "Q: {{question}}");
    writeFileSync(
      join(dir, "templates", "plain.hbs"),
      "{{#system}}Answer with a number.{{/system}}\n{{#user}}{{> question}}{{/user}}\n",
    );
    const { result } = await run(dir, "check");
    expect(result).toMatchObject({ unchanged: 48, changed: 0, added: 0, removed: 0 });
  });

  it("lists requests added and removed by a dataset change, and --update accepts them", async () => {
    const dir = project(12);
    await run(dir, "write");
    writeCases(dir, 13, 5);
    const { result, changes } = await run(dir, "check");
    expect(result).toMatchObject({ added: 4, removed: 4, changed: 0, unchanged: 44 });
    expect(changes.flatMap((c) => (c.kind === "removed" ? [c.request.case] : []))).toEqual([
      "5",
      "5",
      "5",
      "5",
    ]);
    expect(changes.flatMap((c) => (c.kind === "added" ? [c.request.case] : []))).toEqual([
      "13",
      "13",
      "13",
      "13",
    ]);
    const update = await run(dir, "write");
    expect(update.result).toMatchObject({ existed: true, added: 4, removed: 4 });
    expect((await run(dir, "check")).result).toMatchObject({
      unchanged: 48,
      changed: 0,
      added: 0,
      removed: 0,
    });
  });

  it("writes the same file when the requests spill into sorted runs on disk", async () => {
    const dir = project(40);
    const { path } = await run(dir, "write");
    const inMemory = readFileSync(path, "utf8");
    await run(dir, "write", { runChars: 1000 });
    expect(readFileSync(path, "utf8")).toBe(inMemory);
    expect((await run(dir, "check", { runChars: 1000 })).result.unchanged).toBe(160);
  });

  it("refuses to check without a snapshot, or against a file out of order, with the place", async () => {
    const dir = project(3);
    const missing = await run(dir, "check").catch((error) => error);
    expect(isUserError(missing) && missing.code).toBe("snapshot-not-found");
    const { path } = await run(dir, "write");
    const [header, ...lines] = readFileSync(path, "utf8").trimEnd().split("\n");
    writeFileSync(path, `${[header, lines[1], lines[0], ...lines.slice(2)].join("\n")}\n`);
    const unsorted = await run(dir, "check").catch((error) => error);
    expect(isUserError(unsorted) && unsorted.code).toBe("snapshot-invalid");
    expect(unsorted.location).toEqual({ file: path, line: 3 });
    writeFileSync(path, "not a snapshot\n");
    expect((await run(dir, "check").catch((error) => error)).location).toEqual({ file: path, line: 1 });
  });

  it("writes a repeated config's requests once (every run sends the same text), and checks clean", async () => {
    const dir = project(2);
    const config = join(dir, "promptsmith.yaml");
    writeFileSync(config, `${readFileSync(config, "utf8")}repeat: 3\n`);
    const { result, path } = await run(dir, "write");
    expect(result.requests).toBe(2 * 2 * 2);
    expect(readFileSync(path, "utf8").trimEnd().split("\n")).toHaveLength(1 + 8);
    const check = await run(dir, "check");
    expect(check.result).toMatchObject({ unchanged: 8, changed: 0, added: 0, removed: 0 });
  });

  it("repairs a file it cannot read when writing: says why, replaces it, counts no changes", async () => {
    const dir = project(3);
    const { path } = await run(dir, "write");
    const good = readFileSync(path, "utf8");
    const [header, ...lines] = good.trimEnd().split("\n");
    // A merge left its markers in, and two requests out of order.
    writeFileSync(
      path,
      `${[header, lines[1], lines[0], "<<<<<<< HEAD", ...lines.slice(2), ">>>>>>> theirs"].join("\n")}\n`,
    );
    const repaired = await run(dir, "write");
    expect(repaired.result.unreadable).toBe(
      `${path}:3: the requests are out of order (edited by hand, or merged)`,
    );
    expect(repaired.result).toMatchObject({ existed: true, changed: 0, added: 0, removed: 0, unchanged: 0 });
    expect(readFileSync(path, "utf8")).toBe(good);
    writeFileSync(path, "<<<<<<< HEAD\n");
    expect((await run(dir, "write")).result.unreadable).toContain(
      `${path}:1: this is not a promptsmith snapshot`,
    );
    expect(readFileSync(path, "utf8")).toBe(good);
    expect((await run(dir, "check")).result.unchanged).toBe(12);
  });

  it("holds what is sent from the answers: the extraction template and each judge's rubric and parameters", async () => {
    const dir = project(2);
    mkdirSync(join(dir, "rubrics"));
    writeFileSync(join(dir, "rubrics", "stars.hbs"), "Rate {{output}} from 1 to 5.\n");
    const config = join(dir, "promptsmith.yaml");
    const judge = "{ id: openai:judge-model, label: grader, baseURL: http://judge.invalid/v1 }";
    const original = readFileSync(config, "utf8");
    const yaml = (extract: string, params: string) =>
      original
        .replace(
          "    template: templates/plain.hbs\n",
          `    template: templates/plain.hbs\n    extract: { text: "${extract}" }\n`,
        )
        .replace(
          "scorer: numeric\n",
          [
            "scorer:",
            "  - numeric",
            `  - { type: judge, name: stars, provider: ${judge}, rubric: rubrics/stars.hbs, scale: 1-5${params} }`,
            "",
          ].join("\n"),
        );
    writeFileSync(config, yaml("A: {{output}}. So the number is", ""));
    const { path, result } = await run(dir, "write");
    expect(result.requests).toBe(8);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    // The settings sit between the header and the requests; a path on this machine, an endpoint or a key never.
    expect(lines.slice(1, 3).map((line) => JSON.parse(line))).toEqual([
      { setting: "extract", prompt: "plain", template: "A: {{output}}. So the number is" },
      {
        setting: "judge",
        scorer: "stars",
        type: "judge",
        provider: "grader",
        model: "judge-model",
        params: {},
        scale: "1-5",
        rubricFile: "rubrics/stars.hbs",
        rubric: "Rate {{output}} from 1 to 5.\n",
      },
    ]);
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain(dir);
    expect(text).not.toContain("judge.invalid");
    expect((await run(dir, "check")).result).toMatchObject({ unchanged: 8, settings: 0 });

    // A changed extraction template sends the same first requests, and is found.
    writeFileSync(config, yaml("A: {{output}}. So the answer is", ""));
    let check = await run(dir, "check");
    expect(check.result).toMatchObject({ unchanged: 8, changed: 0, settings: 1 });
    const [extract] = check.changes;
    if (extract.kind !== "setting") throw new Error(`expected a setting change, got ${extract.kind}`);
    expect(extract).toMatchObject({ setting: 'extract · prompt "plain"', status: "changed" });
    expect(extract.diff()).toContain("-A: {{output}}. So the number is\n+A: {{output}}. So the answer is\n");

    // So is a judge's rubric file edited, or its parameters.
    writeFileSync(join(dir, "rubrics", "stars.hbs"), "Rate {{output}} from 1 to 5, strictly.\n");
    writeFileSync(config, yaml("A: {{output}}. So the number is", ", params: { max_tokens: 9 }"));
    check = await run(dir, "check");
    expect(check.result).toMatchObject({ unchanged: 8, settings: 1 });
    const [rubric] = check.changes;
    if (rubric.kind !== "setting") throw new Error(`expected a setting change, got ${rubric.kind}`);
    expect(rubric.setting).toBe('judge · scorer "stars"');
    expect(rubric.diff()).toContain('-params: {}\n+params: {"max_tokens":9}\n');
    expect(rubric.diff()).toContain(
      "-Rate {{output}} from 1 to 5.\n+Rate {{output}} from 1 to 5, strictly.\n",
    );

    // Back to a config with neither: both are removed; writing again counts them.
    writeFileSync(config, original);
    check = await run(dir, "check");
    expect(check.changes.map((c) => (c.kind === "setting" ? c.status : c.kind))).toEqual([
      "removed",
      "removed",
    ]);
    expect((await run(dir, "write")).result).toMatchObject({ settings: 2, changed: 0 });
    expect(readFileSync(path, "utf8").split("\n")[1]).toContain('"case":"1"');
  });
});
