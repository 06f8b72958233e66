import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate, loadConfig } from "../../src/index.js";
import type { CaseResult } from "../../src/record/types.js";
import type { EvaluateOptions } from "../../src/runner/evaluate.js";
import { copyFixture } from "../helpers/cli.js";
import { lastMessage, scriptedProvider } from "../helpers/scripted-provider.js";

/** A scripted provider that answers the last number in the question doubled, and logs each call. */
const scripted = (calls: string[]) =>
  scriptedProvider((request) => {
    const last = lastMessage(request);
    calls.push(last);
    return String(Number(/(\d+)\?/.exec(last)?.[1] ?? 0) * 2);
  });

/** Runs the config in `dir` with the scripted provider, no cache, the journal on. */
async function run(dir: string, calls: string[], options: Partial<EvaluateOptions> = {}) {
  const suite = await loadConfig(dir, { env: {} });
  return evaluate({
    suite,
    env: {},
    cache: "off",
    concurrency: 1,
    createProvider: scripted(calls),
    ...options,
  });
}

/**
 * Starts a run and stops it after `after` results, as Ctrl-C would; returns its id and how many
 * jobs finished (a call already on its way when the run stops still lands).
 */
async function interrupted(dir: string, after: number, options: Partial<EvaluateOptions> = {}) {
  const controller = new AbortController();
  let seen = 0;
  let runId: string | undefined;
  const { status } = await run(dir, [], {
    ...options,
    signal: controller.signal,
    onStart: (info) => {
      runId = info.runId;
    },
    onResult: () => {
      if (++seen === after) controller.abort();
    },
  });
  expect(status).toBe("interrupted");
  expect(seen).toBeGreaterThanOrEqual(after);
  return { runId: runId!, done: seen };
}

const comparable = ({ latencyMs: _l, cached: _c, ...rest }: CaseResult) => rest;
const edit = (dir: string, file: string, from: string, to: string) => {
  const path = join(dir, file);
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
};

describe("resume", () => {
  it("finishes the run with the cases and prompts it started with, whatever flags are left out", async () => {
    const dir = copyFixture("arithmetic");
    const { done } = await interrupted(dir, 1, { limit: 3, filterPrompt: ["plain"] });
    expect(done).toBeLessThan(3);

    const calls: string[] = [];
    const resumed = await run(dir, calls, { resume: true, retainCases: "all" });
    expect(resumed.status).toBe("complete");
    // Only what plain/a–c lacked: not the other 2 cases, not the few-shot prompt.
    expect(calls).toHaveLength(3 - done);
    expect(resumed.record.cases.map((c) => `${c.prompt}/${c.id}`)).toEqual(["plain/a", "plain/b", "plain/c"]);

    const clean = await run(copyFixture("arithmetic"), [], {
      limit: 3,
      filterPrompt: ["plain"],
      retainCases: "all",
    });
    expect(resumed.record.cases.map(comparable)).toEqual(clean.record.cases.map(comparable));
  });

  it("refuses a selection flag that differs from the run's", async () => {
    const dir = copyFixture("arithmetic");
    const { runId } = await interrupted(dir, 1, { limit: 3 });
    await expect(run(dir, [], { resume: runId, limit: 4 })).rejects.toMatchObject({
      code: "usage",
      message: `cannot resume run ${runId}: --limit 4 differs from the run's 3`,
    });
    await expect(run(dir, [], { resume: runId, shard: { index: 1, count: 2 } })).rejects.toThrow(
      "--shard 1/2 differs from the run's (none)",
    );
    // The same value again is fine.
    expect((await run(dir, [], { resume: runId, limit: 3 })).status).toBe("complete");
  });

  it("runs again the jobs whose prompt or expected answer changed, and gives what a clean run gives", async () => {
    const dir = copyFixture("arithmetic");
    const { done } = await interrupted(dir, 6);
    expect(done).toBeLessThan(10);
    edit(dir, "templates/plain.hbs", "Q: {{question}}", "Question: {{question}}");
    edit(dir, "data/test.jsonl", '"answer": 9}', '"answer": 6}');

    const calls: string[] = [];
    const resumed = await run(dir, calls, { resume: true, retainCases: "all" });
    expect(resumed.status).toBe("complete");
    // Done before the edits: plain a–e (jobs run case by case: plain a, few-shot a, plain b, …)
    // and some few-shot ones. Changed since: plain a–e (template), and few-shot b if it was done
    // (expected answer). The rest still has to run.
    const fewShotBDone = done >= 4;
    expect(resumed.changed).toBe(Math.ceil(done / 2) + (fewShotBDone ? 1 : 0));
    expect(calls).toHaveLength(10 - done + (resumed.changed ?? 0));

    const clean = await run(dir, [], { journal: false, retainCases: "all" });
    expect(resumed.record.cases.map(comparable)).toEqual(clean.record.cases.map(comparable));
    // The edited expected answer took effect for the case already done (6 is 3 × 2).
    expect(resumed.record.cases.find((c) => c.prompt === "plain" && c.id === "b")?.pass).toBe(true);
  });

  it("refuses a change no journal line can show, and names it", async () => {
    const dir = copyFixture("arithmetic");
    const { runId } = await interrupted(dir, 2);
    edit(dir, "promptsmith.yaml", "temperature: 0,", "temperature: 0.7,");
    edit(dir, "promptsmith.yaml", "k: 2", "k: 1");
    await expect(run(dir, [], { resume: runId })).rejects.toMatchObject({
      code: "usage",
      message: `cannot resume run ${runId}: the config changed since it started (prompts[few-shot].shots.k, providers[openai:test-model].params.temperature)`,
      hint: expect.stringContaining("start a new run instead"),
    });
  });

  it("without a run id takes the newest run of this config, not of another config beside it", async () => {
    const dir = copyFixture("arithmetic");
    writeFileSync(
      join(dir, "other.yaml"),
      readFileSync(join(dir, "promptsmith.yaml"), "utf8").replace(
        "description: arithmetic e2e",
        "description: other",
      ),
    );
    const { runId: mine, done } = await interrupted(dir, 2);
    await interrupted(join(dir, "other.yaml"), 2);

    let resumedId: string | undefined;
    const calls: string[] = [];
    await run(dir, calls, { resume: true, onStart: (info) => (resumedId = info.runId) });
    expect(resumedId).toBe(mine);
    expect(calls).toHaveLength(10 - done);
  });

  it("resumes a journal written before runs recorded their selection, with the flags given", async () => {
    const dir = copyFixture("arithmetic");
    const suite = await loadConfig(dir, { env: {} });
    const { runId } = await interrupted(dir, 1);
    // Rewrite its header as older versions wrote it: no selection, no config.
    const path = join(suite.runsDir, `${runId}.jsonl`);
    const [head, ...rest] = readFileSync(path, "utf8").split("\n");
    const { selection: _s, config: _c, ...old } = JSON.parse(head);
    writeFileSync(path, [JSON.stringify(old), ...rest].join("\n"));
    const calls: string[] = [];
    const resumed = await run(dir, calls, { resume: runId, limit: 2, retainCases: "all" });
    expect(resumed.status).toBe("complete");
    expect(resumed.record.cases.map((c) => c.id)).toEqual(["a", "a", "b", "b"]);
    expect(resumed.record.selection).toEqual({ limit: 2 });
  });
});
