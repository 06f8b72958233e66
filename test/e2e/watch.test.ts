import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, runCli } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

/**
 * A scripted model: right on a, b and c; on d and e right only when the prompt asks it to think
 * carefully (wrong on d, no number on e otherwise).
 */
function model(body: RequestBody): string {
  const text = JSON.stringify(body.messages ?? "");
  const careful = text.includes("carefully");
  const question = /Q: (What is [^?]*\?)/.exec(text)?.[1] ?? "";
  const answers: Record<string, string> = {
    "What is 2 + 2?": "4",
    "What is 3 * 3?": "9",
    "What is 10 / 2?": "5",
    "What is 7 - 8?": careful ? "-1" : "1",
    "What is 100 + 1?": careful ? "101" : "no idea",
    "What is 50 + 51?": "101",
  };
  return answers[question] ?? "no idea";
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ respond: model });
});
afterAll(async () => {
  await server.close();
});

/**
 * A step of a watch session: once stderr has said "watching" `runs` times (or `waitFor` appeared),
 * do `act`. Each step waits for its own count, so the steps run in order.
 */
interface Step {
  after: (out: { stdout: string; stderr: string }) => boolean;
  act: (child: ChildProcess) => void;
}

function session(steps: Step[]) {
  let stdout = "";
  let stderr = "";
  let next = 0;
  let child: ChildProcess | undefined;
  const check = () => {
    while (child && next < steps.length && steps[next].after({ stdout, stderr })) steps[next++].act(child);
  };
  return {
    onSpawn: (c: ChildProcess) => {
      child = c;
    },
    onStdout: (chunk: string) => {
      stdout += chunk;
      check();
    },
    onStderr: (chunk: string) => {
      stderr += chunk;
      check();
    },
    done: () => next,
  };
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe("promptsmith eval --watch", () => {
  it("runs again on each change, through the cache, says what flipped, survives a broken config, and exits 130 on Ctrl-C", async () => {
    const dir = copyFixture("arithmetic");
    const template = join(dir, "templates", "plain.hbs");
    const config = join(dir, "promptsmith.yaml");
    const dataset = join(dir, "data", "test.jsonl");
    const goodConfig = readFileSync(config, "utf8");
    const requests: number[] = [];
    const seen = () => server.completionRequests().length;
    const start = seen();
    const watching = (n: number) => (o: { stderr: string }) =>
      count(o.stderr, "watching 5 files for changes") >= n;
    const steps = session([
      {
        // After the first run: make the prompt ask for care (every request changes).
        after: watching(1),
        act: () => {
          requests.push(seen() - start);
          writeFileSync(
            template,
            readFileSync(template, "utf8").replace("Q: {{question}}", "Think carefully. Q: {{question}}"),
          );
        },
      },
      {
        // After the second: change one case (one request changes).
        after: watching(2),
        act: () => {
          requests.push(seen() - start);
          writeFileSync(
            dataset,
            readFileSync(dataset, "utf8").replace("What is 100 + 1?", "What is 50 + 51?"),
          );
        },
      },
      {
        after: watching(3),
        act: () => {
          requests.push(seen() - start);
          writeFileSync(config, `${goodConfig}\nprompts: [`);
        },
      },
      {
        // The broken config is reported and the watch goes on: put it back.
        after: (o) => o.stderr.includes("watching for changes (Ctrl-C to stop)"),
        act: () => writeFileSync(config, goodConfig),
      },
      {
        after: watching(4),
        act: (child) => {
          requests.push(seen() - start);
          child.kill("SIGINT");
        },
      },
    ]);
    const run = await runCli(["eval", dir, "--watch", "--filter-prompt", "plain"], {
      env: { OPENAI_BASE_URL: server.url },
      timeoutMs: 60_000,
      ...steps,
    });
    expect(steps.done()).toBe(5);
    expect(run.code).toBe(130);
    // 5 cases: all asked at first, all again once the template changed, then the one changed case,
    // then none (the config put back renders what the cache holds).
    expect(requests).toEqual([5, 10, 11, 11]);

    const reports = run.stdout.split(/\n(?=promptsmith · )/);
    expect(reports).toHaveLength(4);
    expect(reports[0]).toMatch(/plain\s+openai:test-model\s+60\.0%/);
    expect(reports[0]).not.toContain("Changes since the previous run");
    expect(reports[1]).toMatch(/plain\s+openai:test-model\s+100\.0%/);
    expect(reports[1]).toMatch(/Changes since the previous run\nprompt\s+provider\s+before\s+now/);
    expect(reports[1]).toMatch(/plain\s+openai:test-model\s+60\.0%\s+100\.0%\s+\+40\.0 pts\s+2\s+0/);
    expect(reports[1]).toContain("Flipped (2: 0 worse, 2 better)");
    expect(reports[1]).toMatch(/✗→✓ plain · openai:test-model · case d\s+expected -1\s+extracted -1/);
    expect(reports[1]).toMatch(/\?→✓ plain · openai:test-model · case e\s+expected 101\s+extracted 101/);
    expect(reports[2]).toContain("4 from cache");
    expect(reports[2]).toContain("no case flipped");
    expect(reports[3]).toContain("5 jobs · 5 from cache");

    expect(run.stderr).toContain(`templates${"/"}plain.hbs changed: running again`);
    expect(run.stderr).toContain(`data${"/"}test.jsonl changed: running again`);
    expect(run.stderr).toMatch(/error: .*promptsmith\.yaml:\d+:\d+/);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  }, 90_000);

  it("refuses flags that do not go with it, and a missing config, before watching", async () => {
    const dir = copyFixture("arithmetic");
    const resume = await runCli(["eval", dir, "--watch", "--resume"]);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain(
      "--watch: --watch runs the config again on every change; it does not go with --resume",
    );
    // A flag the watch would otherwise ignore is refused too.
    const record = await runCli(["eval", dir, "--watch", "--record", join(dir, "c.jsonl")]);
    expect(record.code).toBe(2);
    expect(record.stderr).toContain("it does not go with --record");
    const missing = await runCli(["eval", join(dir, "nope.yaml"), "--watch"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("config not found");
  });
});

describe("promptsmith eval --filter-case", () => {
  it("runs only the cases whose ids match, --limit counting what is left", async () => {
    const dir = copyFixture("arithmetic");
    const before = server.completionRequests().length;
    const run = await runCli(["eval", dir, "--filter-case", "d", "--filter-case", "e*", "--json"], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout).summary as { prompt: string; total: number }[];
    expect(summary.map((row) => [row.prompt, row.total])).toEqual([
      ["plain", 2],
      ["few-shot", 2],
    ]);
    const asked = server
      .completionRequests()
      .slice(before)
      .map((r) => /Q: (What is [^?]*\?)"/.exec(JSON.stringify(r.body?.messages))?.[1]);
    expect(new Set(asked)).toEqual(new Set(["What is 7 - 8?", "What is 100 + 1?"]));

    const limited = await runCli(
      ["eval", dir, "--filter-case", "*", "--limit", "2", "-o", join(dir, "r.json")],
      {
        env: { OPENAI_BASE_URL: server.url },
      },
    );
    expect(limited.code).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    expect(record.selection).toEqual({ limit: 2, filterCase: ["*"] });
    expect([...new Set(record.cases.map((c: { id: string }) => c.id))]).toEqual(["a", "b"]);
  });

  it("a pattern that matches no case is refused before any call, with the ids there are", async () => {
    const dir = copyFixture("arithmetic");
    const before = server.completionRequests().length;
    const run = await runCli(["eval", dir, "--filter-case", "zz*"], { env: { OPENAI_BASE_URL: server.url } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--filter-case: no case of");
    expect(run.stderr).toContain('matches "zz*"');
    expect(run.stderr).toContain("the first are a, b, c, d, e");
    expect(server.completionRequests().length).toBe(before);
  });
});
