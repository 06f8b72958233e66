import { expect } from "vitest";
import { createScorer, createScorers } from "../../../src/scorers/registry.js";
import type { ScoreResult, ScorerSpec } from "../../../src/scorers/types.js";

/** Builds the scorer named by `spec` through the registry, scores one output, and checks the reason is filled. */
export async function score(
  spec: ScorerSpec | ScorerSpec[],
  output: string,
  expected?: unknown,
  options: { baseDir?: string; vars?: Record<string, unknown> } = {},
): Promise<ScoreResult> {
  const baseDir = options.baseDir ?? process.cwd();
  const scorer = Array.isArray(spec)
    ? await createScorers(spec, { baseDir })
    : await createScorer(spec, { baseDir });
  const result = await scorer({ output, expected, vars: options.vars ?? {} });
  expect(result.reason.trim()).not.toBe("");
  expect(result.score).toBeGreaterThanOrEqual(0);
  expect(result.score).toBeLessThanOrEqual(1);
  // A combination that is unparsed keeps the mean score of its parts.
  if (result.unparsed && !Array.isArray(spec)) {
    expect(result).toMatchObject({ pass: false, score: 0, extracted: null });
  }
  return result;
}
