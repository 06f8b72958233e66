import { existsSync, writeFileSync } from "node:fs";
import path, { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { evaluate, loadConfig, openCache } from "../../src/index.js";
import { copyFixture } from "../helpers/cli.js";
import { lines } from "../unit/config/helpers.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Random weights: the vectors mean nothing, but they are the model's own, and repeatable.
const MODEL = path.resolve(repoRoot, "../shared/models/llama-2-tiny-random.gguf");

describe("similar with a local model's embeddings", () => {
  it("embeds with node-llama-cpp, caches the vectors, and agrees with its own cosine", async () => {
    expect(existsSync(MODEL)).toBe(true);
    const dir = copyFixture("judge");
    writeFileSync(
      join(dir, "promptsmith.yaml"),
      lines(
        `providers: [echo, { id: 'local:${MODEL}', label: tiny }]`,
        'prompts: [{ id: echo, text: "{{question}}" }]',
        "tests: data/test.jsonl",
        "scorer: { type: similar, threshold: 0.9999, embedding: { provider: tiny } }",
      ),
    );
    writeFileSync(
      join(dir, "data/test.jsonl"),
      `${[
        { id: "same", question: "the cat sat on the mat", expected: "the cat sat on the mat" },
        { id: "other", question: "the cat sat on the mat", expected: "stock prices fell sharply today" },
      ]
        .map((row) => JSON.stringify(row))
        .join("\n")}\n`,
    );
    const suite = await loadConfig(dir, { env: {} });
    expect(suite.scorers[0].embedding).toEqual({ model: `local:${MODEL}` });
    const { record } = await evaluate({ suite, env: {}, filterProvider: ["echo"] });
    const [same, other] = record.cases;
    expect(same).toMatchObject({ pass: true });
    expect(same.score).toBeCloseTo(1, 5);

    // The reference: node-llama-cpp's own embedding and cosine for the same two texts.
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: MODEL });
    const context = await model.createEmbeddingContext({ contextSize: { max: 4096 } });
    const a = await context.getEmbeddingFor("the cat sat on the mat");
    const b = await context.getEmbeddingFor("stock prices fell sharply today");
    const reference = a.calculateCosineSimilarity(b);
    await context.dispose();
    await model.dispose();
    await llama.dispose();
    expect(other.score).toBeCloseTo(Math.max(0, reference), 5);
    expect(other.pass).toBe(reference >= 0.9999);

    const cache = openCache(suite.cache.path);
    const stored = cache.stats().embeddings;
    cache.close();
    expect(stored).toBe(2);
    const again = await evaluate({
      suite: await loadConfig(dir, { env: {} }),
      env: {},
      filterProvider: ["echo"],
    });
    expect(again.record.cases.map((c) => c.score)).toEqual(record.cases.map((c) => c.score));
  });
});
