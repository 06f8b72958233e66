import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, loadConfig } from "../../src/index.js";
import type { CaseResult, RunRecord } from "../../src/record/types.js";
import { copyFixture, runCli } from "../helpers/cli.js";
import { type RequestBody, startTestServer, type TestServer } from "../helpers/openai-test-server.js";

const GOLD: Record<string, number> = {
  "How many legs does a dog have?": 4,
  "How many days are in a leap year?": 366,
  "How many sides does a hexagon have?": 6,
};

function lastUser(body: RequestBody): string {
  return String([...(body.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "");
}

function goldIn(text: string): number {
  const question = Object.keys(GOLD).find((q) => text.includes(q));
  if (question === undefined) throw new Error(`no known question in ${text}`);
  return GOLD[question];
}

/**
 * A scripted model. Sweep prompts: with no examples it answers [right, wrong, wrong]; with two,
 * [right, right, wrong]. CoT: reasons inside <think> and ends on a wrong number, which the
 * extraction call then corrects. RAG: answers right.
 */
function model(body: RequestBody): string | string[] {
  const user = lastUser(body);
  const gold = goldIn(user);
  if (user.includes("Therefore, the final answer")) return `${gold}`;
  if (user.endsWith("Let's think step by step."))
    return "<think>counting carefully</think>So I would say 41.";
  if (user.startsWith("[")) return `The answer is ${gold}.`;
  const k = (user.match(/^A: /gm) ?? []).length;
  return k === 0 ? [`${gold}`, `${gold + 1}`, `${gold + 1}`] : [`${gold}`, `${gold}`, `${gold + 1}`];
}

let server: TestServer;
let record: RunRecord;
const byPrompt = (prompt: string) => record.summary.find((s) => s.prompt === prompt)!;
const caseOf = (prompt: string, id: string): CaseResult =>
  record.cases.find((c) => c.prompt === prompt && c.id === id)!;

beforeAll(async () => {
  server = await startTestServer({ respond: model });
  const suite = await loadConfig(copyFixture("techniques"), { env: {} });
  ({ record } = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url }, concurrency: 4 }));
});
afterAll(async () => {
  await server.close();
});

describe("a k × select sweep with self-consistency", () => {
  it("expands into one variant per combination, named by the swept values", () => {
    expect(record.summary.map((s) => s.prompt)).toEqual([
      "sweep@k=0,select=first",
      "sweep@k=0,select=similar",
      "sweep@k=2,select=first",
      "sweep@k=2,select=similar",
      "cot",
      "rag",
    ]);
  });

  it("reports maj@3, single-sample accuracy and agreement as computed by hand", () => {
    for (const select of ["first", "similar"]) {
      // No examples: 1 of 3 samples right, the two wrong ones agree → the vote is wrong.
      const none = byPrompt(`sweep@k=0,select=${select}`);
      expect(none).toMatchObject({ total: 3, passed: 0, failed: 3, accuracy: 0 });
      expect(none.samples!.n).toBe(3);
      expect(none.samples!.singleAccuracy).toBeCloseTo(1 / 3, 10);
      expect(none.samples!.agreement).toBeCloseTo(2 / 3, 10);
      // Two examples: 2 of 3 right → the vote is right.
      const two = byPrompt(`sweep@k=2,select=${select}`);
      expect(two).toMatchObject({ total: 3, passed: 3, accuracy: 1 });
      expect(two.samples!.singleAccuracy).toBeCloseTo(2 / 3, 10);
      expect(two.samples!.agreement).toBeCloseTo(2 / 3, 10);
    }
  });

  it("asks for the samples in one request with n, and keeps every sample", () => {
    const sweepRequests = server.completionRequests().filter((r) => r.body?.n === 3);
    // 4 variants × 3 cases, but k=0 renders the same prompt for both select strategies: those
    // 3 jobs share the other variant's call instead of paying for it again.
    expect(sweepRequests).toHaveLength(9);
    expect(caseOf("sweep@k=0,select=similar", "q1").samples).toEqual(
      caseOf("sweep@k=0,select=first", "q1").samples?.map((s) => ({ ...s, cached: true })),
    );
    const c = caseOf("sweep@k=2,select=first", "q1");
    expect(c.samples!.map((s) => s.extracted)).toEqual(["4", "4", "5"]);
    expect(c.extracted).toBe("4");
    expect(c.agreement).toBeCloseTo(2 / 3, 10);
    expect(c.reason).toContain("maj@3");
  });

  it("records the shots each case used: first takes the first rows, similar the nearest by BM25", () => {
    expect(caseOf("sweep@k=2,select=first", "q3").shots).toEqual(["t1", "t2"]);
    expect(caseOf("sweep@k=2,select=similar", "q3").shots).toEqual(["t4", "t1"]);
    expect(caseOf("sweep@k=0,select=first", "q3").shots).toEqual([]);
    const hashes = new Set(record.cases.filter((c) => c.id === "q3").map((c) => c.promptHash));
    // k=0 renders the same prompt for both strategies; the others differ.
    expect(hashes.size).toBe(record.summary.length - 1);
  });
});

describe("chain-of-thought with two-stage extraction", () => {
  it("appends the trigger at the answer position", () => {
    expect(caseOf("cot", "q1").messages.at(-1)!.content).toBe(
      "Q: How many legs does a dog have?\nA: Let's think step by step.",
    );
  });

  it("strips <think> reasoning before scoring, keeps it, and scores the extraction call's answer", () => {
    const c = caseOf("cot", "q2");
    expect(c.reasoning).toBe("counting carefully");
    expect(c.output).toBe("So I would say 41.");
    expect(c.extraction!.messages.at(-1)!.content).toContain(
      "<think>counting carefully</think>So I would say 41.",
    );
    expect(c.extraction!.output).toBe("366");
    expect(c).toMatchObject({ pass: true, extracted: "366" });
    expect(byPrompt("cot").accuracy).toBe(1);
  });
});

describe("knowledge-enhanced prompts", () => {
  it("retrieves the best passage per case by BM25 and records it", () => {
    expect(caseOf("rag", "q1").context![0].source).toBe("animals.md");
    expect(caseOf("rag", "q2").context![0].source).toBe("calendar.md");
    expect(caseOf("rag", "q3").context![0].source).toBe("shapes.md");
    expect(caseOf("rag", "q2").messages[0].content).toContain("A leap year has 366 days");
  });
});

describe("the cache", () => {
  it("replays every sample on a second run: zero requests", async () => {
    const before = server.completionRequests().length;
    const suite = await loadConfig(record.config.configPath, { env: {} });
    const again = await evaluate({ suite, env: { OPENAI_BASE_URL: server.url } });
    expect(server.completionRequests().length).toBe(before);
    expect(again.record.summary.map((s) => s.accuracy)).toEqual(record.summary.map((s) => s.accuracy));
    expect(again.record.summary.every((s) => s.cacheHits === s.total)).toBe(true);
  });
});

describe("the same sweep through the CLI", () => {
  it("prints the hand-computed maj@3, single-sample accuracy and agreement in --json", async () => {
    const run = await runCli(["eval", copyFixture("techniques"), "--json", "--filter-prompt", "sweep"], {
      env: { OPENAI_BASE_URL: server.url },
    });
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout).summary as {
      prompt: string;
      accuracy: number;
      samples: { n: number; singleAccuracy: number; agreement: number };
    }[];
    expect(rows.map((r) => [r.prompt, r.accuracy, r.samples.n])).toEqual([
      ["sweep@k=0,select=first", 0, 3],
      ["sweep@k=0,select=similar", 0, 3],
      ["sweep@k=2,select=first", 1, 3],
      ["sweep@k=2,select=similar", 1, 3],
    ]);
    for (const r of rows) {
      expect(r.samples.singleAccuracy).toBeCloseTo(r.accuracy === 0 ? 1 / 3 : 2 / 3, 10);
      expect(r.samples.agreement).toBeCloseTo(2 / 3, 10);
    }
  });
});
