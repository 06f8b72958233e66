import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompareRecord, RunRecord } from "../../src/record/types.js";
import { copyFixture, runCli } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

/**
 * Which cases (0–39) each prompt answers right; the test sets it before each run. The fixture's
 * prompts start "BASE Q:" and "NEW Q:", and case i asks "What is i + 0?".
 */
let right: { base: (i: number) => boolean; new: (i: number) => boolean };
/** A case that answers right only on some of its repeated runs: seen counts per prompt and case. */
let flaky: ((i: number, seen: number) => boolean) | undefined;
const seen = new Map<string, number>();

function model(body: RequestBody): string {
  const text = String(body.messages?.at(-1)?.content ?? "");
  const i = Number(/What is (\d+) \+ 0\?/.exec(text)?.[1]);
  const prompt = text.startsWith("NEW") ? "new" : "base";
  const key = `${prompt}:${i}`;
  const count = seen.get(key) ?? 0;
  seen.set(key, count + 1);
  const ok = flaky && prompt === "new" ? flaky(i, count) : right[prompt](i);
  return ok ? `The answer is ${i}.` : `The answer is ${i + 1}.`;
}

let server: TestServer;
const env = () => ({ OPENAI_BASE_URL: server.url });

beforeAll(async () => {
  server = await startTestServer({ respond: model });
});
afterAll(async () => {
  await server.close();
});

/** A fresh copy of the fixture, optionally with extra config lines. */
function project(extra = ""): string {
  const dir = copyFixture("gates");
  if (extra)
    writeFileSync(
      join(dir, "promptsmith.yaml"),
      `${readFileSync(join(dir, "promptsmith.yaml"), "utf8")}${extra}\n`,
    );
  return dir;
}

describe("eval with a baseline", () => {
  it("shows the comparison table and stores comparisons; a real regression fails --fail-on-regression (exit 1)", async () => {
    // The baseline is right on 30 of 40, the new prompt on 18 of those 30 and nothing else: 12 losses, 0 wins.
    right = { base: (i) => i < 30, new: (i) => i < 18 };
    flaky = undefined;
    const dir = project();
    const out = join(dir, "results.json");
    const plain = await runCli(["eval", dir, "-o", out, "--no-cache"], { env: env() });
    expect(plain.stderr).not.toMatch(/error/);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain("Compared with the baseline base · openai:test-model");
    expect(plain.stdout).toMatch(/new\s+−30\.0\s+−4\d\.\d to −1\d\.\d\s+0\.000\d\s+0\.000\d\s+0\/12\s+worse/);
    const record = JSON.parse(readFileSync(out, "utf8")) as RunRecord;
    expect(record.comparisons).toHaveLength(1);
    expect(record.comparisons![0]).toMatchObject({
      prompt: "new",
      n: 40,
      wins: 0,
      losses: 12,
      verdict: "worse",
    });
    expect(record.summary[0].compliance).toBe(1);

    const gated = await runCli(["eval", dir, "--fail-on-regression"], { env: env() });
    expect(gated.code).toBe(1);
    expect(gated.stdout).toContain("Gates failed (1 of 1)");
    expect(gated.stdout).toMatch(
      /regression: new · openai:test-model: accuracy is significantly worse than the baseline \(75\.0% → 45\.0%/,
    );
  });

  it("passes --fail-on-regression on a gain, and on noise of the same size on few cases", async () => {
    right = { base: (i) => i < 20, new: (i) => i < 32 };
    const gain = await runCli(["eval", project(), "--fail-on-regression"], { env: env() });
    expect(gain.code).toBe(0);
    expect(gain.stdout).toMatch(/new\s+\+30\.0.*better/);

    // 1 loss and no win on 8 cases: a drop of 12.5 points, not significant.
    right = { base: (i) => i < 5, new: (i) => i < 4 };
    const noise = await runCli(["eval", project(), "--limit", "8", "--fail-on-regression"], { env: env() });
    expect(noise.code).toBe(0);
    expect(noise.stdout).toContain("no detectable difference");
    // …but --max-drop 10 catches it whatever the p-value.
    const drop = await runCli(
      ["eval", project(), "--limit", "8", "--fail-on-regression", "--max-drop", "10"],
      {
        env: env(),
      },
    );
    expect(drop.code).toBe(1);
    expect(drop.stdout).toContain("max-drop: new · openai:test-model: accuracy fell 12.5 points");
  });

  it("fails a threshold with the rule, the variant and the numbers", async () => {
    right = { base: (i) => i < 36, new: (i) => i < 30 };
    const dir = project("thresholds: { accuracy: 0.8, unparsed: 0 }");
    const run = await runCli(["eval", dir, "--json"], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "gate failed: accuracy: new · openai:test-model: accuracy 75.0% is below the threshold 80.0%",
    );
    const summary = JSON.parse(run.stdout) as RunRecord;
    expect(summary.gates!.filter((g) => !g.passed).map((g) => `${g.rule} ${g.prompt}`)).toEqual([
      "accuracy new",
    ]);
  });

  it("refuses --fail-on-regression with nothing to compare against", async () => {
    right = { base: () => true, new: () => true };
    const dir = project();
    writeFileSync(
      join(dir, "promptsmith.yaml"),
      readFileSync(join(dir, "promptsmith.yaml"), "utf8").replace("baseline: base\n", ""),
    );
    const run = await runCli(["eval", dir, "--fail-on-regression"], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--fail-on-regression: there is nothing to regress against");
  });
});

describe("compare", () => {
  it("lists flips pass→fail first, counts one-sided cases, and gates on a regression", async () => {
    const dir = project();
    right = { base: (i) => i < 30, new: (i) => i < 30 };
    await runCli(["eval", dir, "-o", join(dir, "base.json"), "--limit", "38"], { env: env() });
    // Head: case 3, 4 and 5 fail now (pass→fail), 31 passes now (fail→pass).
    right = { base: (i) => i < 30, new: (i) => (i < 30 && ![3, 4, 5].includes(i)) || i === 31 };
    await runCli(["eval", dir, "-o", join(dir, "head.json"), "--no-cache"], { env: env() });

    const text = await runCli(["compare", join(dir, "base.json"), join(dir, "head.json")]);
    expect(text.code).toBe(0);
    const failAt = text.stdout.indexOf("Passed before, fail now (3)");
    const passAt = text.stdout.indexOf("Failed before, pass now (1)");
    expect(failAt).toBeGreaterThan(0);
    expect(passAt).toBeGreaterThan(failAt);
    expect(text.stdout).toContain("new · openai:test-model · case q03");
    expect(text.stdout).toContain("2 cases are in the head run only, not paired: q38, q39");

    const json = await runCli(["compare", join(dir, "base.json"), join(dir, "head.json"), "--json"]);
    const record = JSON.parse(json.stdout) as CompareRecord;
    expect(record.flips.toFail.map((f) => f.id)).toEqual(["q03", "q04", "q05"]);
    expect(record.flips.toFail[0]).toMatchObject({
      expected: 3,
      base: { extracted: "3" },
      head: { extracted: "4" },
    });
    expect(record.flips.toPass.map((f) => f.id)).toEqual(["q31"]);
    const newRow = record.comparisons.find((c) => c.prompt === "new")!;
    expect(newRow).toMatchObject({ n: 38, wins: 1, losses: 3, excluded: 2 });

    const markdown = await runCli([
      "compare",
      join(dir, "base.json"),
      join(dir, "head.json"),
      "--format",
      "markdown",
    ]);
    expect(markdown.stdout).toContain(
      "| variant | base | head | Δ | 95% CI | p | p (Holm) | wins / losses | verdict |",
    );
    expect(markdown.stdout).toContain("<details><summary>Passed before, fail now (3)</summary>");

    const gated = await runCli([
      "compare",
      join(dir, "base.json"),
      join(dir, "head.json"),
      "--fail-on-regression",
      "--max-drop",
      "2",
    ]);
    expect(gated.code).toBe(1);
    expect(gated.stdout).toContain(
      "max-drop: new · openai:test-model: accuracy fell 5.3 points against base.json",
    );
    expect(gated.stdout).not.toContain("regression: new");
    expect(`${gated.stdout}${gated.stderr}`).not.toContain("::error");

    // Under GitHub Actions the failed gate is an annotation too, beside the Markdown on stdout.
    const inActions = await runCli(
      [
        "compare",
        join(dir, "base.json"),
        join(dir, "head.json"),
        "--fail-on-regression",
        "--max-drop",
        "2",
        "--format",
        "markdown",
      ],
      { env: { GITHUB_ACTIONS: "true" } },
    );
    expect(inActions.code).toBe(1);
    expect(inActions.stderr).toContain(
      "::error title=promptsmith gate failed%3A max-drop::new · openai:test-model: accuracy fell 5.3 points",
    );
    expect(inActions.stdout).not.toContain("::error");

    // A hand-made file whose cases are not grouped by case is a located user error, not a crash.
    const shuffled = JSON.parse(readFileSync(join(dir, "head.json"), "utf8")) as RunRecord;
    shuffled.cases.push(shuffled.cases.shift()!);
    writeFileSync(join(dir, "shuffled.json"), JSON.stringify(shuffled));
    const bad = await runCli(["compare", join(dir, "base.json"), join(dir, "shuffled.json")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('shuffled.json: case "q00" appears again after other cases');
  });
});

describe("repeat", () => {
  it("runs each case k times and reports pass@k, pass^k and the flaky cases", async () => {
    right = { base: (i) => i < 40, new: (i) => i < 40 };
    seen.clear();
    // The new prompt is right on the first run only for cases 0–9, on every run for 10–39.
    flaky = (i, count) => i >= 10 || count === 0;
    const dir = project();
    const out = join(dir, "results.json");
    const run = await runCli(["eval", dir, "--repeat", "3", "-o", out], { env: env() });
    expect(run.code).toBe(0);
    const record = JSON.parse(readFileSync(out, "utf8")) as RunRecord;
    const row = record.summary.find((r) => r.prompt === "new")!;
    expect(row).toMatchObject({ total: 40, passed: 30 });
    expect(row.repeat).toMatchObject({ k: 3, require: "majority", passAtK: 1, passHatK: 0.75, flaky: 10 });
    expect(run.stdout).toMatch(/pass@k\s+pass\^k\s+flaky/);
    expect(record.cases.filter((c) => c.prompt === "new" && c.id === "q00").map((c) => c.repeat)).toEqual([
      0, 1, 2,
    ]);
    // Each run has its own cache key: a second eval asks nothing.
    const before = server.completionRequests().length;
    await runCli(["eval", dir, "--repeat", "3"], { env: env() });
    expect(server.completionRequests().length).toBe(before);
    flaky = undefined;
  });
});

describe("plan", () => {
  it("gives the smallest detectable gain and the cases a named one needs, from a results file", async () => {
    right = { base: (i) => i < 30, new: (i) => i < 26 };
    const dir = project();
    await runCli(["eval", dir, "-o", join(dir, "results.json")], { env: env() });
    const run = await runCli(["plan", dir, "--from", join(dir, "results.json"), "--delta", "0.05", "--json"]);
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(plan).toMatchObject({ cases: 40, baseline: { accuracy: 0.75 }, discordance: { value: 0.1 } });
    // Connor with ψ = 0.1, δ = 0.05: (1.95996·√0.1 + 0.84162·√0.0975)² / 0.0025 = 311.6 → 312.
    expect(plan.needed.paired).toBe(312);
    const text = await runCli(["plan", dir]);
    expect(text.stdout).toContain("smallest gain 40 cases can show");
    expect(text.stdout).toContain("assumed: the baseline's accuracy is taken as 50%");
  });
});
