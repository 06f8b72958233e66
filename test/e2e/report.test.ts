import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, runCli } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/openai-test-server.js";
import { syntheticRecord, type Verdict } from "../helpers/report-records.js";

let server: TestServer;
let dir: string;
beforeAll(async () => {
  // Right on every case but the last two.
  server = await startTestServer({
    respond: (body) => (JSON.stringify(body.messages).includes("100 + 1") ? "no idea" : "4"),
  });
  dir = mkdtempSync(join(tmpdir(), "promptsmith-report-"));
});
afterAll(async () => {
  await server.close();
});

/** The JSON data block of an HTML report. */
function dataOf(html: string) {
  const block = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
  return JSON.parse(block ?? "null");
}

const variants = [
  { prompt: "plain", provider: "m" },
  { prompt: "cot", provider: "m" },
];

function writeRuns(): { base: string; head: string } {
  const before = (i: number): Verdict => (i < 4 ? "pass" : "fail");
  const after = (i: number, v: number): Verdict =>
    i === 1 && v === 1 ? "fail" : i === 5 ? "pass" : before(i);
  const base = join(dir, "base.json");
  const head = join(dir, "head.json");
  writeFileSync(base, JSON.stringify(syntheticRecord({ cases: 6, variants, verdict: before })));
  writeFileSync(head, JSON.stringify(syntheticRecord({ cases: 6, variants, verdict: after })));
  return { base, head };
}

describe("HTML reports from the CLI", () => {
  it("eval -o report.html writes one self-contained file holding every case", async () => {
    const project = copyFixture("arithmetic");
    const html = join(project, "report.html");
    const run = await runCli(["eval", project, "-o", html], { env: { OPENAI_BASE_URL: server.url } });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`report written to ${html}`);
    const text = readFileSync(html, "utf8");
    expect(text).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/,
    );
    expect(text).not.toMatch(/<(link|script)[^>]+(src|href)="(https?:)?\/\//);
    const data = dataOf(text);
    expect(data.kind).toBe("run");
    expect(data.runs[0].record.summary.map((r: { prompt: string }) => r.prompt)).toEqual([
      "plain",
      "few-shot",
    ]);
    expect(data.runs[0].record.cases).toHaveLength(10);
  });

  it("report base.json head.json -o diff.html holds both runs, labelled by file name", async () => {
    const { base, head } = writeRuns();
    const out = join(dir, "diff.html");
    const run = await runCli(["report", base, head, "-o", out]);
    expect(run.code).toBe(0);
    const data = dataOf(readFileSync(out, "utf8"));
    expect(data.kind).toBe("diff");
    expect(data.runs.map((r: { label: string }) => r.label)).toEqual(["base.json", "head.json"]);
  });
});

describe("promptsmith report base.json head.json", () => {
  it("refuses to print two runs (compare does), a results file out, a third file, and a missing one", async () => {
    const { base, head } = writeRuns();
    const plain = await runCli(["report", base, head]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(
      "two results files are shown side by side in an HTML report: name one with -o",
    );
    expect(plain.stderr).toContain(
      `hint: report ${base} ${head} -o diff.html; in the terminal: promptsmith compare ${base} ${head}`,
    );
    const json = await runCli(["report", base, head, "-o", join(dir, "both.json")]);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain("--output: two runs side by side are an HTML report; cannot write them to");
    expect(existsSync(join(dir, "both.json"))).toBe(false);
    const three = await runCli(["report", base, head, base]);
    expect(three.code).toBe(2);
    expect(three.stderr).toContain("report takes one results file, or two to compare; received 3");
    const missing = await runCli(["report", base, join(dir, "nope.json"), "-o", join(dir, "x.html")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such results file");
  });
});
