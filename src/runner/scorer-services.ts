/**
 * What the runner gives scorers that need more than the output: the providers judges ask, whether
 * embeddings are needed, and the baseline's answer to a case for the pairwise judge.
 */
import type { Suite } from "../config/types.js";
import { UserError } from "../errors.js";
import type { ProviderSpec } from "../providers/types.js";
import { asksModel, nativeType } from "../scorers/aliases.js";
import { stripReasoning } from "../scorers/reasoning.js";
import type { ScorerSpec } from "../scorers/types.js";
import { type BoundProvider, type ExecuteContext, generate } from "./execute.js";
import { drawsOf } from "./jobs.js";
import { renderJob, type Variant } from "./prepare.js";

/** The providers the scorers ask (the config resolved each judge's `provider` to a spec), once each. */
export function scorerProviderSpecs(scorers: readonly ScorerSpec[]): ProviderSpec[] {
  const specs: ProviderSpec[] = [];
  const seen = new Set<string>();
  for (const scorer of scorers) {
    if (!asksModel(scorer)) continue;
    const provider = scorer.provider;
    if (typeof provider !== "object" || provider === null) continue;
    const spec = provider as ProviderSpec;
    const key = JSON.stringify(spec);
    if (!seen.has(key)) {
      seen.add(key);
      specs.push(spec);
    }
  }
  return specs;
}

/** Whether any scorer compares embeddings. */
export function usesSimilar(scorers: readonly ScorerSpec[]): boolean {
  return scorers.some((scorer) => nativeType(scorer.type) === "similar");
}

/** Whether any scorer compares with the baseline. */
export function usesPreference(scorers: readonly ScorerSpec[]): boolean {
  return scorers.some((scorer) => nativeType(scorer.type) === "preference");
}

/** The baseline's prompt: `baseline:` (a variant id, or a swept prompt's id with one variant), else the first prompt. */
export function baselinePrompt(suite: Suite): Suite["prompts"][number] {
  const wanted = suite.baseline?.prompt;
  if (wanted === undefined) return suite.prompts[0];
  const exact = suite.prompts.find((p) => p.id === wanted);
  if (exact) return exact;
  const swept = suite.prompts.filter((p) => p.baseId === wanted);
  if (swept.length === 1) return swept[0];
  throw new UserError({
    code: "config-invalid",
    field: "baseline",
    message:
      swept.length > 1
        ? `baseline "${wanted}" is swept into ${swept.length} variants; a pairwise judge needs one`
        : `baseline "${wanted}" names no prompt`,
    hint: `name one variant, e.g. baseline: ${swept[0]?.id ?? suite.prompts[0].id}`,
  });
}

/** Where the baseline's answers come from: its prepared variant, and its provider when not the job's own. */
export interface BaselineSource {
  variant: Variant;
  /** The baseline's provider (`baselineProvider:`); undefined: each job's own provider. */
  bound?: BoundProvider;
}

/**
 * The baseline's answer to a job's case: the baseline prompt rendered for the same case and draw,
 * asked of the baseline provider (the job's own unless `baselineProvider:` names one) as the
 * baseline's own job asks it, so the two share one call: whichever asks first pays and the other
 * waits for it in flight or reads it from the cache. Nothing waits on another job, so no order of
 * jobs can deadlock. With the cache off there is nothing to share, and the answer is asked again.
 * Null when the job is the baseline itself. The first sample's answer counts; run r of a
 * repeated case (`repeat: k`) is compared with the baseline's run r.
 */
export function createBaselineAnswers(
  source: BaselineSource,
  context: ExecuteContext,
): NonNullable<ExecuteContext["baseline"]> {
  const { variant } = source;
  return async (job, tape) => {
    const bound = source.bound ?? job.bound;
    if (job.variant.prompt.id === variant.prompt.id && job.bound.provider.label === bound.provider.label)
      return null;
    const draw = Math.min(job.draw, drawsOf(variant) - 1);
    const rendered = await renderJob(variant, job.testCase, draw);
    // Run r of a repeated case is compared with the baseline's run r (its own sample indices).
    const offset = job.repeat * variant.prompt.samples;
    const generated = await generate(bound, rendered.messages, variant.prompt.params, 1, context, {
      firstIndex: offset,
      tape,
      job,
      call: "baseline",
    });
    return {
      output: stripReasoning(generated.outputs[0].output).answer,
      prompt: variant.prompt.id,
      provider: bound.provider.label,
    };
  };
}
