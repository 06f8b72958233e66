import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Suite } from "../../src/config/types.js";
import { createTokenCounter } from "../../src/fewshot/index.js";
import { evaluate, loadConfig, renderPrompt } from "../../src/index.js";
import { meanAndSd } from "../../src/stats/summary.js";
import { ROOT } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

const CONFIG = join(ROOT, "fixtures/techniques/more.yaml");
let suite: Suite;
let server: TestServer;

/** Right only when the prompt shows the week example (t3): accuracy depends on the draw. */
function model(body: RequestBody): string {
  const text = JSON.stringify(body.messages);
  const gold = text.includes("dog") ? "4" : text.includes("leap") ? "366" : "6";
  return text.includes("days are in a week") ? gold : "0";
}

beforeAll(async () => {
  suite = await loadConfig(CONFIG, { env: {} });
  server = await startTestServer({ respond: model });
});
afterAll(async () => {
  await server.close();
});

describe("shot draws", () => {
  it("re-draws random examples per seed and reports mean ± sd across draws", async () => {
    const { record } = await evaluate({
      suite,
      env: { OPENAI_BASE_URL: server.url },
      filterPrompt: ["draws"],
      cache: "off",
      journal: false,
    });
    const [row] = record.summary;
    expect(row.total).toBe(12);
    expect(row.draws!.n).toBe(4);
    // Recompute each draw's accuracy from the cases themselves.
    const perDraw = [0, 1, 2, 3].map((d) => {
      const cases = record.cases.filter((c) => c.draw === d);
      expect(cases).toHaveLength(3);
      return cases.filter((c) => c.pass).length / 3;
    });
    expect(row.draws!.accuracies).toEqual(perDraw);
    const { mean, sd } = meanAndSd(perDraw);
    expect(row.draws!.mean).toBeCloseTo(mean, 12);
    expect(row.draws!.sd).toBeCloseTo(sd, 12);
    // Different seeds really drew different examples.
    expect(new Set(record.cases.filter((c) => c.id === "q1").map((c) => c.shots![0])).size).toBeGreaterThan(
      1,
    );
    // A case passes exactly when its drawn example was the week one.
    for (const c of record.cases) expect(c.pass).toBe(c.shots![0] === "t3");
  });
});

describe("rendering", () => {
  it("as: turns puts each example before the question as a user/assistant pair", async () => {
    const [r] = await renderPrompt({ suite, caseId: "q1", prompts: ["turns"] });
    expect(r.messages).toEqual([
      { role: "system", content: "Answer with a number." },
      { role: "user", content: "How many legs does a spider have?" },
      { role: "assistant", content: "8" },
      { role: "user", content: "How many wheels does a bicycle have?" },
      { role: "assistant", content: "2" },
      { role: "user", content: "How many legs does a dog have?" },
    ]);
  });

  it("maxTokens drops the least similar examples until the prompt fits", async () => {
    const [r] = await renderPrompt({ suite, caseId: "q1", prompts: ["budget"] });
    const count = await createTokenCounter("test-model");
    const tokens = count(r.messages.map((m) => m.content).join("\n"));
    expect(tokens).toBeLessThanOrEqual(60);
    expect(r.shots!.length).toBeGreaterThan(0);
    expect(r.shots!.length).toBeLessThan(4);
    // The most similar (the spider and the ant: legs) are kept first.
    expect(r.shots![0]).toBe("t1");
  });

  it("balanced selection shows every class first, the most frequent first", async () => {
    const [r] = await renderPrompt({ suite, caseId: "q2", prompts: ["balanced"] });
    expect(r.shots).toEqual(["t1", "t2", "t3"]);
  });

  it("builtin:gsm8k-cot with the bundled template reproduces the Wei et al. prompt format", async () => {
    const [r] = await renderPrompt({ suite, caseId: "q3", prompts: ["gsm8k"] });
    expect(r.messages).toHaveLength(1);
    const text = r.messages[0].content;
    expect(text.startsWith("Q: There are 15 trees in the grove.")).toBe(true);
    expect(text).toContain(
      "A: There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.",
    );
    expect(text.match(/^Q: /gm)).toHaveLength(9);
    expect(text.endsWith("Q: How many sides does a hexagon have?\nA:")).toBe(true);
  });
});
