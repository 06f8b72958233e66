import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { evaluate, loadConfig, renderPrompt } from "../../src/index.js";
import { ProviderError } from "../../src/providers/types.js";
import { copyFixture } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/openai-test-server.js";
import { lastMessage, scriptedProvider } from "../helpers/scripted-provider.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A scripted provider answering from the last message's text. */
const scripted = (answer: (content: string) => string) =>
  scriptedProvider((request) => answer(lastMessage(request)));

describe("evaluate (library)", () => {
  it("runs a suite against a scripted provider with no network and no clock", async () => {
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    let tick = 0;
    const { record, status } = await evaluate({
      suite,
      env: {},
      now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)),
      createProvider: scripted((q) => (q.includes("2 + 2") ? "4" : "0")),
    });
    expect(status).toBe("complete");
    expect(record.startedAt).toBe("2026-01-01T00:00:00.000Z");
    expect(record.summary.map((s) => [s.prompt, s.passed, s.total])).toEqual([
      ["plain", 1, 5],
      ["few-shot", 1, 5],
    ]);
    expect(record.cases).toHaveLength(10);
  });

  it("sends the first request before creating a new response cache, and keeps every answer in it", async () => {
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    expect(suite.cache.enabled).toBe(true);
    expect(existsSync(suite.cache.path)).toBe(false);
    const cacheAtEachCall: boolean[] = [];
    const first = await evaluate({
      suite,
      env: {},
      createProvider: scriptedProvider(() => {
        cacheAtEachCall.push(existsSync(suite.cache.path));
        return "4";
      }),
    });
    expect(first.status).toBe("complete");
    // SQLite waits for the first answer to store: the first calls went out before it.
    expect(cacheAtEachCall[0]).toBe(false);
    expect(existsSync(suite.cache.path)).toBe(true);
    const second = await evaluate({
      suite,
      env: {},
      createProvider: scriptedProvider(() => {
        throw new ProviderError("network", "every answer should come from the cache");
      }),
    });
    expect(second.record.cases.map((c) => c.cached)).toEqual(new Array(10).fill(true));
  });

  it("keeps only a bounded sample of failures in memory when asked", async () => {
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const seen: string[] = [];
    const { record } = await evaluate({
      suite,
      env: {},
      retainCases: 1,
      createProvider: scripted(() => "0"),
      onResult: (r) => seen.push(`${r.prompt}/${r.id}`),
    });
    expect(seen).toHaveLength(10);
    expect(record.cases.map((c) => `${c.prompt}/${c.id}`)).toEqual(["plain/a", "few-shot/a"]);
    expect(record.summary[0].failed + record.summary[0].unparsed).toBe(5);
  });

  it("slows down under a 429 storm and loses nothing", async () => {
    server = await startTestServer({
      respond: () => "4",
      faults: (i) => (i < 6 ? { status: 429, retryAfterMs: 10 } : null),
    });
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    suite.providers[0].maxRetries = 8;
    const { record, rateLimited } = await evaluate({
      suite,
      env: { OPENAI_BASE_URL: server.url },
      concurrency: 4,
    });
    expect(record.summary.reduce((n, s) => n + s.total, 0)).toBe(10);
    expect(record.summary.reduce((n, s) => n + s.errors, 0)).toBe(0);
    expect(server.completionRequests().length).toBe(16);
    // The run says how much it was held back: six 429s, and -j 4 halved down to one call at a time.
    expect(rateLimited).toEqual({ answers: 6, lowestConcurrency: 1, concurrency: 4 });
  });

  it("paces calls to the provider's rpm: a second's worth at once, then evenly", async () => {
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    suite.providers[0].rpm = 300; // 5 a second
    const sentAt: number[] = [];
    const { record } = await evaluate({
      suite,
      env: {},
      cache: "off",
      concurrency: 10,
      createProvider: scriptedProvider(() => {
        sentAt.push(performance.now());
        return "4";
      }),
    });
    expect(record.summary.reduce((n, s) => n + s.total, 0)).toBe(10);
    const since = sentAt.map((t) => t - sentAt[0]);
    // After the first five (the unit tests time the burst on a fake clock), each waits its 200 ms;
    // timers may fire late on a busy machine, never early.
    for (let i = 5; i < 10; i++) expect(since[i]).toBeGreaterThanOrEqual((i - 4) * 200 - 5);
  });

  it("asks once for a prompt that several jobs need at the same time, and shares the answer", async () => {
    const dir = copyFixture("arithmetic");
    // Three questions, each twice under different ids: duplicate rows are common in real data.
    const rows = ["2 + 2", "3 * 3", "10 / 2"].flatMap((q, i) => [
      { id: `${i}a`, question: `What is ${q}?`, answer: [4, 9, 5][i] },
      { id: `${i}b`, question: `What is ${q}?`, answer: [4, 9, 5][i] },
    ]);
    writeFileSync(join(dir, "data", "test.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n"));
    const suite = await loadConfig(dir, { env: {} });
    const calls: string[] = [];
    let failNext = true;
    const { record } = await evaluate({
      suite,
      env: {},
      concurrency: 8,
      filterPrompt: ["plain"],
      retainCases: "all",
      createProvider: scriptedProvider(async (request) => {
        const q = lastMessage(request);
        calls.push(q);
        await new Promise((resolve) => setTimeout(resolve, 30));
        // The first call for 3 * 3 fails: the job waiting on it then asks for itself.
        if (q.includes("3 * 3") && failNext) {
          failNext = false;
          throw new ProviderError("server", "boom");
        }
        return { "2 + 2": "4", "3 * 3": "9", "10 / 2": "5" }[/What is (.+)\?/.exec(q)![1]]!;
      }),
    });
    expect(calls.filter((q) => q.includes("2 + 2"))).toHaveLength(1);
    expect(calls.filter((q) => q.includes("10 / 2"))).toHaveLength(1);
    expect(calls.filter((q) => q.includes("3 * 3"))).toHaveLength(2);
    const byId = Object.fromEntries(record.cases.map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(["0a", "0b", "1a", "1b", "2a", "2b"]);
    expect([byId["0a"].pass, byId["0b"].pass, byId["2a"].pass, byId["2b"].pass]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    // The job that shared the answer counts it as answered without a call, tokens included.
    expect([byId["0a"].cached, byId["0b"].cached].sort()).toEqual([false, true]);
    expect(byId["0b"].tokens).toEqual(byId["0a"].tokens);
    expect(byId["1a"].error?.message).toBe("boom");
    expect(byId["1b"].pass).toBe(true);
  });

  it("a job waiting on a call that never got its slot is let go when the run stops", async () => {
    const dir = copyFixture("arithmetic");
    // x takes the only request the rpm bucket holds; the first "same" waits for the next one and
    // the second "same" waits on the first, as a call in flight.
    const rows = ["x", "same", "same"].map((q, i) => ({ id: `r${i}`, question: q, answer: 1 }));
    writeFileSync(join(dir, "data", "test.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n"));
    const suite = await loadConfig(dir, { env: {} });
    suite.providers[0].rpm = 1; // the next request in a minute
    const controller = new AbortController();
    const calls: string[] = [];
    const { status, record } = await evaluate({
      suite,
      env: {},
      concurrency: 4,
      filterPrompt: ["plain"],
      retainCases: "all",
      signal: controller.signal,
      createProvider: scriptedProvider((request) => {
        calls.push(lastMessage(request));
        setTimeout(() => controller.abort(), 50);
        return "1";
      }),
    });
    expect(status).toBe("interrupted");
    expect(calls).toEqual(["Q: x"]);
    expect(record.cases.map((c) => c.id)).toEqual(["r0"]);
  });

  it("stops before any call when a filter matches nothing", async () => {
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    await expect(evaluate({ suite, env: {}, filterPrompt: ["nope"] })).rejects.toMatchObject({
      code: "prompt-not-found",
    });
  });
});

describe("renderPrompt (library)", () => {
  it("renders the few-shot prompt with its examples", async () => {
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    const [rendered] = await renderPrompt({ suite, caseId: "c", prompts: ["few-shot"] });
    expect(rendered.caseId).toBe("c");
    expect(rendered.messages[1].content).toBe(
      "Q: What is 1 + 1?\nA: 2\n\nQ: What is 2 + 3?\nA: 5\n\nQ: What is 10 / 2?",
    );
  });
});

describe("evaluate: concurrency", () => {
  it("never has more than -j calls in flight, and keeps -j busy", async () => {
    const suite = await loadConfig(copyFixture("arithmetic"), { env: {} });
    let inFlight = 0;
    let most = 0;
    const { record } = await evaluate({
      suite,
      env: {},
      concurrency: 3,
      journal: false,
      createProvider: scriptedProvider(async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return "4";
      }),
    });
    expect(record.cases).toHaveLength(10);
    expect(most).toBe(3);
  });
});

describe("evaluate: stopping", () => {
  it("cuts the calls in flight when the caller aborts, through the default transport", async () => {
    const { createServer } = await import("node:http");
    const { listenOnLoopback } = await import("../helpers/loopback.js");
    // Never answers; counts requests that arrive and requests whose connection the client cut.
    let arrived = 0;
    let cut = 0;
    const hanging = createServer((req) => {
      arrived++;
      req.resume();
      req.socket.once("close", () => cut++);
    });
    const loopback = await listenOnLoopback(hanging);
    const suite = await loadConfig(copyFixture("arithmetic"), { env: { OPENAI_BASE_URL: loopback.url } });
    const controller = new AbortController();
    try {
      const running = evaluate({
        suite,
        env: { OPENAI_BASE_URL: loopback.url },
        concurrency: 3,
        cache: "off",
        signal: controller.signal,
      });
      while (arrived < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      const { status, record } = await running;
      expect(status).toBe("interrupted");
      expect(record.cases).toHaveLength(0);
      // Every call in flight had its connection closed by the client, not left to hang.
      while (cut < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(cut).toBe(3);
      expect(arrived).toBe(3);
    } finally {
      await loopback.close();
    }
  });
});

describe("evaluate: --max-errors as a share of calls", () => {
  /** A suite of `cases` one-prompt cases in a temp dir, for a scripted provider. */
  async function suiteOf(cases: number) {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "promptsmith-max-errors-"));
    const rows = Array.from({ length: cases }, (_, i) =>
      JSON.stringify({ id: `c${i}`, q: `${i}`, answer: "1" }),
    );
    writeFileSync(join(dir, "cases.jsonl"), `${rows.join("\n")}\n`);
    writeFileSync(
      join(dir, "promptsmith.yaml"),
      "providers: [openai:scripted]\nprompts: [{ id: p, text: 'Q: {{q}}' }]\ntests: { path: cases.jsonl, expected: answer }\nscorer: numeric\ncache: false\n",
    );
    return loadConfig(join(dir, "promptsmith.yaml"), { env: {} });
  }

  /**
   * Runs 30 cases with `--max-errors 0.5` against a provider that fails the calls whose (0-based)
   * number `fails` picks; returns how the run ended and how many calls were made.
   */
  async function runFailing(fails: (call: number) => boolean, concurrency: number) {
    let calls = 0;
    const result = await evaluate({
      suite: await suiteOf(30),
      env: {},
      concurrency,
      maxErrors: 0.5,
      createProvider: scriptedProvider(() => {
        const call = calls++;
        if (fails(call)) throw new ProviderError("server", `500 on call ${call}`);
        return "1";
      }),
    });
    return { ...result, calls };
  }

  it("stops once, after the first 10 calls, at least that share failed; the rest stays resumable", async () => {
    const { status, record, calls } = await runFailing((call) => call % 4 !== 0, 1);
    expect(status).toBe("stopped");
    expect(calls).toBe(10);
    expect(record.cases).toHaveLength(10);
    expect(record.cases.filter((c) => c.error !== null)).toHaveLength(7);
    expect(record.stopReason).toContain("7 of 10 calls failed (--max-errors 0.5)");
  });

  it("stops, resumable, when a provider that answered fails to connect three calls in a row", async () => {
    let calls = 0;
    const run = (fails: (call: number) => boolean) =>
      evaluate({
        suite: suite30,
        env: {},
        concurrency: 1,
        createProvider: scriptedProvider(() => {
          const call = calls++;
          if (fails(call)) throw new ProviderError("network", `could not reach the server (call ${call})`);
          return "1";
        }),
      });
    const suite30 = await suiteOf(30);
    const down = await run((call) => call >= 5);
    expect(down.status).toBe("stopped");
    expect(down.record.stopReason).toBe(
      "openai:scripted stopped answering: the last 3 calls could not reach it (could not reach the server (call 7))",
    );
    expect(calls).toBe(8);

    // Blips between answers never add up to three in a row: the run goes on to the end.
    calls = 0;
    const flaky = await run((call) => call % 3 !== 0);
    expect(flaky.status).toBe("complete");
    expect(calls).toBe(30);
  });

  it("keeps the journals of the config's newest keepRuns runs, and the newest can still be resumed", async () => {
    const { appendFileSync, readdirSync } = await import("node:fs");
    const suite = await suiteOf(3);
    appendFileSync(suite.configPath, "keepRuns: 2\n");
    const kept = await loadConfig(suite.configPath, { env: {} });
    const ids: (string | undefined)[] = [];
    for (let run = 0; run < 4; run++) {
      const { record } = await evaluate({
        suite: kept,
        env: {},
        createProvider: scriptedProvider(() => "1"),
      });
      ids.push(record.runId);
    }
    expect(readdirSync(kept.runsDir).sort()).toEqual([`${ids[2]}.jsonl`, `${ids[3]}.jsonl`]);
    const resumed = await evaluate({
      suite: kept,
      env: {},
      resume: true,
      createProvider: scriptedProvider(() => "2"),
    });
    expect(resumed.record.runId).toBe(ids[3]);
    expect(resumed.record.summary[0].passed).toBe(3);
  });

  it("lets a run whose failures stay under the share finish", async () => {
    const { status, record, calls } = await runFailing((call) => call % 4 === 0, 4);
    expect(status).toBe("complete");
    expect(calls).toBe(30);
    expect(record.cases.filter((c) => c.error !== null)).toHaveLength(8);
  });
});
