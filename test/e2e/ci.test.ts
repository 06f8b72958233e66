import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import MarkdownIt from "markdown-it";
import { afterEach, describe, expect, it } from "vitest";
import { ciFaults, ciModel } from "../helpers/ci-model.js";
import { copyFixture, runCli } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/openai-test-server.js";

/** A recognisable key: the server demands it, and no file or output may ever show it. */
const KEY = "sk-promptsmith-e2e-LEAK-CANARY-93c1e0";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const PLAIN = "{{#system}}Answer with a number.{{/system}}\n{{#user}}Q: {{question}}{{/user}}\n";

describe("promptsmith snapshot", () => {
  it("writes the snapshot, checks it clean, fails a one-character change with its diff, and --update accepts it", async () => {
    const dir = copyFixture("ci");
    const env = { OPENAI_API_KEY: KEY };
    const write = await runCli(["snapshot", dir], { env });
    expect(write.code).toBe(0);
    expect(write.stderr).toContain(`snapshot written to ${join(dir, "promptsmith.snap.jsonl")}: 15 requests`);
    expect((await runCli(["snapshot", dir, "--check"], { env })).code).toBe(0);

    writeFileSync(join(dir, "templates", "plain.hbs"), PLAIN.replace("Q: ", "Q:\u00a0"));
    const check = await runCli(["snapshot", dir, "--check"], { env });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(
      'changed: case "a" · prompt "extracted" · provider "openai:test-model"\n--- snapshot\n+++ now\n',
    );
    expect(check.stdout).toContain("-Q: What is 2 + 2?\n+Q:\u00a0What is 2 + 2?\n");
    expect(check.stderr).toContain("15 changed, 0 added, 0 removed of 15 requests");
    expect(check.stderr).toContain("hint: if the change is meant, run promptsmith snapshot --update");

    const update = await runCli(["snapshot", dir, "--update"], { env });
    expect(update.stderr).toContain("since the last one: 15 changed, 0 added, 0 removed");
    expect((await runCli(["snapshot", dir, "--check"], { env })).code).toBe(0);
    expect(readFileSync(join(dir, "promptsmith.snap.jsonl"), "utf8")).not.toContain(KEY);

    // The extraction template is sent from each answer: a change to it is a difference too.
    const config = join(dir, "promptsmith.yaml");
    const yaml = readFileSync(config, "utf8");
    writeFileSync(config, yaml.replace("Therefore, the final answer", "So the final answer"));
    const setting = await runCli(["snapshot", dir, "--check"], { env });
    expect(setting.code).toBe(1);
    expect(setting.stdout).toContain('changed: extract · prompt "extracted"\n--- snapshot\n+++ now\n');
    expect(setting.stdout).toContain(
      "-Therefore, the final answer (a number) is\n+So the final answer (a number) is\n",
    );
    expect(setting.stderr).toContain(
      "0 changed, 0 added, 0 removed of 15 requests; 1 setting (extraction template, judge) differs",
    );
    writeFileSync(config, yaml);

    // A snapshot broken by a merge is repaired by writing it again, with a warning saying why.
    const snap = join(dir, "promptsmith.snap.jsonl");
    const good = readFileSync(snap, "utf8");
    writeFileSync(snap, `<<<<<<< HEAD\n${good}`);
    const repair = await runCli(["snapshot", dir], { env });
    expect(repair.code).toBe(0);
    expect(repair.stderr).toContain(
      `warning: the old snapshot could not be read (${snap}:1: this is not a promptsmith snapshot`,
    );
    expect(repair.stderr).not.toContain("since the last one");
    expect(readFileSync(snap, "utf8")).toBe(good);

    const both = await runCli(["snapshot", dir, "--check", "--update"], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--check: --check and --update ask for opposite things");
  });
});

describe("eval in CI: record, replay, JUnit, Markdown, GitHub Actions", () => {
  it("records against a server, replays with none, and writes reports and GitHub outputs that never hold the key", async () => {
    server = await startTestServer({ respond: ciModel, faults: ciFaults, apiKey: KEY });
    const dir = copyFixture("ci");
    const at = (name: string) => join(dir, name);
    const stepSummary = at("step-summary.md");
    writeFileSync(stepSummary, "# earlier step\n");
    const github = { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: stepSummary };
    const recordRun = await runCli(
      [
        "eval",
        dir,
        "--no-cache",
        "--record",
        at("cassette.jsonl"),
        "-o",
        at("recorded.json"),
        "-o",
        at("results.xml"),
        "-o",
        at("summary.md"),
      ],
      { env: { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: KEY, ...github } },
    );
    expect(recordRun.code, recordRun.stderr).toBe(0);
    expect(recordRun.stderr).toContain(`cassette written to ${at("cassette.jsonl")}`);
    await server.close();
    server = undefined;

    // Annotations: plain and extracted have 1 unparsed answer of 5 (20%, above 5%).
    const annotations = recordRun.stdout.split("\n").filter((line) => line.startsWith("::"));
    expect(annotations).toEqual([
      "::warning title=promptsmith%3A unparsed answers::plain · openai:test-model: 1 of 5 answers (20.0%25) could not be read, above 5.0%25",
      "::warning title=promptsmith%3A unparsed answers::extracted · openai:test-model: 1 of 5 answers (20.0%25) could not be read, above 5.0%25",
    ]);
    const recorded = JSON.parse(readFileSync(at("recorded.json"), "utf8"));

    // The step summary was appended to, and it is the Markdown report: tables GitHub can read.
    const appended = readFileSync(stepSummary, "utf8");
    expect(appended.startsWith("# earlier step\n## promptsmith · ci\n")).toBe(true);
    const tokens = new MarkdownIt().parse(appended, {});
    const rows = tokens.filter((t) => t.type === "tr_open").length;
    expect(rows).toBe(1 + recorded.summary.length);
    expect(readFileSync(at("summary.md"), "utf8")).toBe(appended.slice("# earlier step\n".length, -1));

    // JUnit: well-formed, with the summary's counts.
    const xml = readFileSync(at("results.xml"), "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    const root = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml).testsuites;
    const sum = (field: string) =>
      recorded.summary.reduce((n: number, row: Record<string, number>) => n + row[field], 0);
    expect(Number(root.tests)).toBe(sum("total"));
    expect(Number(root.failures)).toBe(sum("failed") + sum("unparsed"));
    expect(Number(root.errors)).toBe(sum("errors"));

    // Replayed with no server (the port is closed): the same results.
    // Outside GitHub Actions (GITHUB_ACTIONS unset) a step summary path is left alone.
    const replay = await runCli(["eval", dir, "--replay", at("cassette.jsonl"), "-o", at("replayed.json")], {
      env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1", GITHUB_STEP_SUMMARY: at("not-github.md") },
    });
    expect(replay.code, replay.stderr).toBe(0);
    const replayed = JSON.parse(readFileSync(at("replayed.json"), "utf8"));
    expect(replayed.summary).toEqual(recorded.summary);
    expect(replayed.cases).toEqual(recorded.cases);
    expect(replay.stdout).not.toMatch(/^::/m);
    expect(existsSync(at("not-github.md"))).toBe(false);

    // `report` writes unparsed answers as skipped when asked.
    const report = await runCli([
      "report",
      at("recorded.json"),
      "-o",
      at("skipped.xml"),
      "--junit-unparsed",
      "skipped",
    ]);
    expect(report.code).toBe(0);
    const skipped = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      readFileSync(at("skipped.xml"), "utf8"),
    ).testsuites;
    expect(Number(skipped.skipped)).toBe(sum("unparsed"));

    // The key is in no file this run wrote, and in no output.
    const snapshot = await runCli(["snapshot", dir], { env: { OPENAI_API_KEY: KEY } });
    expect(snapshot.code).toBe(0);
    for (const name of readdirSync(dir).filter((n) => /\.(jsonl?|xml|md)$/.test(n))) {
      expect(readFileSync(at(name), "utf8"), name).not.toContain(KEY);
    }
    for (const output of [recordRun, replay, report, snapshot])
      expect(output.stdout + output.stderr).not.toContain(KEY);
  });

  it("stops a replay at a request the cassette lacks (exit 2, located), or leaves it out with --replay-missing skip", async () => {
    server = await startTestServer({ respond: ciModel, apiKey: KEY });
    const dir = copyFixture("ci");
    const cassette = join(dir, "cassette.jsonl");
    const recordRun = await runCli(["eval", dir, "--record", cassette, "--filter-prompt", "plain"], {
      env: { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: KEY },
    });
    expect(recordRun.code, recordRun.stderr).toBe(0);
    await server.close();
    server = undefined;

    writeFileSync(
      join(dir, "templates", "plain.hbs"),
      PLAIN.replace("Answer with a number.", "Answer with one number."),
    );
    const miss = await runCli(["eval", dir, "--replay", cassette, "--filter-prompt", "plain", "-j", "1"]);
    expect(miss.code).toBe(2);
    expect(miss.stderr).toContain(
      `error: ${cassette} case "a" · prompt "plain" · provider "openai:test-model": no recorded answer for this request in the cassette; the nearest recorded request (case "a" · prompt "plain") differs in messages[0].content: "Answer with a number." → "Answer with one number."`,
    );
    expect(miss.stderr).toContain("hint: record the cassette again");

    writeFileSync(join(dir, "templates", "plain.hbs"), PLAIN);
    const tests = join(dir, "data", "test.jsonl");
    writeFileSync(
      tests,
      `${readFileSync(tests, "utf8")}{"id": "f", "question": "What is 6 * 7?", "answer": 42}\n`,
    );
    const skip = await runCli([
      "eval",
      dir,
      "--replay",
      cassette,
      "--filter-prompt",
      "plain",
      "--replay-missing",
      "skip",
      "--json",
    ]);
    expect(skip.code, skip.stderr).toBe(0);
    expect(JSON.parse(skip.stdout).summary[0].total).toBe(5);
    expect(skip.stderr).toContain(
      '1 job was left out: the cassette lacks their requests (--replay-missing skip); the first, case "f"',
    );

    const bad = await runCli(["eval", dir, "--replay", cassette, "--replay-missing", "maybe"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--replay-missing: expected "error" or "skip", received "maybe"');
    expect(existsSync(join(dir, "promptsmith.snap.jsonl"))).toBe(false);
  });
});
