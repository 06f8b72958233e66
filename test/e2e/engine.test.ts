import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CaseResult, RunRecord } from "../../src/record/types.js";
import { startBatchTestServer } from "../helpers/batch-test-server.js";
import { copyFixture, priced, runCli } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

/** Answers every arithmetic question right. */
function right(body: RequestBody): string {
  const text = JSON.stringify(body.messages);
  const answers: [string, string][] = [
    ["2 + 2", "4"],
    ["3 * 3", "9"],
    ["10 / 2", "5"],
    ["7 - 8", "-1"],
    ["100 + 1", "101"],
  ];
  const q = String(body.messages?.at(-1)?.content ?? "");
  return (
    answers.find(([question]) => q.includes(`What is ${question}?`))?.[1] ?? (text.length > 0 ? "0" : "")
  );
}

/** A case without what legitimately differs between two runs of the same jobs. */
function comparable(c: CaseResult) {
  const { latencyMs: _l, cached: _c, ...rest } = c;
  return rest;
}
function comparableSummary(record: RunRecord) {
  return record.summary.map(({ latencyMs: _l, cacheHits: _h, ...rest }) => rest);
}
/** Lines in the run journals beside a config (a header and one per finished job). */
/** Result lines in the run journals under `dir`. */
function journalResults(dir: string): number {
  const runs = join(dir, ".promptsmith", "runs");
  if (!existsSync(runs)) return 0;
  return readdirSync(runs)
    .filter((f) => f.endsWith(".jsonl"))
    .reduce(
      (n, f) => n + (readFileSync(join(runs, f), "utf8").match(/^\{"type":"result"/gm)?.length ?? 0),
      0,
    );
}
const read = (path: string): RunRecord => JSON.parse(readFileSync(path, "utf8"));

let servers: TestServer[] = [];
async function server(options: Parameters<typeof startTestServer>[0] = {}) {
  const s = await startTestServer({ respond: right, ...options });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe("journal and resume", () => {
  it("a run killed with SIGKILL resumes to the same results as one clean run", async () => {
    const slow = await server({ latencyMs: 200 });
    const dir = copyFixture("arithmetic");
    let killed = false;
    let asked = 0;
    const first = await runCli(["eval", dir, "-j", "1"], {
      env: { OPENAI_BASE_URL: slow.url },
      onSpawn: (child) => {
        const poll = setInterval(() => {
          // Mid-call, once a few answers are in.
          asked = slow.completionRequests().length;
          if (asked >= 5) {
            clearInterval(poll);
            killed = child.kill("SIGKILL");
          }
        }, 10);
        child.on("exit", () => clearInterval(poll));
      },
    });
    expect(killed).toBe(true);
    expect(first.signal).toBe("SIGKILL");
    // A new run of the config points at the killed one first: resuming it re-asks nothing it holds.
    const next = await runCli(["eval", dir, "--dry-run"]);
    expect(next.stderr).toMatch(
      new RegExp(
        `note: run (\\S+) of this config was killed before it finished; promptsmith eval ${dir} --resume \\1 finishes it`,
      ),
    );

    const fast = await server();
    const resumed = await runCli(["eval", dir, "--resume", "-o", join(dir, "resumed.json")], {
      env: { OPENAI_BASE_URL: fast.url },
    });
    // With -j 1, request n goes out once answer n - 1 is in: every answer but the one or two in
    // flight (the call, and an answer not yet scored) reached the journal before the kill.
    const done = Number(/resuming run \S+: (\d+) jobs? already done/.exec(resumed.stderr)?.[1]);
    expect(done).toBeGreaterThanOrEqual(asked - 2);
    expect(journalResults(dir)).toBe(10);
    expect((await runCli(["eval", dir, "--dry-run"])).stderr).not.toContain("was killed");
    expect(resumed.code).toBe(0);
    // Only what the journal (or the cache) lacked was asked for again.
    expect(fast.completionRequests().length).toBeLessThan(10);

    const clean = copyFixture("arithmetic");
    const reference = await runCli(["eval", clean, "-o", join(clean, "clean.json")], {
      env: { OPENAI_BASE_URL: fast.url },
    });
    expect(reference.code).toBe(0);
    const a = read(join(dir, "resumed.json"));
    const b = read(join(clean, "clean.json"));
    expect(a.cases.map(comparable)).toEqual(b.cases.map(comparable));
    expect(comparableSummary(a)).toEqual(comparableSummary(b));
    expect(a.status).toBe("complete");
  });

  it("--resume with an unknown run id is a clear error", async () => {
    const run = await runCli(["eval", copyFixture("arithmetic"), "--resume", "nope"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no run "nope"');
  });
});

describe("cache", () => {
  it("a second run makes zero requests; --no-cache and --refresh-cache call again; failures are not cached", async () => {
    const s = await server({ faults: (i) => (i === 0 ? { status: 500 } : null) });
    const dir = copyFixture("arithmetic");
    const env = { OPENAI_BASE_URL: s.url };
    const first = await runCli(["eval", dir, "--json", "-j", "1"], { env });
    expect(JSON.parse(first.stdout).summary[0].errors).toBe(1);
    expect(s.completionRequests()).toHaveLength(10);

    const second = await runCli(["eval", dir, "--json"], { env });
    // Only the call that failed is made again.
    expect(s.completionRequests()).toHaveLength(11);
    const summary = JSON.parse(second.stdout).summary;
    expect(summary.reduce((n: number, r: { cacheHits: number }) => n + r.cacheHits, 0)).toBe(9);
    expect(summary[0].errors).toBe(0);

    await runCli(["eval", dir, "--json", "--no-cache"], { env });
    expect(s.completionRequests()).toHaveLength(21);
    await runCli(["eval", dir, "--json", "--refresh-cache"], { env });
    expect(s.completionRequests()).toHaveLength(31);

    const stats = await runCli(["cache", "stats", dir]);
    expect(stats.stdout).toMatch(/10 responses/);
    const cleared = await runCli(["cache", "clear", dir]);
    expect(cleared.stdout).toContain("removed 10 cached responses");
  });
});

describe("looking creates nothing", () => {
  it("cache stats, cache clear and --dry-run on a fresh project leave no .promptsmith folder", async () => {
    const dir = copyFixture("arithmetic");
    const stats = await runCli(["cache", "stats", dir]);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain("no cache yet");
    expect((await runCli(["cache", "clear", dir])).code).toBe(0);
    const dry = await runCli(["eval", dir, "--dry-run"], {
      env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
    });
    expect(dry.code).toBe(0);
    expect(existsSync(join(dir, ".promptsmith"))).toBe(false);
  });
});

describe("cost before spending", () => {
  it("--dry-run renders everything, counts tokens and sends nothing", async () => {
    const s = await server();
    const run = await runCli(["eval", copyFixture("arithmetic"), "--dry-run"], {
      env: { OPENAI_BASE_URL: s.url },
    });
    expect(run.code).toBe(0);
    expect(s.requests).toHaveLength(0);
    expect(run.stdout).toContain("dry run: nothing was sent");
    expect(run.stdout).toMatch(/total\s+10\s+0/);
    expect(run.stdout).toContain("no price known for openai:test-model");
    // Not an OpenAI model name: its own tokenizer may count differently, and the note says so.
    expect(run.stdout).toContain("openai:test-model: tokens counted with OpenAI's o200k_base encoding");
    // An unknown price is not free: the total says it does not know.
    expect(run.stdout).toMatch(/total\s+10\s+0\s+\S+\s+\S+\s+\?\n/);
    const json = await runCli(["eval", copyFixture("arithmetic"), "--dry-run", "--json"], {
      env: { OPENAI_BASE_URL: s.url },
    });
    const estimate = JSON.parse(json.stdout);
    expect(estimate.totals.requests).toBe(10);
    // max_tokens is 64 in the fixture: the completion bound is 10 × 64.
    expect(estimate.totals.completionTokens).toBe(640);
    expect(estimate.rows[0].promptTokens).toBeGreaterThan(5 * 10);
    expect(estimate.totals).toMatchObject({ cost: null, unpriced: 2 });
  });

  it("--dry-run prices what the cache lacks, at half the list price with --batch", async () => {
    const s = await server();
    const dir = priced(copyFixture("arithmetic"));
    const env = { OPENAI_BASE_URL: s.url };
    const cost = async (...flags: string[]) =>
      JSON.parse((await runCli(["eval", dir, "--dry-run", "--json", ...flags], { env })).stdout).totals.cost;
    const online = await cost();
    // 10 requests × 64 completion tokens at $1000 per 1M, plus the prompts.
    expect(online).toBeGreaterThan(0.64);
    expect(await cost("--batch")).toBeCloseTo(online / 2, 10);
    expect(s.requests).toHaveLength(0);
  });

  it("--budget with a provider whose price is unknown is refused before any call", async () => {
    const s = await server();
    const run = await runCli(["eval", copyFixture("arithmetic"), "--budget", "5"], {
      env: { OPENAI_BASE_URL: s.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--budget 5 cannot be kept: no price is known for openai:test-model");
    expect(run.stderr).toContain("price: { input: 0, output: 0 } for a free endpoint");
    expect(s.requests).toHaveLength(0);
  });

  it("--budget stops the run cleanly once the estimated spend reaches it, and the run stays resumable", async () => {
    const s = await server();
    const dir = priced(copyFixture("arithmetic"));
    const run = await runCli(["eval", dir, "-j", "1", "--budget", "0.05", "-o", join(dir, "r.json")], {
      env: { OPENAI_BASE_URL: s.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("stopped early");
    expect(run.stderr).toContain("--resume");
    const record = read(join(dir, "r.json"));
    expect(record.status).toBe("stopped");
    expect(record.cases.length).toBeGreaterThan(0);
    expect(record.cases.length).toBeLessThan(10);
  });

  it("says when the endpoint rate-limited the run, and how to pace it", async () => {
    const s = await server({ faults: (i) => (i < 3 ? { status: 429, retryAfterMs: 5 } : null) });
    const dir = copyFixture("arithmetic");
    const config = join(dir, "promptsmith.yaml");
    writeFileSync(config, readFileSync(config, "utf8").replace("maxRetries: 0", "maxRetries: 5"));
    const run = await runCli(["eval", dir, "-j", "4", "--no-cache"], { env: { OPENAI_BASE_URL: s.url } });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "rate limited: 3 answers were 429 Too Many Requests; calls in flight came down to 1 of 4",
    );
    expect(run.stderr).toContain("hint: set rpm: and tpm: on the provider");
    const calm = await runCli(["eval", dir, "--no-cache"], { env: { OPENAI_BASE_URL: s.url } });
    expect(calm.stderr).not.toContain("rate limited");
  });

  it("--max-errors stops a run that fails everywhere", async () => {
    const s = await server({ faults: () => ({ status: 500 }) });
    const run = await runCli(["eval", copyFixture("arithmetic"), "-j", "1", "--max-errors", "3"], {
      env: { OPENAI_BASE_URL: s.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/stopped early: 3 of 3 calls failed/);
    expect(s.completionRequests().length).toBe(3);
  });
});

describe("datasets", () => {
  it("every dataset format reads the same cases through the built CLI", async () => {
    const s = await server();
    const dir = copyFixture("arithmetic");
    const cases = readFileSync(join(dir, "data", "test.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; question: string; answer: number });
    const files: Record<string, string> = {
      "test.json": JSON.stringify({ cases }),
      "test.csv": `id,question,answer\n${cases.map((c) => `${c.id},"${c.question}",${c.answer}`).join("\n")}\n`,
      "test.yaml": cases
        .map((c) => `- id: ${c.id}\n  question: "${c.question}"\n  answer: ${c.answer}\n`)
        .join(""),
    };
    const config = readFileSync(join(dir, "promptsmith.yaml"), "utf8");
    const env = { OPENAI_BASE_URL: s.url };
    const summaryOf = async (dataset: string) => {
      if (files[dataset] !== undefined) writeFileSync(join(dir, "data", dataset), files[dataset]);
      writeFileSync(join(dir, "promptsmith.yaml"), config.replace("data/test.jsonl", `data/${dataset}`));
      const run = await runCli(["eval", dir, "--json", "--no-cache"], { env });
      expect(run.stderr, dataset).toBe("");
      return comparableSummary(JSON.parse(run.stdout));
    };
    const jsonl = await summaryOf("test.jsonl");
    expect(jsonl[0]).toMatchObject({ total: 5, passed: 5 });
    for (const dataset of Object.keys(files)) expect(await summaryOf(dataset), dataset).toEqual(jsonl);
  });
});

describe("eval --batch", () => {
  it("submits through the Batch API, scores the answers, and fills the cache for online runs", async () => {
    const batches = await startBatchTestServer({
      respond: (body) => right(body as RequestBody),
      progressSteps: 1,
    });
    try {
      const dir = copyFixture("arithmetic");
      const env = { OPENAI_BASE_URL: batches.url };
      const run = await runCli(["eval", dir, "--batch", "--json"], { env });
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/submitted 10 requests for openai:test-model as batch \S+/);
      expect(JSON.parse(run.stdout).summary.map((row: { passed: number }) => row.passed)).toEqual([5, 5]);
      expect(batches.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);
      const online = await runCli(["eval", dir, "--json"], { env });
      expect(JSON.parse(online.stdout).summary.map((row: { cacheHits: number }) => row.cacheHits)).toEqual([
        5, 5,
      ]);
      expect(batches.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(0);
    } finally {
      await batches.close();
    }
  });

  it("Ctrl-C while waiting exits 130 and says how to attach again; a failed batch exits 2", async () => {
    const waiting = await startBatchTestServer({ progressSteps: 1_000_000 });
    const failing = await startBatchTestServer({ failBatch: true, progressSteps: 1 });
    try {
      const dir = copyFixture("arithmetic");
      const stopped = await runCli(["eval", dir, "--batch"], {
        env: { OPENAI_BASE_URL: waiting.url },
        onStderr: (chunk, child) => {
          if (chunk.includes("in_progress")) child.kill("SIGINT");
        },
      });
      expect(stopped.code).toBe(130);
      expect(stopped.stderr).toContain(
        "stopped waiting for batch batch_1: it keeps running on the server; run the same command again to attach to it, or use --batch-id batch_1",
      );
      expect(stopped.stderr).not.toMatch(/internal error|\n\s+at /);
      // The same jobs online would pay again for answers the batch already has: say so.
      const online = await runCli(["eval", dir, "--dry-run"], { env: { OPENAI_BASE_URL: waiting.url } });
      expect(online.stderr).toContain(
        "note: batch batch_1 of an earlier eval --batch of these jobs is not read yet and its answers are paid for; run with --batch to score them",
      );
      const other = await runCli(["eval", dir, "--dry-run", "--limit", "2"], {
        env: { OPENAI_BASE_URL: waiting.url },
      });
      expect(other.stderr).not.toContain("note: batch");

      const failed = await runCli(["eval", copyFixture("arithmetic"), "--batch"], {
        env: { OPENAI_BASE_URL: failing.url },
      });
      expect(failed.code).toBe(2);
      expect(failed.stderr).toMatch(/^error: provider openai:test-model: batch batch_1 failed: line 1: /m);
      expect(failed.stderr).toContain("hint: nothing in it was run");
      expect(failed.stderr).not.toMatch(/internal error|\n\s+at /);
    } finally {
      await waiting.close();
      await failing.close();
    }
  });
});

describe("sharding", () => {
  it("merged shard results equal the unsharded run", async () => {
    const s = await server();
    const env = { OPENAI_BASE_URL: s.url };
    const dir = copyFixture("arithmetic");
    const files: string[] = [];
    for (const shard of ["1/3", "2/3", "3/3"]) {
      const out = join(dir, `shard-${shard.replace("/", "-")}.json`);
      const run = await runCli(["eval", dir, "--shard", shard, "-o", out, "--no-cache"], { env });
      expect(run.code).toBe(0);
      files.push(out);
    }
    expect(read(files[0]).cases.map((c) => c.id)).toEqual(["a", "a", "d", "d"]);
    const merged = join(dir, "merged.json");
    const merge = await runCli(["merge", files[2], files[0], files[1], "-o", merged]);
    expect(merge.code).toBe(0);
    const whole = join(dir, "whole.json");
    await runCli(["eval", dir, "-o", whole, "--no-cache"], { env });
    expect(read(merged).cases.map(comparable)).toEqual(read(whole).cases.map(comparable));
    expect(comparableSummary(read(merged))).toEqual(comparableSummary(read(whole)));

    const missing = await runCli(["merge", files[0], files[1]]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("shard 3 of 3 is missing");
  });
});

describe("--retry-errors", () => {
  it("re-runs only the jobs of the run that ended in an error", async () => {
    const s = await server({ faults: (i) => (i === 0 ? { status: 500 } : null) });
    const dir = copyFixture("arithmetic");
    const env = { OPENAI_BASE_URL: s.url };
    const first = await runCli(["eval", dir, "--json", "-j", "1", "--no-cache"], { env });
    expect(JSON.parse(first.stdout).summary[0].errors).toBe(1);
    expect(s.completionRequests()).toHaveLength(10);
    const plain = await runCli(["eval", dir, "--json", "--resume", "--no-cache"], { env });
    // Nothing is missing from the journal: the error stands and nothing is sent.
    expect(JSON.parse(plain.stdout).summary[0].errors).toBe(1);
    expect(s.completionRequests()).toHaveLength(10);
    // On its own it means the newest run, as --resume does.
    const retried = await runCli(["eval", dir, "--json", "--retry-errors", "--no-cache"], { env });
    expect(retried.stderr).toMatch(/resuming run \S+: 10 jobs already done/);
    expect(JSON.parse(retried.stdout).summary[0].errors).toBe(0);
    expect(s.completionRequests()).toHaveLength(11);
  });
});
