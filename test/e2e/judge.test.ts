import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, runCli } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

let server: TestServer;

/** Answers echo the prompt; the judge passes q-pass, fails q-fail, scores every star rating 4, and rambles otherwise. */
function respond(body: RequestBody): string {
  const user = (body.messages ?? [])
    .filter((m) => m.role === "user")
    .map((m) => String(m.content))
    .join("\n");
  if (body.model !== "judge-model") return user;
  const graded = /\[Response\]\n<<<RESPONSE \w+>>>\n(\S+)/.exec(user)?.[1] ?? "";
  if (/answer-pass|q-pass|answer-flaky/.test(graded)) return "Fine.\nGRADE: PASS";
  if (/answer-fail|q-fail/.test(graded)) return "Wrong.\nGRADE: FAIL";
  if (/^Rate/.test(user)) return "SCORE: 4";
  return "no idea";
}

beforeAll(async () => {
  server = await startTestServer({ respond });
});
afterAll(async () => {
  await server.close();
});

describe("promptsmith with model judges", () => {
  it("eval shows each judge's column and its unparsed verdicts", async () => {
    const run = await runCli(["eval", copyFixture("judge")], { env: { OPENAI_BASE_URL: server.url } });
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("prompt "))).toMatch(/\s+judge\s+stars$/);
    expect(lines.find((l) => l.startsWith("plain "))).toMatch(/0\.14 14%\s+0\.75 100%$/);
    expect(run.stdout).toContain("judge, stars: each scorer's mean score and pass rate");
    // The judges' tokens are reported apart from the answers', and their spend is in the cost.
    expect(lines[0]).toMatch(/ · judges [\d.]+k?\/[\d.]+k? tokens · ≈\$0\.\d{4} · /);
  });

  it("eval --dry-run prices the judge's calls", async () => {
    const run = await runCli(["eval", copyFixture("judge"), "--dry-run"], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/plain · judge\s+grader\s+7\s+0/);
    expect(run.stdout).toContain("judge calls counted as uncached");
  });

  it("judge calibrate prints agreement, kappa and self-consistency", async () => {
    const run = await runCli(["judge", "calibrate", copyFixture("calibrate")], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("judge judge (grader) against human · 12 rows · seeds 1, 2");
    expect(run.stdout).toMatch(/^agreement {2}\d+\.\d% \(95% CI/m);
    expect(run.stdout).toMatch(/^kappa {6}/m);
    const json = await runCli(["judge", "calibrate", copyFixture("calibrate"), "--json", "--seeds", "1"], {
      env: { OPENAI_BASE_URL: server.url },
    });
    const parsed = JSON.parse(json.stdout);
    expect(parsed.seeds).toEqual([1]);
    expect(parsed.selfConsistency).toBeUndefined();
    expect(parsed.confusion.judgePass.humanPass).toBe(4);
  });

  it("judge calibrate on a config without a judge is a usage error", async () => {
    const run = await runCli(["judge", "calibrate", copyFixture("arithmetic")], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the config has no judge to calibrate/);
  });
});
