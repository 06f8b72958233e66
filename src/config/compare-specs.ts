import type { ProviderSpec } from "../providers/types.js";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import { DEFAULT_COMPARE } from "./defaults.js";
import { didYouMean } from "./did-you-mean.js";
import type { CompareSettings, PromptSpec, Suite, Thresholds } from "./types.js";

/** The comparison settings of a suite: baseline, how pairs are judged, gates and repeats. */
export type SuiteComparison = Pick<Suite, "baseline" | "compare" | "thresholds" | "repeat">;

/**
 * Reads `baseline`, `baselineProvider`, `alpha`, `midP`, `bootstrap`, `onError`, `thresholds`,
 * `repeat` and `require`. Shapes are the schema's to report; here the baseline must name a prompt
 * variant and a provider of this config, so a typo is caught before any call is paid for.
 */
export function normalizeComparison(
  fields: Record<string, unknown>,
  ctx: NormalizeContext,
  known: { prompts: PromptSpec[]; providers: ProviderSpec[] },
): SuiteComparison {
  const compare: CompareSettings = {
    alpha:
      typeof fields.alpha === "number" && fields.alpha > 0 && fields.alpha < 1
        ? fields.alpha
        : DEFAULT_COMPARE.alpha,
    bootstrap:
      typeof fields.bootstrap === "number" && Number.isInteger(fields.bootstrap) && fields.bootstrap >= 100
        ? fields.bootstrap
        : DEFAULT_COMPARE.bootstrap,
    midP: fields.midP === true,
    onError: fields.onError === "exclude" ? "exclude" : "fail",
  };
  const k =
    typeof fields.repeat === "number" && Number.isInteger(fields.repeat) && fields.repeat > 0
      ? fields.repeat
      : 1;
  const require = fields.require === "all" || fields.require === "any" ? fields.require : "majority";
  const result: SuiteComparison = { compare, repeat: { k, require } };
  if (isRecord(fields.thresholds)) result.thresholds = { ...fields.thresholds } as Thresholds;

  const baseline: { prompt?: string; provider?: string } = {};
  if (isNonEmptyString(fields.baseline)) {
    const prompt = resolveBaselinePrompt(fields.baseline, known.prompts, ctx);
    if (prompt) baseline.prompt = prompt;
  }
  if (isNonEmptyString(fields.baselineProvider)) {
    const provider = resolveBaselineProvider(fields.baselineProvider, known.providers, ctx);
    if (provider) baseline.provider = provider;
  }
  if (baseline.prompt !== undefined || baseline.provider !== undefined) result.baseline = baseline;
  return result;
}

/** The variant id `baseline:` names: a variant's id, or the id of a prompt with one variant. */
function resolveBaselinePrompt(
  name: string,
  prompts: PromptSpec[],
  ctx: NormalizeContext,
): string | undefined {
  // A config whose prompts failed to normalize has its own problems reported already.
  if (prompts.length === 0) return undefined;
  if (prompts.some((p) => p.id === name)) return name;
  const variants = prompts.filter((p) => p.baseId === name);
  if (variants.length === 1) return variants[0].id;
  if (variants.length > 1) {
    ctx.problems.add({
      path: ["baseline"],
      message: `prompt "${name}" is swept into ${variants.length} variants; the baseline must be one of them`,
      hint: `name one, e.g. baseline: "${variants[0].id}"`,
    });
    return undefined;
  }
  const ids = prompts.map((p) => p.id);
  const near = didYouMean(name, ids);
  ctx.problems.add({
    path: ["baseline"],
    message: `no prompt has the id "${name}"`,
    hint: `${near ? `did you mean "${near}"? ` : ""}the prompts are: ${ids.join(", ")}`,
  });
  return undefined;
}

/** The label of the provider `baselineProvider:` names, by id or label. */
function resolveBaselineProvider(
  name: string,
  providers: ProviderSpec[],
  ctx: NormalizeContext,
): string | undefined {
  const match = providers.find((p) => p.label === name) ?? providers.find((p) => p.id === name);
  if (match) return match.label;
  const labels = providers.map((p) => p.label);
  const near = didYouMean(name, labels);
  ctx.problems.add({
    path: ["baselineProvider"],
    message: `no provider has the id or label "${name}"`,
    hint: `${near ? `did you mean "${near}"? ` : ""}the providers are: ${labels.join(", ")}`,
  });
  return undefined;
}
