import { DEFAULT_COMPARE } from "../config/defaults.js";
import type { PromptSpec, Suite } from "../config/types.js";
import { priceOf } from "../providers/pricing.js";
import type { ProviderSpec } from "../providers/types.js";
import type { RecordConfig } from "./types.js";

/**
 * The provider's list price, so a record's cost can be read without the price table of its day.
 * Free providers (local, echo, a replayed cassette) and unknown prices record none.
 */
function pricedAt(spec: ProviderSpec): { price?: { input: number; output: number } } {
  const price = priceOf(spec);
  return price && (price.input > 0 || price.output > 0)
    ? { price: { input: price.input, output: price.output } }
    : {};
}

/** The config as recorded in a run: paths and parameters, never an API key (only the variable's name). */
export function toRecordConfig(
  suite: Suite,
  prompts = suite.prompts,
  providers = suite.providers,
): RecordConfig {
  return {
    ...(suite.description !== undefined ? { description: suite.description } : {}),
    configPath: suite.configPath,
    providers: providers.map((p) => ({
      id: p.id,
      label: p.label,
      ...(p.baseURL !== undefined ? { baseURL: p.baseURL } : {}),
      params: p.params,
      ...(p.completions ? { completions: true } : {}),
      ...pricedAt(p),
    })),
    prompts: prompts.map((p: PromptSpec) => ({
      id: p.id,
      ...(p.baseId !== p.id ? { baseId: p.baseId } : {}),
      ...(p.sweep ? { sweep: p.sweep } : {}),
      ...(p.templatePath !== undefined ? { templatePath: p.templatePath } : {}),
      template: p.template,
      ...(p.shots ? { shots: p.shots } : {}),
      ...(p.cot ? { cot: p.cot } : {}),
      ...(p.samples > 1 ? { samples: p.samples } : {}),
      ...(p.params ? { params: p.params } : {}),
      ...(p.context ? { context: p.context } : {}),
      ...(p.extract
        ? { extract: { templatePath: p.extract.templatePath, template: p.extract.template } }
        : {}),
      ...(p.thresholds ? { thresholds: p.thresholds } : {}),
    })),
    tests: { ...suite.tests },
    scorers: suite.scorers.map((s) => ({ ...s })),
    ...(suite.baseline ? { baseline: { ...suite.baseline } } : {}),
    // A suite built in code may leave these out: the defaults then, as the config would give.
    compare: { ...DEFAULT_COMPARE, ...suite.compare },
    ...(suite.thresholds ? { thresholds: { ...suite.thresholds } } : {}),
    ...(suite.repeat && suite.repeat.k > 1 ? { repeat: { ...suite.repeat } } : {}),
    ...(suite.combine ? { combine: suite.combine } : {}),
    ...judgesOf(suite),
  };
}

/** The judges' providers (a scorer's `provider`, resolved by the config to a spec), once per label. */
function judgesOf(suite: Suite): Pick<RecordConfig, "judges"> {
  const judges = new Map<string, NonNullable<RecordConfig["judges"]>[number]>();
  for (const scorer of suite.scorers) {
    const spec = scorer.provider as ProviderSpec | undefined;
    if (typeof spec !== "object" || spec === null || judges.has(spec.label)) continue;
    judges.set(spec.label, { id: spec.id, label: spec.label, ...pricedAt(spec) });
  }
  return judges.size > 0 ? { judges: [...judges.values()] } : {};
}
