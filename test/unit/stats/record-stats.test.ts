import { describe, expect, it } from "vitest";
import type { CaseResult, RecordConfig } from "../../../src/record/types.js";
import { createRecordStats } from "../../../src/stats/record-stats.js";

function config(over: Partial<RecordConfig>): RecordConfig {
  return {
    configPath: "promptsmith.yaml",
    providers: [{ id: "openai:answerer", label: "answerer", params: {}, price: { input: 10, output: 20 } }],
    prompts: [{ id: "p", template: "{{q}}" }],
    tests: { path: "data.jsonl", expected: "expected" },
    scorers: [],
    ...over,
  };
}

function result(over: Partial<CaseResult>): CaseResult {
  return {
    id: "1",
    prompt: "p",
    provider: "answerer",
    vars: {},
    messages: [],
    output: "x",
    extracted: null,
    expected: "x",
    pass: true,
    score: 1,
    reason: "ok",
    unparsed: false,
    latencyMs: 1,
    tokens: { prompt: 1000, completion: 100 },
    error: null,
    ...over,
  };
}

describe("a summary row's cost", () => {
  it("adds each judge's tokens at that judge's own price to the answers' cost", () => {
    const stats = createRecordStats({
      config: config({ judges: [{ id: "openai:judge", label: "grader", price: { input: 1, output: 2 } }] }),
    });
    stats.add(result({ judgeTokens: { grader: { prompt: 3000, completion: 400 } } }));
    stats.add(result({ id: "2", judgeTokens: { grader: { prompt: 1000, completion: 100 } } }));
    const [row] = stats.end().summary;
    expect(row.tokens).toEqual({ prompt: 2000, completion: 200 });
    expect(row.judgeTokens).toEqual({ grader: { prompt: 4000, completion: 500 } });
    // By hand: answers 2000 × $10 + 200 × $20, judge 4000 × $1 + 500 × $2, per million tokens.
    expect(row.cost).toBeCloseTo((20_000 + 4_000 + 4_000 + 1_000) / 1e6, 15);
  });

  it("prices a judge that is one of the providers under test at that provider's price", () => {
    const stats = createRecordStats({ config: config({}) });
    stats.add(
      result({
        tokens: { prompt: 0, completion: 0 },
        judgeTokens: { answerer: { prompt: 100, completion: 10 } },
      }),
    );
    expect(stats.end().summary[0].cost).toBeCloseTo((100 * 10 + 10 * 20) / 1e6, 15);
  });

  it("is the judges' alone when the answers are free, and absent when nothing has a price", () => {
    const free = config({
      providers: [{ id: "local:m", label: "local", params: {} }],
      judges: [{ id: "openai:judge", label: "grader", price: { input: 1, output: 2 } }],
    });
    const stats = createRecordStats({ config: free });
    stats.add(result({ provider: "local", judgeTokens: { grader: { prompt: 1000, completion: 1000 } } }));
    expect(stats.end().summary[0].cost).toBeCloseTo(3000 / 1e6, 15);
    const none = createRecordStats({ config: config({ providers: free.providers }) });
    none.add(result({ provider: "local", judgeTokens: { grader: { prompt: 1000, completion: 1000 } } }));
    expect(none.end().summary[0].cost).toBeUndefined();
  });
});
