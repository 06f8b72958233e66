import type { CaseResult, RunRecord } from "../../src/record/types.js";
import { createSummaryAccumulator } from "../../src/stats/summary.js";

/** A case's outcome in a synthetic run. */
export type Verdict = "pass" | "fail" | "unparsed" | "error";

/** Options of syntheticRecord. */
export interface SyntheticOptions {
  /** How many cases (ids "c0", "c1", …, unless `id` says otherwise). */
  cases: number;
  /** The variants, each run on every case. */
  variants: { prompt: string; provider: string }[];
  /** The outcome of case i in variant v. */
  verdict: (i: number, v: number) => Verdict;
  /** The model's answer of case i in variant v (default "answer i"). */
  output?: (i: number, v: number) => string;
  id?: (i: number) => string;
  /** Any other fields of a case (vars, reasoning, samples…). */
  extra?: (i: number, v: number) => Partial<CaseResult>;
  description?: string;
  prompts?: RunRecord["config"]["prompts"];
}

/** A run record built case by case, its summary computed by the project's own summary code. */
export function syntheticRecord(options: SyntheticOptions): RunRecord {
  const cases: CaseResult[] = [];
  const summary = createSummaryAccumulator();
  for (let i = 0; i < options.cases; i++) {
    options.variants.forEach((variant, v) => {
      const verdict = options.verdict(i, v);
      const output = verdict === "error" ? null : (options.output?.(i, v) ?? `answer ${i}`);
      const result: CaseResult = {
        id: options.id?.(i) ?? `c${i}`,
        prompt: variant.prompt,
        provider: variant.provider,
        vars: { question: `What is ${i} + ${i}?` },
        messages: [
          { role: "system", content: "Answer with a number." },
          { role: "user", content: `What is ${i} + ${i}?` },
        ],
        output,
        extracted: verdict === "pass" ? String(2 * i) : verdict === "fail" ? String(2 * i + 1) : null,
        expected: 2 * i,
        pass: verdict === "pass",
        score: verdict === "pass" ? 1 : 0,
        reason: verdict === "pass" ? "equal" : verdict === "unparsed" ? "no number found" : "not equal",
        unparsed: verdict === "unparsed",
        latencyMs: 100 + ((i * 37 + v * 11) % 400),
        tokens: { prompt: 20, completion: 5 },
        error: verdict === "error" ? { kind: "server", message: "500 upstream" } : null,
        ...options.extra?.(i, v),
      };
      cases.push(result);
      summary.add(result);
    });
  }
  return {
    version: 1,
    runId: "20260101-000000-test",
    seed: 1,
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:05.000Z",
    status: "complete",
    config: {
      ...(options.description ? { description: options.description } : {}),
      configPath: "/project/promptsmith.yaml",
      providers: [],
      prompts: options.prompts ?? [],
      tests: { path: "/project/data/test.jsonl", expected: "answer" },
      scorers: [{ type: "numeric" }],
    },
    summary: summary.rows(),
    cases,
  };
}
