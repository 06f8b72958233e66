import type { CaseResult, RunRecord } from "../../src/record/types.js";
import { createSummaryAccumulator } from "../../src/stats/summary.js";
import { caseResult } from "./records.js";

/**
 * A whole run record around `cases`, its summary computed by the project's own accumulator (as a
 * run computes it), so a reporter's counts can be checked against the summary's.
 */
export function recordOf(cases: CaseResult[], extra: Partial<RunRecord> = {}): RunRecord {
  const summary = createSummaryAccumulator();
  for (const result of cases) summary.add(result);
  return {
    version: 1,
    runId: "20260101-000000-abcd",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:02.500Z",
    status: "complete",
    config: {
      description: "ci demo",
      configPath: "/x/promptsmith.yaml",
      providers: [],
      prompts: [],
      tests: { path: "/x/t.jsonl", expected: "answer" },
      scorers: [],
    },
    summary: summary.rows(),
    cases,
    ...extra,
  };
}

/** Model output no report may pass through as it is: markup, control characters, a lone surrogate. */
export const HOSTILE_OUTPUT =
  'I think ]]> <script>alert("x")</script> & <img src=x onerror=1> | col | `tick` \u001b[31mred\u0007 \ud800 **bold** [link](http://e.x) $x$\n# heading\n- item';

/**
 * Cases of two variants: "plain" (2 passed, 1 wrong, 1 unparsed, 1 errored) and "cot" (3 passed,
 * 1 wrong whose output is hostile).
 */
export function mixedCases(): CaseResult[] {
  const plain = (id: string, output: string, extra: Partial<CaseResult> = {}) =>
    caseResult(id, output, { prompt: "plain", provider: "openai:m", ...extra });
  const cot = (id: string, output: string, extra: Partial<CaseResult> = {}) =>
    caseResult(id, output, { prompt: "cot", provider: "openai:m", ...extra });
  return [
    plain("a", "4"),
    plain("b", "4"),
    plain("c", "5", { reason: "expected 4, got 5" }),
    plain("d", "I can't", { extracted: null, unparsed: true, reason: "no number found" }),
    plain("e|1", "", {
      output: null,
      extracted: null,
      reason: "error: 503",
      error: { kind: "server", message: "503 <Service Unavailable> & \u0000 gone" },
    }),
    cot("a", "4"),
    cot("b", "4"),
    cot("c", "4"),
    cot("d", HOSTILE_OUTPUT, { extracted: "1", reason: "expected 4, got 1 | really" }),
  ];
}

/** The hostile output's escape and bell characters taken out, as reports remove them. */
export function withoutControls(text: string): string {
  return text.replaceAll("\u001b", "").replaceAll("\u0007", "");
}
