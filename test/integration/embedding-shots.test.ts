import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimate, evaluate, isUserError, loadConfig, renderPrompt } from "../../src/index.js";
import type { CaseResult, RunRecord } from "../../src/record/types.js";
import { openCache } from "../../src/store/cache.js";
import { copyFixture } from "../helpers/cli.js";
import { startTestServer, type TestServer, testEmbedding } from "../helpers/openai-test-server.js";

interface Row {
  id: string;
  question: string;
}

function readRows(file: string): Row[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Row);
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Every pool row scored against the query with the server's own vectors, most similar first (ties: pool order). */
function ranked(pool: Row[], query: Row, excludeSelf = false): { id: string; score: number }[] {
  const q = testEmbedding(query.question);
  return pool
    .map((row, position) => ({ id: row.id, position, score: cosine(testEmbedding(row.question), q) }))
    .filter((hit) => !(excludeSelf && hit.id === query.id))
    .sort((x, y) => y.score - x.score || x.position - y.position);
}

/** The brute-force top k, after checking that the k-th and the next are far enough apart to be unambiguous. */
function topK(pool: Row[], query: Row, k: number, excludeSelf = false): string[] {
  const hits = ranked(pool, query, excludeSelf);
  for (let i = 1; i <= k && i < hits.length; i++) {
    expect(hits[i - 1].score - hits[i].score, `gap after rank ${i - 1} for ${query.id}`).toBeGreaterThan(
      1e-6,
    );
  }
  return hits.slice(0, k).map((hit) => hit.id);
}

let server: TestServer;
let dir: string;
let train: Row[];
let tests: Row[];
let first: RunRecord;
let second: RunRecord;
let embeddingsAfterFirst: number;
let embeddingsAfterSecond: number;

const embeddingRequests = () => server.requests.filter((r) => r.path === "/v1/embeddings");
const caseOf = (record: RunRecord, prompt: string, id: string): CaseResult =>
  record.cases.find((c) => c.prompt === prompt && c.id === id)!;

beforeAll(async () => {
  server = await startTestServer();
  dir = copyFixture("embedding");
  train = readRows(join(dir, "data/train.jsonl"));
  tests = readRows(join(dir, "data/test.jsonl"));
  const env = { OPENAI_BASE_URL: server.url };
  const run = async () => {
    const suite = await loadConfig(dir, { env: {} });
    return (await evaluate({ suite, env, concurrency: 4, journal: false })).record;
  };
  first = await run();
  embeddingsAfterFirst = embeddingRequests().length;
  second = await run();
  embeddingsAfterSecond = embeddingRequests().length;
});
afterAll(async () => {
  await server.close();
});

describe("select: embedding through evaluate()", () => {
  it("gives each case the k pool rows nearest by cosine similarity, most similar first", () => {
    for (const test of tests) {
      expect(caseOf(first, "near", test.id).shots, test.id).toEqual(topK(train, test, 2));
    }
    // The examples are rendered into the prompt, not only recorded.
    const nearest = train.find((row) => row.id === topK(train, tests[0], 1)[0])!;
    expect(caseOf(first, "near", tests[0].id).messages.at(-1)!.content).toContain(`Q: ${nearest.question}`);
  });

  it("never gives a case itself when the pool is the test set", () => {
    for (const test of tests) {
      const shots = caseOf(first, "self", test.id).shots!;
      expect(shots).not.toContain(test.id);
      expect(shots, test.id).toEqual(topK(tests, test, 2, true));
    }
  });

  it("drops the least similar example first to fit maxTokens, whatever the prompt order", () => {
    for (const test of tests) {
      const [best] = topK(train, test, 2);
      expect(caseOf(first, "budget", test.id).shots, test.id).toEqual([best]);
    }
  });

  it("asks the endpoint named by the provider for the configured model, the pool in one request", () => {
    const requests = embeddingRequests().slice(0, embeddingsAfterFirst);
    expect(requests.length).toBeGreaterThan(0);
    const models = new Set(requests.map((r) => r.body?.model));
    expect(models).toEqual(new Set(["test-embedding", "text-embedding-3-small"]));
    const trainQuestions = train.map((row) => row.question);
    expect(requests.some((r) => JSON.stringify(r.body?.input) === JSON.stringify(trainQuestions))).toBe(true);
    // Every text is embedded once per model: the second prompt on the train pool reuses the vectors.
    const inputs = requests
      .filter((r) => r.body?.model === "test-embedding")
      .flatMap((r) => r.body?.input as string[]);
    expect(inputs.length).toBe(new Set(inputs).size);
  });

  it("makes no embeddings request on a second run: the vectors come from the cache", () => {
    expect(embeddingsAfterSecond).toBe(embeddingsAfterFirst);
    for (const prompt of ["near", "self", "budget"]) {
      for (const test of tests) {
        expect(caseOf(second, prompt, test.id).shots).toEqual(caseOf(first, prompt, test.id).shots);
      }
    }
    const cache = openCache(join(dir, ".promptsmith/cache.db"));
    try {
      // 8 train + 4 test texts under test-embedding, 4 test texts under the default model.
      expect(cache.stats().embeddings).toBe(16);
    } finally {
      cache.close();
    }
  });

  it("records the embedding model in the run's config", () => {
    const near = first.config.prompts.find((p) => p.id === "near")!;
    expect(near.shots).toMatchObject({ select: "embedding", embedding: { model: "test-embedding" } });
  });
});

describe("commands that send nothing", () => {
  it("estimate stands in BM25 shots for embedding ones, says so, and sends no request", async () => {
    const before = server.requests.length;
    const suite = await loadConfig(dir, { env: {} });
    const result = await estimate({ suite, env: { OPENAI_BASE_URL: server.url } });
    expect(server.requests.length).toBe(before);
    expect(result.rows.map((row) => row.prompt)).toEqual(["near", "self", "budget"]);
    expect(result.rows.every((row) => row.requests === tests.length && row.promptTokens > 0)).toBe(true);
    expect(
      result.assumptions.some((line) =>
        line.includes("select: embedding shots estimated with select: similar"),
      ),
    ).toBe(true);
  });

  it("render refuses select: embedding with a usage error and a hint", async () => {
    const suite = await loadConfig(dir, { env: {} });
    const error = await renderPrompt({ suite, prompts: ["near"] }).catch((e: unknown) => e);
    expect(isUserError(error) && error.code).toBe("usage");
    expect((error as Error).message).toContain(
      "select: embedding needs vectors from the embeddings endpoint",
    );
    expect(isUserError(error) && error.hint).toMatch(/promptsmith eval/);
  });
});
