/**
 * Conformance of the built CLI's `serve` with real clients: the official openai SDK for Node, and the official
 * Python SDK where python3 can import it. The model is real (random weights, gibberish text); nothing here
 * reaches the network.
 */
import { type spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, ROOT, runCli } from "../helpers/cli.js";
import { parseExposition, sampleValue } from "../helpers/prometheus.js";

const TINY = join(ROOT, "../shared/models/llama-2-tiny-random.gguf");
/** One thread: on a 2-core machine more threads only fight each other. */
const ENV = { PROMPTSMITH_THREADS: "1" };
const messages = [{ role: "user" as const, content: "Say hello." }];

/** A `promptsmith serve` child, once it says it serves. */
interface Served {
  /** `http://127.0.0.1:port`. */
  url: string;
  stderr(): string;
  /** SIGTERM, then what the process printed and how it ended. */
  stop(): Promise<CliRun>;
}

async function startServe(args: string[], env: Record<string, string> = {}): Promise<Served> {
  let stderr = "";
  let child: ReturnType<typeof spawn> | undefined;
  let ready!: (url: string) => void;
  const serving = new Promise<string>((resolve) => {
    ready = resolve;
  });
  const run = runCli(["serve", "--model", TINY, "--port", "0", ...args], {
    env: { ...ENV, ...env },
    timeoutMs: 120_000,
    onSpawn: (spawned) => {
      child = spawned;
    },
    onStderr: (chunk) => {
      stderr += chunk;
      const match = /serving on http:\/\/[^:]+:(\d+)\/v1/.exec(stderr);
      if (match) ready(`http://127.0.0.1:${match[1]}`);
    },
  });
  const url = await Promise.race([
    serving,
    run.then((result) => {
      throw new Error(`serve ended before serving (exit ${result.code}):\n${result.stderr}`);
    }),
  ]);
  return {
    url,
    stderr: () => stderr,
    async stop() {
      child?.kill("SIGTERM");
      return run;
    },
  };
}

async function scrape(url: string) {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

beforeAll(() => {
  if (!existsSync(TINY))
    throw new Error(`the test model is missing: ${TINY} (it ships in shared/models beside the repository)`);
});

// Keys from all three sources; none of them, nor the wrong one, may ever appear in a log line.
const FLAG_KEY = "flag-key-3f9a1c";
const FILE_KEY = "file-key-7be20d";
const ENV_KEY = "env-key-c41d88";
const WRONG_KEY = "flag-key-3f9a1d";

const pythonSdk = spawnSync("python3", ["-c", "import openai"], { encoding: "utf8" });
const hasPythonSdk = pythonSdk.status === 0;
const PYTHON_SKIP_REASON =
  "python3 cannot import openai here, and tests never install it (PyPI is not reachable and tests stay off the network)";
if (!hasPythonSdk) console.warn(`serve conformance: skipping the Python SDK part: ${PYTHON_SKIP_REASON}`);

describe("serve with API keys, against the official SDKs", () => {
  let served: Served;
  const withKey = (apiKey: string) =>
    new OpenAI({ baseURL: `${served.url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "promptsmith-serve-keys-"));
    writeFileSync(join(dir, "keys.txt"), `# the team's keys\n${FILE_KEY}\n`);
    served = await startServe(["--api-key", FLAG_KEY, "--api-key-file", join(dir, "keys.txt")], {
      PROMPTSMITH_SERVE_API_KEYS: ENV_KEY,
    });
  }, 120_000);

  afterAll(async () => {
    await served?.stop();
  });

  it("answers no key and a wrong key with OpenAI's 401, and each right key with 200", async () => {
    const bare = await fetch(`${served.url}/v1/models`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({
      error: {
        message: expect.any(String),
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    const wrong = withKey(WRONG_KEY).models.list();
    await expect(wrong).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(withKey(WRONG_KEY).models.list()).rejects.toMatchObject({
      status: 401,
      code: "invalid_api_key",
    });
    // Not from the query string either, and the access log must drop it.
    expect((await fetch(`${served.url}/v1/models?api_key=${FLAG_KEY}`)).status).toBe(401);
    for (const key of [FLAG_KEY, FILE_KEY, ENV_KEY]) {
      const models = await withKey(key).models.list();
      expect(models.data.map((model) => model.id)).toEqual(["llama-2-tiny-random"]);
    }
  });

  it("still answers chat, completions and streams with the key", async () => {
    const client = withKey(FLAG_KEY);
    const chat = await client.chat.completions.create({
      model: "llama-2-tiny-random",
      messages,
      n: 2,
      temperature: 0,
      max_tokens: 6,
    });
    expect(chat.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(chat.choices[0].message.content?.length).toBeGreaterThan(0);

    const completion = await client.completions.create({
      model: "m",
      prompt: "Once upon a time",
      max_tokens: 6,
    });
    expect(completion.choices[0].text.length).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({
      model: "m",
      messages,
      temperature: 0,
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) text += choice.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBe(6);

    await expect(client.chat.completions.create({ model: "m", messages: [] })).rejects.toMatchObject({
      status: 400,
      param: "messages",
    });
  });

  it("answers /health and /metrics without a key; the metrics move by exactly the requests sent", async () => {
    const health = await fetch(`${served.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    const before = await scrape(served.url);
    const client = withKey(ENV_KEY);
    const answers = [
      await client.chat.completions.create({ model: "m", messages, max_tokens: 5 }),
      await client.chat.completions.create({ model: "m", messages, max_tokens: 7 }),
      await client.completions.create({ model: "m", prompt: "Once upon a time", max_tokens: 4 }),
    ];
    let streamedUsage: OpenAI.CompletionUsage | undefined;
    const stream = await client.chat.completions.create({
      model: "m",
      messages,
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) streamedUsage = chunk.usage ?? streamedUsage;
    await expect(withKey(WRONG_KEY).chat.completions.create({ model: "m", messages })).rejects.toMatchObject({
      status: 401,
    });
    const after = await scrape(served.url);

    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    const chatRoute = "/v1/chat/completions";
    expect(moved("promptsmith_requests_total", { route: chatRoute, status: "200" })).toBe(3);
    expect(moved("promptsmith_requests_total", { route: "/v1/completions", status: "200" })).toBe(1);
    expect(moved("promptsmith_requests_total", { route: chatRoute, status: "401" })).toBe(1);
    // The scrape before this one, counted once it was answered.
    expect(moved("promptsmith_requests_total", { route: "/metrics", status: "200" })).toBe(1);
    const usages = [...answers.map((answer) => answer.usage), streamedUsage];
    const sum = (key: "prompt_tokens" | "completion_tokens") =>
      usages.reduce((total, usage) => total + (usage?.[key] ?? Number.NaN), 0);
    expect(moved("promptsmith_prompt_tokens_total")).toBe(sum("prompt_tokens"));
    expect(moved("promptsmith_completion_tokens_total")).toBe(sum("completion_tokens"));
    expect(moved("promptsmith_time_to_first_token_seconds_count")).toBe(4);
    expect(moved("promptsmith_generation_duration_seconds_count")).toBe(4);
    expect(moved("promptsmith_queue_wait_seconds_count")).toBe(4);
    expect(sampleValue(after, "promptsmith_model_loaded")).toBe(1);
    expect(sampleValue(after, "promptsmith_queue_depth")).toBe(0);
    for (const name of ["promptsmith_requests_total", "promptsmith_time_to_first_token_seconds"]) {
      expect(after.get(name)?.help?.length).toBeGreaterThan(0);
    }
    expect(after.get("promptsmith_time_to_first_token_seconds")?.type).toBe("histogram");
    expect(after.get("promptsmith_requests_total")?.type).toBe("counter");
    expect(after.get("promptsmith_queue_depth")?.type).toBe("gauge");
  });

  it.skipIf(!hasPythonSdk)(
    `the official Python SDK: 401 on a wrong key, n=2, streaming with include_usage, a 400 (skipped where ${PYTHON_SKIP_REASON})`,
    () => {
      const script = join(ROOT, "test/fixtures/python/openai_sdk_conformance.py");
      const run = spawnSync("python3", [script, `${served.url}/v1`, FILE_KEY], {
        encoding: "utf8",
        timeout: 60_000,
        // Only what the SDK needs: no proxy or OpenAI settings of the machine leak in.
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
      });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        wrong_key: { status: 401, code: "invalid_api_key" },
        chat: { choices: 2, finish_reason: "length", completion_tokens: 10 },
        stream: { text: true, completion_tokens: 5 },
        empty_messages: { status: 400, param: "messages" },
      });
    },
  );

  it("logs method, route, status, latency and tokens for each request, and never a key", async () => {
    const run = await served.stop();
    expect(run.code).toBe(0);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^listening on http:\/\/127\.0\.0\.1:\d+; loading the model \(GET \/health answers 503 until it is ready\)$/,
    );
    expect(lines).toContain("loaded llama-2-tiny-random on the CPU, 1 thread");
    expect(lines.at(-1)).toBe("shutting down");
    const access = lines.filter((line) => /^(GET|POST) /.test(line));
    expect(access.length).toBeGreaterThan(15);
    for (const line of access) expect(line).toMatch(/^(GET|POST) \/\S* \d{3} \d+ms( in=\d+ out=\d+)?$/);
    expect(access).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^POST \/v1\/chat\/completions 200 \d+ms in=\d+ out=5$/),
        expect.stringMatching(/^POST \/v1\/chat\/completions 401 \d+ms$/),
        expect.stringMatching(/^GET \/v1\/models 401 \d+ms$/),
        expect.stringMatching(/^GET \/metrics 200 \d+ms$/),
      ]),
    );
    for (const key of [FLAG_KEY, FILE_KEY, ENV_KEY, WRONG_KEY]) expect(run.stderr).not.toContain(key);
    expect(run.stderr).not.toContain("api_key");
  });
});

describe("serve's bounded queue, against the official SDK", () => {
  let served: Served;
  let client: OpenAI;
  // One sequence, two places in line, and each generation cut off after 3 s.
  const TIMEOUT_S = 3;

  beforeAll(async () => {
    served = await startServe(["--parallel", "1", "--queue", "2", "--timeout", String(TIMEOUT_S), "--quiet"]);
    client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: "none", maxRetries: 0, timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await served?.stop();
  });

  const depth = async () => sampleValue(await scrape(served.url), "promptsmith_queue_depth");
  const short = () =>
    client.completions.create({ model: "m", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });

  /**
   * Takes the only sequence with a generation that would run for hours: greedy (random weights seldom pick
   * the end token) and a million tokens; only the server's timeout ends it. Resolves once it is generating.
   */
  async function holdTheSequence() {
    const stream = await client.completions.create({
      model: "m",
      prompt: "hold",
      max_tokens: 1_000_000,
      temperature: 0,
      stream: true,
    });
    const chunks = stream[Symbol.asyncIterator]();
    const first = await chunks.next();
    expect(first.done).toBe(false);
    return async () => {
      let finish: string | null = null;
      let text = first.done ? "" : first.value.choices[0].text;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
        text += next.value.choices[0]?.text ?? "";
        finish = next.value.choices[0]?.finish_reason ?? finish;
      }
      return { text, finish };
    };
  }

  it("answers 429 with Retry-After past --parallel + --queue, and completes every request it accepted", async () => {
    const drain = await holdTheSequence();
    const accepted = [short(), short()];
    await expect.poll(depth).toBe(2);

    const refused = await fetch(`${served.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", max_tokens: 1 }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("queue_full");
    await expect(short()).rejects.toBeInstanceOf(OpenAI.RateLimitError);

    const held = await drain();
    expect(held.finish).toBe("length");
    expect(held.text.length).toBeGreaterThan(0);
    for (const answer of await Promise.all(accepted)) {
      expect(answer.choices[0].finish_reason).toBe("length");
      // All 8 tokens: the time they waited in line (over --timeout) did not count against them.
      expect(answer.usage?.completion_tokens).toBe(8);
    }
    const metrics = await scrape(served.url);
    expect(
      sampleValue(metrics, "promptsmith_requests_total", { route: "/v1/completions", status: "429" }),
    ).toBe(2);
    expect(sampleValue(metrics, "promptsmith_timeouts_total")).toBe(1);
  });

  it("gives a queued client's place back when it disconnects", async () => {
    const before = await scrape(served.url);
    const drain = await holdTheSequence();
    const leaving = new AbortController();
    const gone = client.completions
      .create({ model: "m", prompt: "x", max_tokens: 8 }, { signal: leaving.signal })
      .catch((error: unknown) => error);
    const stays = short();
    await expect.poll(depth).toBe(2);
    await expect(short()).rejects.toMatchObject({ status: 429 });

    leaving.abort();
    expect(await gone).toBeInstanceOf(OpenAI.APIUserAbortError);
    await expect.poll(depth).toBe(1);
    const taken = short();
    await expect.poll(depth).toBe(2);

    expect((await drain()).finish).toBe("length");
    expect((await stays).usage?.completion_tokens).toBe(8);
    expect((await taken).usage?.completion_tokens).toBe(8);
    const after = await scrape(served.url);
    const moved = (status: string) =>
      sampleValue(after, "promptsmith_requests_total", { route: "/v1/completions", status }) -
      sampleValue(before, "promptsmith_requests_total", { route: "/v1/completions", status });
    expect(moved("499")).toBe(1);
    expect(moved("429")).toBe(1);
    expect(moved("200")).toBe(3);
  });

  it("--quiet keeps the access log out of stderr", async () => {
    const run = await served.stop();
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/^(GET|POST) /m);
    expect(run.stderr).toContain("serving on");
  });
});

describe("serve's start-up checks", () => {
  it("refuses a key file it cannot read, and a --parallel past what the local model takes, before loading", async () => {
    const noFile = await runCli(
      ["serve", "--model", TINY, "--port", "0", "--api-key-file", "/nowhere/keys.txt"],
      {
        env: ENV,
      },
    );
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("cannot read the API key file /nowhere/keys.txt");
    expect(noFile.stderr).toContain("hint:");
    const tooMany = await runCli(["serve", "--model", TINY, "--port", "0", "--parallel", "65"], { env: ENV });
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain("--parallel: expected a whole number from 1 to 64");
    const badQueue = await runCli(["serve", "--model", TINY, "--queue", "-1"], { env: ENV });
    expect(badQueue.code).toBe(2);
    expect(badQueue.stderr).toContain("--queue");
  });

  it("warns when it listens beyond this machine with no key", async () => {
    const served = await startServe(["--host", "0.0.0.0"]);
    const run = await served.stop();
    expect(
      run.stderr
        .split("\n")
        .filter((line) => line.startsWith("warning: listening on 0.0.0.0 with no API key")),
    ).toHaveLength(1);
  });
});
