import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, copyFixture, runCli } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

let ARITHMETIC: string;

/** The question on the last "Q:" line of the last user message. */
function lastQuestion(body: RequestBody): string {
  const user = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
  const lines = String(user?.content ?? body.prompt ?? "").split("\n");
  return (lines.reverse().find((l) => l.startsWith("Q:")) ?? "").slice(3).trim();
}

/**
 * A scripted model: right on a, b and c for every prompt; on d and e, the plain prompt answers
 * wrong (d) and refuses (e), while the few-shot prompt (which has "A:" lines) gets them right.
 */
function arithmeticModel(body: RequestBody): string {
  const question = lastQuestion(body);
  const fewShot = JSON.stringify(body.messages ?? "").includes("A: 2");
  const answers: Record<string, string> = {
    "What is 2 + 2?": "The answer is 4.",
    "What is 3 * 3?": "**9**",
    "What is 10 / 2?": "\\(\\boxed{5}\\)",
    "What is 7 - 8?": fewShot ? "-1" : "The answer is 1.",
    "What is 100 + 1?": fewShot ? "101" : "I can't help with that.",
  };
  return answers[question] ?? "no idea";
}

/** An onSpawn hook that acts once `target` has received `count` completion requests. */
function afterRequests(target: TestServer, count: number, act: (child: ChildProcess) => void) {
  return (child: ChildProcess) => {
    const poll = setInterval(() => {
      if (target.completionRequests().length < count) return;
      clearInterval(poll);
      act(child);
    }, 5);
    child.on("exit", () => clearInterval(poll));
  };
}

let server: TestServer;
let tmp: string;

beforeAll(async () => {
  server = await startTestServer({ respond: arithmeticModel });
  tmp = mkdtempSync(join(tmpdir(), "promptsmith-e2e-"));
  ARITHMETIC = copyFixture("arithmetic");
});
afterAll(async () => {
  await server.close();
});

describe("promptsmith eval", () => {
  it("runs every prompt × case, prints the report and writes a versioned results file", async () => {
    const out = join(tmp, "results.json");
    const run = await runCli(["eval", ARITHMETIC, "-o", out], { env: { OPENAI_BASE_URL: server.url } });
    expect(run.stderr).not.toContain("error");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/plain\s+test-model|plain\s+openai:test-model/);
    expect(run.stdout).toContain("60.0%");
    expect(run.stdout).toContain("100.0%");
    expect(run.stdout).toContain("case d");

    const record = JSON.parse(readFileSync(out, "utf8"));
    expect(record.version).toBe(1);
    expect(record.status).toBe("complete");
    expect(record.cases).toHaveLength(10);
    const plain = record.summary.find((s: { prompt: string }) => s.prompt === "plain");
    expect(plain).toMatchObject({ total: 5, passed: 3, failed: 1, errors: 0, unparsed: 1, accuracy: 0.6 });
    expect(plain.ci95[0]).toBeCloseTo(0.2307, 3);
    expect(plain.ci95[1]).toBeCloseTo(0.8824, 3);
    const fewShot = record.summary.find((s: { prompt: string }) => s.prompt === "few-shot");
    expect(fewShot).toMatchObject({ total: 5, passed: 5, accuracy: 1 });
    const caseE = record.cases.find(
      (c: { id: string; prompt: string }) => c.id === "e" && c.prompt === "plain",
    );
    expect(caseE).toMatchObject({ unparsed: true, pass: false, extracted: null, expected: 101, error: null });
    expect(caseE.reason.length).toBeGreaterThan(0);
    // Results come in dataset order whatever the timing: case a's two prompts first.
    expect(record.cases.slice(0, 2).map((c: { id: string }) => c.id)).toEqual(["a", "a"]);
    // The few-shot prompt carried its two examples.
    expect(JSON.stringify(record.cases[1].messages)).toContain("What is 2 + 3?");
    expect(JSON.stringify(record.cases[1].messages)).not.toContain("What is 10 - 4?");
    expect(readdirSync(tmp).filter((f) => f.includes(".partial"))).toEqual([]);

    // The record alone re-renders the same report, with no model and no config.
    const report = await runCli(["report", out]);
    expect(report.code).toBe(0);
    const table = (text: string) => text.split("\n").filter((l) => /^(plain|few-shot)\s/.test(l));
    expect(table(report.stdout)).toEqual(table(run.stdout));
    expect(table(report.stdout)).toHaveLength(2);
    const broken = await runCli(["report", join(tmp, "nope.json")]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("no such results file");
  });

  it("--json prints the summary for scripts, and .jsonl writes one case per line", async () => {
    const out = join(tmp, "cases.jsonl");
    const run = await runCli(
      ["eval", "-c", ARITHMETIC, "--json", "-o", out, "--filter-prompt", "plain", "-j", "2"],
      {
        env: { OPENAI_BASE_URL: server.url },
      },
    );
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.summary).toHaveLength(1);
    expect(summary.summary[0]).toMatchObject({ prompt: "plain", passed: 3, total: 5 });
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[4])).toMatchObject({ id: "e", prompt: "plain" });
  });

  it("--limit takes the first cases only", async () => {
    const run = await runCli(["eval", ARITHMETIC, "--json", "--limit", "2"], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).summary.map((s: { total: number }) => s.total)).toEqual([2, 2]);
  });

  it("records a failing call on its case and goes on", async () => {
    const flaky = await startTestServer({
      respond: arithmeticModel,
      faults: (i) => (i === 0 ? { status: 500 } : null),
    });
    try {
      const run = await runCli(["eval", ARITHMETIC, "--json", "-j", "1", "--filter-prompt", "plain"], {
        env: { OPENAI_BASE_URL: flaky.url },
      });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).summary[0]).toMatchObject({ total: 5, errors: 1, passed: 2 });
    } finally {
      await flaky.close();
    }
  });

  it("stops with exit 2 and a hint when the key is rejected", async () => {
    const locked = await startTestServer({ apiKey: "sk-right" });
    try {
      const run = await runCli(["eval", ARITHMETIC], {
        env: { OPENAI_BASE_URL: locked.url, OPENAI_API_KEY: "sk-wrong-secret" },
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: /);
      expect(run.stderr).toContain("hint:");
      expect(run.stderr).toContain("OPENAI_API_KEY");
      expect(run.stderr).not.toContain("sk-wrong-secret");
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await locked.close();
    }
  });

  it("exits 2 when no endpoint answers", async () => {
    const run = await runCli(["eval", ARITHMETIC, "-j", "2"], {
      env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("127.0.0.1:9");
  });

  it("Ctrl-C stops cleanly: exit 130, and what finished is reported and written", async () => {
    const slow = await startTestServer({ respond: arithmeticModel, latencyMs: 300 });
    const out = join(tmp, "interrupted.json");
    try {
      let signalled = false;
      const run = await runCli(["eval", ARITHMETIC, "-j", "1", "-o", out], {
        env: { OPENAI_BASE_URL: slow.url },
        onSpawn: afterRequests(slow, 3, (child) => {
          signalled = child.kill("SIGINT");
        }),
      });
      expect(signalled).toBe(true);
      expect(run.code).toBe(130);
      expect(run.stdout).toContain("interrupted");
      const record = JSON.parse(readFileSync(out, "utf8"));
      expect(record.status).toBe("interrupted");
      expect(record.cases.length).toBeGreaterThanOrEqual(2);
      expect(record.cases.length).toBeLessThan(10);
      // The call cut off by Ctrl-C is not recorded as an error: it simply did not finish.
      expect(record.cases.every((c: { error: unknown }) => c.error === null)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it("stops when the endpoint goes away mid-run, and says how to finish with the failed jobs", async () => {
    const dying = await startTestServer({ respond: arithmeticModel });
    const dir = copyFixture("arithmetic");
    let closed: Promise<void> | undefined;
    const out = join(dir, "first.json");
    const run = await runCli(["eval", dir, "-j", "1", "-o", out], {
      env: { OPENAI_BASE_URL: dying.url },
      onSpawn: afterRequests(dying, 4, () => {
        closed = dying.close();
      }),
    });
    await closed;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /stopped early: openai:test-model stopped answering: the last 3 calls could not reach it/,
    );
    const resume = /finish it later with: promptsmith eval (.+)\n/.exec(run.stderr)?.[1].split(" ") ?? [];
    expect(resume.slice(1)).toEqual(["--resume", expect.any(String), "--retry-errors"]);
    const first = JSON.parse(readFileSync(out, "utf8")) as { status: string; cases: { error: unknown }[] };
    expect(first.status).toBe("stopped");
    const failed = first.cases.filter((c) => c.error !== null).length;
    expect(failed).toBeGreaterThanOrEqual(3);
    expect(run.stderr).toContain(`(--retry-errors also runs again the ${failed} jobs that failed)`);

    // With the endpoint back, the command it printed finishes the run: every job answered.
    const back = await startTestServer({ respond: arithmeticModel });
    try {
      const finished = await runCli(["eval", ...resume, "--json"], { env: { OPENAI_BASE_URL: back.url } });
      expect(finished.code).toBe(0);
      const summary = JSON.parse(finished.stdout).summary as { total: number; errors: number }[];
      expect(summary.map((row) => [row.total, row.errors])).toEqual([
        [5, 0],
        [5, 0],
      ]);
      expect(back.completionRequests().length).toBe(10 - (first.cases.length - failed));
    } finally {
      await back.close();
    }
  });
});

describe("user errors: one located line, a hint, exit 2", () => {
  it("a template with a missing variable names the file, line, variable and case", async () => {
    const run = await runCli(["eval", copyFixture("invalid/template-missing-variable")]);
    expect(run.code).toBe(2);
    const first = run.stderr.split("\n")[0];
    expect(first).toMatch(/typo\.hbs:2(:\d+)?/);
    expect(first).toContain("questoin");
    expect(first).toContain("case 0");
    expect(run.stderr).toContain("hint:");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("a dataset with a broken line names the file and line", async () => {
    const run = await runCli(["eval", copyFixture("invalid/dataset-parse")]);
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toMatch(/cases\.jsonl:3/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("a malformed config names the file, line and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promptsmith-bad-"));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      join(dir, "promptsmith.yaml"),
      "providers: [echo]\nprompts:\n  - id: a\n    text: hi\ntests:\n  path: nowhere.jsonl\n",
    );
    const run = await runCli(["eval", dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/promptsmith\.yaml:6:\d+ tests\.path/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("a bad flag value is a usage error", async () => {
    const run = await runCli(["eval", ARITHMETIC, "-j", "zero"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--concurrency");
  });

  // A path through a file stands for any place the system will not let us write (a read-only checkout on CI).
  it("a results path or a journal folder that cannot be written is a located error before any call, not a bug", async () => {
    const dir = copyFixture("arithmetic");
    writeFileSync(join(dir, "a-file"), "");
    const before = server.completionRequests().length;
    const results = await runCli(["eval", dir, "-o", join(dir, "a-file", "r.json")], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(results.code).toBe(2);
    expect(results.stderr).toContain(
      `${join(dir, "a-file", "r.json")} --output: cannot write results here: a part of the path is a file, not a folder`,
    );
    expect(results.stderr).toContain("hint: choose a path you can write to for -o");

    const config = join(dir, "promptsmith.yaml");
    writeFileSync(config, `${readFileSync(config, "utf8")}\nrunsDir: a-file/runs\n`);
    const journal = await runCli(["eval", dir], { env: { OPENAI_BASE_URL: server.url } });
    expect(journal.code).toBe(2);
    expect(journal.stderr).toContain(`${join(dir, "a-file", "runs")}: cannot keep run journals here`);
    expect(journal.stderr).toContain("set runsDir: in the config");
    expect(`${results.stderr}${journal.stderr}`).not.toMatch(/internal error|\n\s+at /);
    expect(server.completionRequests().length).toBe(before);
  });

  it("a results file in a format we do not write is refused before any call", async () => {
    const dir = copyFixture("arithmetic");
    const before = server.completionRequests().length;
    const run = await runCli(["eval", dir, "-o", join(dir, "report.txt")], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--output: cannot write ".txt"');
    expect(run.stderr).toContain("name the file .json or .jsonl (results)");
    expect(server.completionRequests().length).toBe(before);
    expect(existsSync(join(dir, "report.txt"))).toBe(false);
    const merge = await runCli(["merge", join(dir, "a.json"), "-o", join(dir, "all.txt")]);
    expect(merge.code).toBe(2);
    expect(merge.stderr).toContain('cannot write results as ".txt"');
  });

  it("a missing config says how to make one", async () => {
    const run = await runCli(["eval"], { cwd: mkdtempSync(join(tmpdir(), "promptsmith-empty-")) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("promptsmith init");
  });
});

describe("promptsmith render and run", () => {
  it("render prints the exact messages of a case without calling a model", async () => {
    const run = await runCli(["render", ARITHMETIC, "--case", "b", "--prompt", "few-shot"], {
      env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("[system]");
    expect(run.stdout).toContain("Q: What is 3 * 3?");
    expect(run.stdout).toContain("A: 5");
    const json = await runCli(["render", ARITHMETIC, "--case", "b", "--json"]);
    const rendered = JSON.parse(json.stdout);
    expect(rendered.map((r: { prompt: string }) => r.prompt)).toEqual(["plain", "few-shot"]);
    expect(rendered[0].messages).toEqual([
      { role: "system", content: "Answer with a number." },
      { role: "user", content: "Q: What is 3 * 3?" },
    ]);
  });

  it("render of an unknown case id is a clear error", async () => {
    const run = await runCli(["render", ARITHMETIC, "--case", "zz"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"zz"');
  });

  it("run streams one answer from a provider", async () => {
    const template = join(ARITHMETIC, "templates/plain.hbs");
    const run = await runCli(
      ["run", template, "--var", "question=What is 2 + 2?", "--provider", "openai:test-model"],
      {
        env: { OPENAI_BASE_URL: server.url },
      },
    );
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe("The answer is 4.");
    const request = server.completionRequests().at(-1)!;
    expect(request.body?.stream).toBe(true);
  });

  it("run against an endpoint that never answers is a user error, not a crash", async () => {
    const template = join(ARITHMETIC, "templates/plain.hbs");
    const run = await runCli(["run", template, "--var", "question=hi", "--provider", "openai:m"], {
      env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: provider openai:m: could not reach http:\/\/127\.0\.0\.1:9\/v1/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("run with the echo provider shows the rendered prompt; a missing --var is an error", async () => {
    const template = join(ARITHMETIC, "templates/plain.hbs");
    const ok = await runCli(["run", template, "--var", "question=hi", "--provider", "echo"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("Q: hi");
    const missing = await runCli(["run", template, "--provider", "echo"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("question");
  });
});

describe("promptsmith init", () => {
  it("creates a project that eval runs as it is", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "promptsmith-init-")), "demo");
    const init = await runCli(["init", dir]);
    expect(init.code).toBe(0);
    for (const file of [
      "promptsmith.yaml",
      "sentiment.yaml",
      "templates/chain-of-thought.hbs",
      "fixtures/arithmetic.jsonl",
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const again = await runCli(["init", dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("--force");
    const inside = await runCli(["init", join(dir, "promptsmith.yaml", "demo")]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain(
      "cannot create the project here: a part of the path is a file, not a folder",
    );
    expect(inside.stderr).not.toContain("internal error");

    const local = await startTestServer({ respond: () => "Let me see. The answer is 7." });
    try {
      const run = await runCli(["eval", "--json"], { cwd: dir, env: { OPENAI_BASE_URL: local.url } });
      expect(run.stderr).toBe(`no providers in the config: using openai:gpt-4o-mini at ${local.url}\n`);
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout).summary;
      expect(summary.map((s: { prompt: string }) => s.prompt)).toEqual([
        "zero-shot",
        "few-shot",
        "in-context",
        "chain-of-thought",
      ]);
      // Only the first case's answer is 7.
      expect(summary.every((s: { total: number; passed: number }) => s.total === 10 && s.passed === 1)).toBe(
        true,
      );
      const sentiment = await runCli(["eval", "sentiment.yaml", "--json"], {
        cwd: dir,
        env: { OPENAI_BASE_URL: local.url },
      });
      expect(sentiment.code).toBe(0);
      expect(JSON.parse(sentiment.stdout).summary).toHaveLength(2);
    } finally {
      await local.close();
    }
  });
});

describe("pipes", () => {
  it("output piped into a reader that has gone away (| head) ends quietly, not with an EPIPE stack", async () => {
    const dir = copyFixture("arithmetic");
    const child = spawn(process.execPath, [CLI, "render", dir], { stdio: ["ignore", "pipe", "pipe"] });
    // Closed before the CLI has even loaded: its first write meets a closed pipe.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  });
});

describe("start-up", () => {
  it("--version and --help answer without loading the library", async () => {
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["eval", "render", "run", "init", "serve", "merge", "cache"])
      expect(help.stdout).toContain(command);
  });

  it("--version and --help load no heavy package (SDK, templates, tokenizer, SQLite, llama.cpp)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promptsmith-trace-"));
    // A module-resolution hook that reports every file the CLI loads: packages from node_modules, and
    // the chunks of the bundled CLI (dist/bin), whose packages the bundler's metafile names.
    writeFileSync(
      join(dir, "trace.mjs"),
      `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stderr.write("LOAD " + result.url + "\\n");
  return result;
}
`,
    );
    writeFileSync(
      join(dir, "register.mjs"),
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "trace.mjs")).href)});\n`,
    );
    const root = join(dirname(CLI), "..");
    const meta = JSON.parse(readFileSync(join(root, "dist", "bin", "meta.json"), "utf8")) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>;
    };
    const packageOf = (path: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1];
    for (const flag of ["--version", "--help"]) {
      const run = spawnSync(process.execPath, ["--import", join(dir, "register.mjs"), CLI, flag], {
        encoding: "utf8",
      });
      expect(run.status).toBe(0);
      const loaded = new Set<string>();
      let chunks = 0;
      for (const [, url] of run.stderr.matchAll(/^LOAD (\S+)$/gm)) {
        if (!url.startsWith("file:")) continue;
        const path = fileURLToPath(url);
        const fromNodeModules = packageOf(path);
        if (fromNodeModules) loaded.add(fromNodeModules);
        const output = meta.outputs[relative(root, path).split(sep).join("/")];
        if (output) chunks++;
        for (const input of Object.keys(output?.inputs ?? {})) {
          const bundled = packageOf(input);
          if (bundled) loaded.add(bundled);
        }
      }
      expect(chunks).toBeGreaterThan(0);
      expect(loaded.has("commander")).toBe(true);
      for (const heavy of [
        "openai",
        "handlebars",
        "gpt-tokenizer",
        "better-sqlite3",
        "node-llama-cpp",
        "zod",
        "yaml",
        "chalk",
        "undici",
        "prom-client",
      ]) {
        expect(loaded.has(heavy), heavy).toBe(false);
      }
    }
  });
});
