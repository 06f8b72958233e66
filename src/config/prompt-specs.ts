import { readFile } from "node:fs/promises";
import path from "node:path";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import { checkDatasetExtension, resolveExistingFile } from "./files.js";
import { type ConfigPath, formatConfigPath } from "./source.js";
import type { PromptSpec, ShotsSpec } from "./types.js";

/** Prefix of few-shot sources that ship with promptsmith rather than live on disk. */
export const BUILTIN_PREFIX = "builtin:";

/**
 * Normalizes `prompts`: string form expanded, exactly one of template/text, templates read,
 * ids defaulted (file basename, else `prompt-<n>`) and unique, shots paths checked.
 */
export async function normalizePrompts(raw: unknown, ctx: NormalizeContext): Promise<PromptSpec[]> {
  if (!Array.isArray(raw)) return [];
  const specs: PromptSpec[] = [];
  const ids = new Map<string, number>();
  for (const [index, entry] of raw.entries()) {
    const at: ConfigPath = ["prompts", index];
    const written = typeof entry === "string";
    const fields = written ? { template: entry } : isRecord(entry) ? entry : undefined;
    if (!fields) continue;
    const templateAt = written ? at : [...at, "template"];
    const hasTemplate = fields.template !== undefined;
    const hasText = fields.text !== undefined;
    if (hasTemplate && hasText) {
      ctx.problems.add({
        path: [...at, "text"],
        atKey: true,
        message: "a prompt takes either `template` (a file) or `text` (inline), not both",
        hint: "keep one of them",
      });
    } else if (!hasTemplate && !hasText) {
      ctx.problems.add({
        path: at,
        message: "expected `template` (a file) or `text` (an inline template), received neither",
        hint: "add `template: templates/<name>.hbs`, or `text: …` for a short inline template",
      });
    }

    let template: string | undefined;
    let templatePath: string | undefined;
    if (isNonEmptyString(fields.template)) {
      templatePath = await resolveTemplate(fields.template, templateAt, written, ctx);
      if (templatePath) template = await readTemplate(templatePath, templateAt, ctx);
    } else if (isNonEmptyString(fields.text)) {
      template = fields.text;
    }

    const explicitId = isNonEmptyString(fields.id);
    const id = explicitId
      ? (fields.id as string)
      : isNonEmptyString(fields.template)
        ? path.basename(fields.template, path.extname(fields.template))
        : `prompt-${index + 1}`;
    const first = ids.get(id);
    if (first !== undefined) {
      ctx.problems.add({
        path: explicitId ? [...at, "id"] : templateAt,
        message: `duplicate prompt id ${JSON.stringify(id)} (${formatConfigPath(["prompts", first])} has it too)`,
        hint: explicitId ? "give each prompt a different id" : "add an `id:` to tell them apart",
      });
    } else ids.set(id, index);

    const shots = isRecord(fields.shots)
      ? await normalizeShots(fields.shots, [...at, "shots"], ctx)
      : undefined;
    if (template === undefined || (fields.shots !== undefined && !shots)) continue;
    const spec: PromptSpec = { id, template };
    if (templatePath) spec.templatePath = templatePath;
    if (shots) spec.shots = shots;
    specs.push(spec);
  }
  return specs;
}

async function resolveTemplate(
  written: string,
  at: ConfigPath,
  stringForm: boolean,
  ctx: NormalizeContext,
): Promise<string | undefined> {
  // A string that reads like a template rather than a path was most likely meant inline.
  if (stringForm && (written.includes("{{") || written.includes("\n"))) {
    ctx.problems.add({
      code: "template-not-found",
      path: at,
      message: `expected a template file path, received ${JSON.stringify(written)}`,
      hint: "to write a template inline, use `- text: …` (or `- id: …` with `text: |` for several lines)",
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

async function normalizeShots(
  fields: Record<string, unknown>,
  at: ConfigPath,
  ctx: NormalizeContext,
): Promise<ShotsSpec | undefined> {
  let from: string | undefined;
  if (isNonEmptyString(fields.from)) {
    if (fields.from.startsWith(BUILTIN_PREFIX)) from = fields.from;
    else if (checkDatasetExtension(ctx, [...at, "from"], fields.from)) {
      from = await resolveExistingFile(ctx, [...at, "from"], fields.from, {
        what: "examples file",
        code: "dataset-not-found",
      });
    }
  }
  const k = fields.k;
  if (from === undefined || typeof k !== "number" || !Number.isInteger(k) || k < 0) return undefined;
  return { from, k };
}
