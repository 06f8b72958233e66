import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { copyFixture, ROOT, runCli } from "../helpers/cli.js";

/** A real GGUF with random weights (1.7 MB): real loading, tokenizing and sampling; gibberish text. */
const TINY = join(ROOT, "../shared/models/llama-2-tiny-random.gguf");
/** One thread: on a 2-core machine more threads only fight each other. */
const ENV = { PROMPTSMITH_THREADS: "1" };

beforeAll(() => {
  if (!existsSync(TINY))
    throw new Error(`the test model is missing: ${TINY} (it ships in shared/models beside the repository)`);
});

/** The arithmetic fixture with its provider replaced. */
function withProvider(provider: string): string {
  const dir = copyFixture("arithmetic");
  const path = join(dir, "promptsmith.yaml");
  const text = readFileSync(path, "utf8").replace(/providers:\n(?: {2}.*\n)+/, provider);
  writeFileSync(path, text);
  return dir;
}

describe("the local provider in eval", () => {
  it("runs a local: GGUF in process, end to end", async () => {
    const dir = withProvider(
      `providers:\n  - id: local:${TINY}\n    params: { temperature: 0, max_tokens: 6, seed: 1 }\n`,
    );
    const run = await runCli(["eval", dir, "--json", "-o", join(dir, "r.json")], {
      env: ENV,
      timeoutMs: 120_000,
    });
    expect(run.stderr).not.toContain("error");
    expect(run.code).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    expect(record.cases).toHaveLength(10);
    expect(
      record.cases.every(
        (c: { error: unknown; tokens: { prompt: number } }) => c.error === null && c.tokens.prompt > 0,
      ),
    ).toBe(true);
  });

  it("with no provider and no OpenAI endpoint, uses the built-in local model and says so in one line", async () => {
    const dir = withProvider("");
    const run = await runCli(["eval", dir, "--json", "--limit", "2"], {
      env: { ...ENV, PROMPTSMITH_LOCAL_MODEL: TINY },
      timeoutMs: 120_000,
    });
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split("\n")).toEqual([
      `no providers in the config and no OPENAI_API_KEY or OPENAI_BASE_URL: using the built-in local model ${TINY}`,
    ]);
    expect(JSON.parse(run.stdout).summary[0]).toMatchObject({
      provider: "local:llama-2-tiny-random",
      total: 2,
      errors: 0,
    });
  });

  it("a missing model file is a clear error", async () => {
    const dir = withProvider("providers: [local:/nowhere/model.gguf]\n");
    const run = await runCli(["eval", dir], { env: ENV });
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toContain("/nowhere/model.gguf");
    expect(run.stderr).toContain("hint:");
  });

  it("loads the model only for a call: a run the cache answers whole never touches it", async () => {
    const dir = withProvider(
      "providers:\n  - id: local:./model.gguf\n    params: { temperature: 0, max_tokens: 4 }\n",
    );
    const model = join(dir, "model.gguf");
    copyFileSync(TINY, model);
    const first = await runCli(["eval", dir, "--json", "--limit", "3"], { env: ENV, timeoutMs: 120_000 });
    expect(first.code).toBe(0);
    // Still looks like a GGUF file from its first bytes, but loading it would fail.
    writeFileSync(model, readFileSync(model).subarray(0, 4096));
    const cached = await runCli(["eval", dir, "--json", "--limit", "3"], { env: ENV, timeoutMs: 120_000 });
    expect(cached.stderr).toBe("");
    expect(cached.code).toBe(0);
    expect(JSON.parse(cached.stdout).summary[0]).toMatchObject({ total: 3, errors: 0, cacheHits: 3 });
    // The first call that needs the model loads it, and a model that cannot load stops the run.
    const uncached = await runCli(["eval", dir, "--limit", "4"], { env: ENV, timeoutMs: 120_000 });
    expect(uncached.code).toBe(2);
    expect(uncached.stderr).toContain(`cannot load the model ${model}`);
  });
});

describe("promptsmith serve", () => {
  it("serves the model to an openai: provider: eval completes with per-case results; SIGTERM stops it cleanly", async () => {
    let url: string | undefined;
    let ready!: () => void;
    const listening = new Promise<void>((resolve) => {
      ready = resolve;
    });
    let evalRun: Awaited<ReturnType<typeof runCli>> | undefined;
    const serve = runCli(["serve", "--model", TINY, "--port", "0"], {
      env: ENV,
      timeoutMs: 120_000,
      onStderr: (chunk) => {
        const match = /serving on (\S+)/.exec(chunk);
        if (match) {
          url = match[1];
          ready();
        }
      },
      onSpawn: (child) => {
        void listening.then(async () => {
          const dir = copyFixture("arithmetic");
          evalRun = await runCli(["eval", dir, "--json", "-o", join(dir, "r.json")], {
            env: { OPENAI_BASE_URL: url },
            timeoutMs: 120_000,
          });
          child.kill("SIGTERM");
        });
      },
    });
    const served = await serve;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(evalRun?.code).toBe(0);
    const summary = JSON.parse(evalRun!.stdout).summary;
    expect(summary.map((s: { total: number; errors: number }) => [s.total, s.errors])).toEqual([
      [5, 0],
      [5, 0],
    ]);
    expect(served.code).toBe(0);
    expect(served.stderr).toContain("loaded llama-2-tiny-random on the CPU, 1 thread\n");
    expect(served.stderr).toContain("shutting down");
  });
});
