import type { CaseResult } from "../../src/record/types.js";

/** A finished case of prompt "p" whose answer passes when it is "4"; `extra` sets any other field. */
export function caseResult(id: string, output: string, extra: Partial<CaseResult> = {}): CaseResult {
  return {
    id,
    prompt: "p",
    provider: "m",
    vars: { q: "what?" },
    messages: [{ role: "user", content: "what?" }],
    output,
    extracted: output,
    expected: "4",
    pass: output === "4",
    score: output === "4" ? 1 : 0,
    reason: "r",
    unparsed: false,
    latencyMs: 5,
    tokens: { prompt: 1, completion: 1 },
    error: null,
    ...extra,
  };
}
