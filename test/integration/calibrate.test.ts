import { afterEach, describe, expect, it } from "vitest";
import { calibrateJudge, loadConfig, renderCalibration } from "../../src/index.js";
import { readHumanLabel } from "../../src/runner/calibrate.js";
import { copyFixture } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The judge's verdict follows the graded output's text; "flaky" outputs pass only with seed 1. */
function judge(body: RequestBody): string {
  const user = (body.messages ?? []).map((m) => String(m.content)).join("\n");
  const output = /\[Response\]\n<<<RESPONSE \w+>>>\n(\S+)/.exec(user)?.[1] ?? "";
  if (output.startsWith("answer-pass")) return "Right.\nGRADE: PASS";
  if (output.startsWith("answer-fail")) return "Wrong.\nGRADE: FAIL";
  if (output.startsWith("answer-flaky")) return body.seed === 1 ? "GRADE: PASS" : "GRADE: FAIL";
  return "hmm";
}

describe("judge calibrate", () => {
  it("measures agreement with the people, kappa, the confusion table and self-consistency", async () => {
    server = await startTestServer({ respond: judge });
    const env = { OPENAI_BASE_URL: server.url };
    const suite = await loadConfig(copyFixture("calibrate"), { env });
    const result = await calibrateJudge({ suite, env });
    expect(result).toMatchObject({ judge: "judge", provider: "grader", humanLabel: "human", seeds: [1, 2] });
    expect(result).toMatchObject({ rows: 12, labelled: 11, unparsed: 1, n: 10, accuracy: 0.7 });
    expect(result.confusion).toEqual({
      judgePass: { humanPass: 4, humanFail: 1 },
      judgeFail: { humanPass: 2, humanFail: 3 },
      judgeUnparsed: { humanPass: 1, humanFail: 0 },
    });
    // By hand: po = 7/10; margins judge 5/5, people 6/4, so pe = .5·.6 + .5·.4 = .5 and κ = .2/.5 = .4.
    // Fleiss-Cohen-Everitt: A = .4(1 − 1.1·.6)² + .3(1 − .9·.6)² = .10972,
    // B = .6²(.1·1.1² + .2·.9²) = .10188, C = (.4 − .5·.6)² = .01; var = .2016 / (10·.25) = .08064.
    expect(result.kappa?.kappa).toBeCloseTo(0.4, 12);
    expect(result.kappa?.se).toBeCloseTo(Math.sqrt(0.08064), 12);
    expect(result.kappa?.ci95[0]).toBeCloseTo(0.4 - 1.959963984540054 * Math.sqrt(0.08064), 12);
    // r0 is graded PASS with seed 1 and FAIL with seed 2; the unreadable row is left out.
    expect(result.selfConsistency).toEqual({ n: 11, flipped: 1, flipRate: 1 / 11, flippedIds: ["r0"] });
    expect(result.disagreements.map((d) => d.id)).toEqual(["r4", "r5", "r6"]);
    expect(result.unlabelledIds).toEqual(["nolabel"]);
    // The judge is asked once per row and seed, at temperature 0, the rendered prompt shown.
    const asked = server.completionRequests();
    expect(asked).toHaveLength(24);
    expect(asked.map((r) => r.body?.seed).sort()).toEqual([...Array(12).fill(1), ...Array(12).fill(2)]);
    expect(String(asked[0].body?.messages?.[1].content)).toContain("[Prompt]\nQuestion: q");

    const text = renderCalibration(result);
    expect(text).toContain("agreement  70.0% (95% CI 39.7%–89.2%) on 10 rows");
    expect(text).toMatch(/kappa {6}0\.400 \(95% CI -0\.157–0\.957; SE 0\.284, Fleiss-Cohen-Everitt\)/);
    expect(text).toContain(
      "self-consistency: 1 of 11 rows (9.1%) got different verdicts across the seeds: r0",
    );

    // Cached: calibrating again asks nothing.
    await calibrateJudge({
      suite: await loadConfig(copyFixture("calibrate"), { env }),
      env,
      cache: "off",
      limit: 1,
      seeds: 1,
    });
    const again = await calibrateJudge({ suite, env });
    expect(server.completionRequests()).toHaveLength(24 + 1);
    expect(again.kappa?.kappa).toBeCloseTo(0.4, 12);
  });

  it("needs a judge with humanLabel, and rows with an output", async () => {
    const suite = await loadConfig(copyFixture("calibrate"), { env: {} });
    const { humanLabel: _drop, ...unlabelled } = suite.scorers[0];
    await expect(
      calibrateJudge({ suite: { ...suite, scorers: [unlabelled as (typeof suite.scorers)[0]] }, env: {} }),
    ).rejects.toMatchObject({
      code: "usage",
      message: expect.stringContaining("has no humanLabel"),
    });
    await expect(
      calibrateJudge({ suite: { ...suite, scorers: [{ type: "exact" }] }, env: {} }),
    ).rejects.toMatchObject({
      message: "the config has no judge to calibrate",
    });
    await expect(calibrateJudge({ suite, env: {}, scorer: "nope" })).rejects.toMatchObject({
      field: "--scorer",
    });
  });

  it("refuses a negated judge, and knows judges by their summary column's name", async () => {
    const suite = await loadConfig(copyFixture("calibrate"), { env: {} });
    const [judge] = suite.scorers;
    for (const negated of [
      { ...judge, not: true },
      { ...judge, type: "not-judge" },
    ]) {
      await expect(
        calibrateJudge({ suite: { ...suite, scorers: [negated] }, env: {} }),
      ).rejects.toMatchObject({
        code: "usage",
        message: expect.stringContaining("is negated"),
      });
    }
    // Two judges: --scorer takes the names the summary's columns have ("not-judge", "llm-rubric").
    const both = {
      ...suite,
      scorers: [
        { ...judge, not: true },
        { ...judge, type: "llm-rubric" },
      ],
    };
    await expect(calibrateJudge({ suite: both, env: {}, scorer: "not-judge" })).rejects.toMatchObject({
      message: expect.stringContaining('judge "not-judge" is negated (not: true)'),
    });
    await expect(calibrateJudge({ suite: both, env: {}, scorer: "judge" })).rejects.toMatchObject({
      message: 'no judge is named "judge"',
      hint: "the judges are: not-judge, llm-rubric",
    });
  });

  it("reads people's labels in the usual spellings, and scores on the judge's scale", () => {
    const passFail = { threshold: 0 };
    expect(["PASS", "yes", "true", "1", "correct"].map((v) => readHumanLabel(v, passFail))).toEqual(
      Array(5).fill("pass"),
    );
    expect([false, 0, "No", "incorrect"].map((v) => readHumanLabel(v, passFail))).toEqual(
      Array(4).fill("fail"),
    );
    expect([2, "maybe", null, ""].map((v) => readHumanLabel(v, passFail))).toEqual(Array(4).fill(null));
    const stars = { max: 5, threshold: 4 };
    expect([5, 4, "3", 1, 6].map((v) => readHumanLabel(v, stars))).toEqual([
      "pass",
      "pass",
      "fail",
      "fail",
      null,
    ]);
  });
});
