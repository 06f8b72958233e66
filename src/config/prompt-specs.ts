import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ProviderSpec } from "../providers/types.js";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import { CONTEXT_DEFAULTS, DEFAULT_COT_TRIGGER, MAX_PROMPT_VARIANTS, SHOTS_DEFAULTS } from "./defaults.js";
import { resolveExistingFile } from "./files.js";
import { checkParams } from "./provider-specs.js";
import type { SweepableField } from "./schema.js";
import {
  type ContextBase,
  normalizeContext,
  normalizeShots,
  type PartPlan,
  plainValue,
  type ShotsBase,
} from "./shots-specs.js";
import { type ConfigPath, formatConfigPath } from "./source.js";
import { countVariants, expandSweeps, type SweepAxis, type SweepValue } from "./sweep.js";
import { checkNoList, readSweepable, SWEEPABLE_FIELDS, type SweepableRead } from "./sweep-values.js";
import type { ContextSpec, ExtractSpec, PromptSpec, ShotSelect, ShotsSpec, Thresholds } from "./types.js";

export { BUILTIN_PREFIX } from "./shots-specs.js";

/** Settings of the whole suite that prompts inherit. */
export interface PromptDefaults {
  /** The suite seed: the default `shots.seed`. */
  seed: number;
  /** The suite's providers: `shots.embedding` takes its endpoint from one of them. */
  providers: readonly ProviderSpec[];
}

/** A template as a variant gets it: the source, and the file it came from unless inline. */
interface TemplateChoice {
  templatePath?: string;
  template: string;
}

/** What each sweepable field gives a variant, once resolved. */
interface Choices {
  template: TemplateChoice;
  cot: string | undefined;
  samples: number;
  "shots.from": string;
  "shots.k": number;
  "shots.select": ShotSelect;
  "shots.as": ShotsSpec["as"];
  "shots.order": ShotsSpec["order"];
  "context.k": number;
}

/** One configured prompt, checked, before its sweeps are expanded. */
interface PromptPlan {
  index: number;
  baseId: string;
  /** Where a problem with the prompt's id points (its `id:`, else what the id was made from). */
  idAt: ConfigPath;
  fixed: Partial<Choices>;
  axes: SweepAxis<Choices[SweepableField]>[];
  shots?: ShotsBase;
  context?: ContextBase;
  extract?: ExtractSpec;
  params?: Record<string, unknown>;
  thresholds?: Thresholds;
}

/**
 * Normalizes `prompts`: string form expanded, exactly one of template/text, templates read, ids
 * defaulted (file basename, else `prompt-<n>`) and unique, shots/context/extract checked, and
 * sweeps (fields written as lists) expanded into one PromptSpec per combination.
 */
export async function normalizePrompts(
  raw: unknown,
  ctx: NormalizeContext,
  defaults: PromptDefaults,
): Promise<PromptSpec[]> {
  if (!Array.isArray(raw)) return [];
  const plans: PromptPlan[] = [];
  const ids = new Map<string, number>();
  for (const [index, entry] of raw.entries()) {
    const plan = await planPrompt(entry, index, ids, ctx, defaults);
    if (plan) plans.push(plan);
  }

  const counts = plans.map((plan) => countVariants(plan.axes));
  const total = counts.reduce((sum, count) => sum + count, 0) + (raw.length - plans.length);
  if (total > MAX_PROMPT_VARIANTS) {
    const largest = counts.reduce((best, count, i) => (count > counts[best] ? i : best), 0);
    const plan = plans[largest] as PromptPlan | undefined;
    const split = "split the comparison into several configs";
    const hint =
      plan && plan.axes.length > 0
        ? `${formatConfigPath(["prompts", plan.index])} alone gives ${counts[largest]} (${plan.axes
            .map((axis) => `${axis.values.length} ${axis.field}`)
            .join(" × ")}): shorten the swept lists, or ${split}`
        : split;
    ctx.problems.add({
      path: ["prompts"],
      message: `the prompts expand to ${total} variants, more than the limit of ${MAX_PROMPT_VARIANTS}`,
      hint,
    });
    return [];
  }

  const specs: PromptSpec[] = [];
  const variantOwners = new Map<string, number>();
  for (const plan of plans) {
    for (const variant of expandSweeps(plan.baseId, plan.axes, MAX_PROMPT_VARIANTS)) {
      const owner = variantOwners.get(variant.id);
      if (owner !== undefined) {
        // Base ids are unique and list values too, so only an id holding `@` can meet another's variant.
        ctx.problems.add({
          path: plan.idAt,
          message: `duplicate prompt variant id ${JSON.stringify(variant.id)} (${formatConfigPath(["prompts", owner])} gives it too)`,
          hint: "give the prompts ids that differ before the `@`",
        });
        break;
      }
      variantOwners.set(variant.id, plan.index);
      specs.push(buildSpec(plan, variant.id, variant.sweep, { ...plan.fixed, ...variant.values }));
    }
  }
  return specs;
}

async function planPrompt(
  entry: unknown,
  index: number,
  ids: Map<string, number>,
  ctx: NormalizeContext,
  defaults: PromptDefaults,
): Promise<PromptPlan | undefined> {
  const at: ConfigPath = ["prompts", index];
  const written = typeof entry === "string";
  const fields = written ? { template: entry } : isRecord(entry) ? entry : undefined;
  if (!fields) return undefined;
  const templateAt = written ? at : [...at, "template"];
  const hasTemplate = fields.template !== undefined;
  checkTemplateOrText(fields, at, ctx, {
    what: "a prompt",
    neitherHint: "add `template: templates/<name>.hbs`, or `text: …` for a short inline template",
  });
  let ok = written || checkNoList(fields, ["id", "text"], at, ctx);

  const reads = new Map<SweepableField, SweepableRead<unknown>>();
  const keep = (result: { ok: boolean; read?: SweepableRead<unknown> }) => {
    ok &&= result.ok;
    if (result.read) reads.set(result.read.field, result.read);
  };
  if (hasTemplate) {
    keep(
      await readSweepable(fields.template, "template", templateAt, ctx, {
        example: "template: [templates/a.hbs, templates/b.hbs]",
        convert: (file, valueAt) => loadTemplate(file, valueAt, written, ctx),
      }),
    );
  }
  keep(
    await readSweepable(fields.cot, "cot", [...at, "cot"], ctx, {
      example: "cot: [false, true]",
      convert: (value): SweepValue<string | undefined> => ({
        value: value === true ? DEFAULT_COT_TRIGGER : value === false ? undefined : value,
        label: String(value),
        recorded: value,
      }),
    }),
  );
  keep(
    await readSweepable(fields.samples, "samples", [...at, "samples"], ctx, {
      example: "samples: [1, 5]",
      convert: plainValue,
    }),
  );

  const baseId = promptId(fields, index);
  const explicitId = isNonEmptyString(fields.id);
  const idAt = explicitId ? [...at, "id"] : typeof fields.template === "string" ? templateAt : at;
  const first = ids.get(baseId);
  if (first !== undefined) {
    ctx.problems.add({
      path: idAt,
      message: `duplicate prompt id ${JSON.stringify(baseId)} (${formatConfigPath(["prompts", first])} has it too)`,
      hint: explicitId ? "give each prompt a different id" : "add an `id:` to tell them apart",
    });
    ok = false;
  } else ids.set(baseId, index);

  let shots: PartPlan<ShotsBase> | undefined;
  if (isRecord(fields.shots)) {
    shots = await normalizeShots(fields.shots, [...at, "shots"], ctx, defaults.seed, defaults.providers);
    ok &&= shots !== undefined;
    for (const [field, read] of shots?.reads ?? []) reads.set(field, read);
  }
  let context: PartPlan<ContextBase> | undefined;
  if (isRecord(fields.context)) {
    context = await normalizeContext(fields.context, [...at, "context"], ctx);
    ok &&= context !== undefined;
    for (const [field, read] of context?.reads ?? []) reads.set(field, read);
  }
  const extract = isRecord(fields.extract)
    ? await normalizeExtract(fields.extract, [...at, "extract"], ctx)
    : undefined;
  ok &&= fields.extract === undefined || extract !== undefined;
  const paramsOk = checkParams(fields.params, [...at, "params"], ctx);
  ok &&= paramsOk;
  if (!hasTemplate && isNonEmptyString(fields.text)) {
    reads.set("template", { field: "template", list: false, values: [plainTemplate(fields.text)] });
  }
  if (!ok || !reads.has("template")) return undefined;

  const fixed: Partial<Record<SweepableField, unknown>> = {};
  for (const [field, read] of reads) if (!read.list) fixed[field] = read.values[0].value;
  const plan: PromptPlan = {
    index,
    baseId,
    idAt,
    fixed: fixed as Partial<Choices>,
    axes: sweepOrder(fields).flatMap((field) => {
      const read = reads.get(field);
      return read?.list ? [{ field, values: read.values as SweepValue<Choices[SweepableField]>[] }] : [];
    }),
  };
  if (shots) plan.shots = shots.base;
  if (context) plan.context = context.base;
  if (extract) plan.extract = extract;
  if (isRecord(fields.params)) plan.params = { ...fields.params };
  // Shape checked by the schema (thresholdsSchema); every variant of a sweep is held to them.
  if (isRecord(fields.thresholds)) plan.thresholds = { ...fields.thresholds };
  return plan;
}

// The id a prompt goes by: its `id:`, else its template's file name, else its position.
function promptId(fields: Record<string, unknown>, index: number): string {
  if (isNonEmptyString(fields.id)) return fields.id;
  if (isNonEmptyString(fields.template)) return path.basename(fields.template, path.extname(fields.template));
  return `prompt-${index + 1}`;
}

// Sweepable fields in the order the prompt wrote them, `shots.*`/`context.*` where their block is.
function sweepOrder(fields: Record<string, unknown>): SweepableField[] {
  const order: string[] = [];
  for (const key of Object.keys(fields)) {
    const nested = fields[key];
    if ((key === "shots" || key === "context") && isRecord(nested))
      order.push(...Object.keys(nested).map((inner) => `${key}.${inner}`));
    else order.push(key);
  }
  return order.filter((field): field is SweepableField =>
    (SWEEPABLE_FIELDS as readonly string[]).includes(field),
  );
}

function buildSpec(
  plan: PromptPlan,
  id: string,
  sweep: Record<string, unknown> | undefined,
  choices: Partial<Choices>,
): PromptSpec {
  const template = choices.template as TemplateChoice;
  const spec: PromptSpec = {
    id,
    baseId: plan.baseId,
    template: template.template,
    samples: choices.samples ?? 1,
  };
  if (sweep) spec.sweep = sweep;
  if (template.templatePath) spec.templatePath = template.templatePath;
  if (plan.shots) {
    const select = choices["shots.select"] ?? SHOTS_DEFAULTS.select;
    const order = choices["shots.order"] ?? SHOTS_DEFAULTS.order;
    const shots: ShotsSpec = {
      from: choices["shots.from"] as string,
      k: choices["shots.k"] as number,
      select,
      seed: plan.shots.seed,
      field: plan.shots.field,
      label: plan.shots.label,
      as: choices["shots.as"] ?? SHOTS_DEFAULTS.as,
      order,
      // A variant of a sweep that chooses nothing at random would repeat identical draws.
      draws: select === "random" || order === "random" ? plan.shots.draws : 1,
    };
    if (plan.shots.maxTokens !== undefined) shots.maxTokens = plan.shots.maxTokens;
    if (plan.shots.embedding && (select === "embedding" || plan.shots.embeddingWritten))
      shots.embedding = { ...plan.shots.embedding };
    if (plan.shots.leak !== undefined) shots.leak = plan.shots.leak;
    spec.shots = shots;
  }
  if (choices.cot !== undefined) spec.cot = choices.cot;
  if (plan.extract) spec.extract = { ...plan.extract };
  if (plan.params) spec.params = { ...plan.params };
  if (plan.thresholds) spec.thresholds = { ...plan.thresholds };
  if (plan.context) {
    const context: ContextSpec = {
      corpus: plan.context.corpus,
      k: choices["context.k"] ?? CONTEXT_DEFAULTS.k,
      field: plan.context.field,
    };
    if (plan.context.exclude) context.exclude = plan.context.exclude;
    spec.context = context;
  }
  return spec;
}

function plainTemplate(text: string): SweepValue<TemplateChoice> {
  return { value: { template: text }, label: text, recorded: text };
}

// A template file as a sweep value: read, and named in ids by its file name without extension.
async function loadTemplate(
  written: string,
  at: ConfigPath,
  stringForm: boolean,
  ctx: NormalizeContext,
): Promise<SweepValue<TemplateChoice> | undefined> {
  const templatePath = await resolveTemplate(written, at, stringForm, ctx);
  if (!templatePath) return undefined;
  const template = await readTemplate(templatePath, at, ctx);
  if (template === undefined) return undefined;
  const label = path.basename(templatePath, path.extname(templatePath));
  return { value: { templatePath, template }, label, recorded: label };
}

async function resolveTemplate(
  written: string,
  at: ConfigPath,
  stringForm: boolean,
  ctx: NormalizeContext,
): Promise<string | undefined> {
  // A string that reads like a template rather than a path was most likely meant inline.
  if (written.includes("{{") || written.includes("\n")) {
    ctx.problems.add({
      code: "template-not-found",
      path: at,
      message: `expected a template file path, received ${JSON.stringify(written)}`,
      hint: stringForm
        ? "to write a template inline, use `- text: …` (or `- id: …` with `text: |` for several lines)"
        : "to write the template inline, use `text:` instead of `template:`",
    });
    return undefined;
  }
  return resolveExistingFile(ctx, at, written, { what: "template", code: "template-not-found" });
}

async function readTemplate(
  absolute: string,
  at: ConfigPath,
  ctx: NormalizeContext,
): Promise<string | undefined> {
  try {
    return await readFile(absolute, "utf8");
  } catch (error) {
    ctx.problems.add({
      code: "template-not-found",
      path: at,
      message: `cannot read template ${absolute}: ${error instanceof Error ? error.message : String(error)}`,
      hint: "check the file's permissions",
    });
    return undefined;
  }
}

/**
 * Checks that exactly one of `template` and `text` is given, reporting the problem otherwise;
 * prompts and `extract` share the rule and its wording.
 */
function checkTemplateOrText(
  fields: Record<string, unknown>,
  at: ConfigPath,
  ctx: NormalizeContext,
  words: { what: string; neitherHint: string },
): boolean {
  const hasTemplate = fields.template !== undefined;
  const hasText = fields.text !== undefined;
  if (hasTemplate && hasText) {
    ctx.problems.add({
      path: [...at, "text"],
      atKey: true,
      message: `${words.what} takes either \`template\` (a file) or \`text\` (inline), not both`,
      hint: "keep one of them",
    });
    return false;
  }
  if (!hasTemplate && !hasText) {
    ctx.problems.add({
      path: at,
      message: "expected `template` (a file) or `text` (an inline template), received neither",
      hint: words.neitherHint,
    });
    return false;
  }
  return true;
}

/** Normalizes `extract`: exactly one of `template` (a file, read now) and `text`. */
async function normalizeExtract(
  fields: Record<string, unknown>,
  at: ConfigPath,
  ctx: NormalizeContext,
): Promise<ExtractSpec | undefined> {
  const ok = checkTemplateOrText(fields, at, ctx, {
    what: "extract",
    neitherHint:
      "add `template: templates/extract.hbs`, or `text: …`; the template gets the case's fields and `output`",
  });
  if (!ok) return undefined;
  if (!checkNoList(fields, ["template", "text"], at, ctx)) return undefined;
  if (isNonEmptyString(fields.text)) return { template: fields.text };
  if (!isNonEmptyString(fields.template)) return undefined;
  const templatePath = await resolveTemplate(fields.template, [...at, "template"], false, ctx);
  if (!templatePath) return undefined;
  const template = await readTemplate(templatePath, [...at, "template"], ctx);
  return template === undefined ? undefined : { templatePath, template };
}
