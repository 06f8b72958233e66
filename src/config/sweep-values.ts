import type * as z from "zod";
import type { NormalizeContext } from "./context.js";
import { describeValue, problemsFromIssues } from "./problems.js";
import { type SweepableField, sweepElementSchemas } from "./schema.js";
import { type ConfigPath, formatConfigPath } from "./source.js";
import type { SweepAxis, SweepValue } from "./sweep.js";

/** A value of a sweepable field, as its element schema outputs it. */
export type SweepInput<F extends SweepableField> = z.output<(typeof sweepElementSchemas)[F]>;

/** A sweepable field once read: its value(s), checked and converted, with where each was written. */
export interface SweepableRead<T> {
  field: SweepableField;
  /** True when written as a list (even of one value): the field is swept. */
  list: boolean;
  values: SweepValue<T>[];
}

/** How `readSweepable` treats a field. */
export interface ReadSweepableOptions<F extends SweepableField, T> {
  /** Report a missing value (else an absent field reads as no values). */
  required?: boolean;
  /** Turns one checked value into what the variant gets; reports its own problems and returns undefined then. */
  convert: (
    value: SweepInput<F>,
    at: ConfigPath,
  ) => SweepValue<T> | undefined | Promise<SweepValue<T> | undefined>;
  /** How the sweep is written, for the empty-list hint, e.g. `k: [0, 4, 8]`. */
  example: string;
}

/** The result of `readSweepable`: `ok` is false when a problem was reported. */
export interface ReadSweepableResult<T> {
  ok: boolean;
  /** Undefined when the field is absent (and not required) or has a problem. */
  read?: SweepableRead<T>;
}

/**
 * Reads a field that may be one value or a list to sweep over. Every value is checked on its own,
 * so a problem inside a list is located at its element (`prompts[0].shots.k[2]`); a value that
 * reads the same in variant ids as an earlier one is a problem, since it would repeat an id.
 */
export async function readSweepable<F extends SweepableField, T>(
  raw: unknown,
  field: F,
  at: ConfigPath,
  ctx: NormalizeContext,
  options: ReadSweepableOptions<F, T>,
): Promise<ReadSweepableResult<T>> {
  // The config schema lets any value through here (see `sweepable` in schema.ts): this is the check.
  ctx.problems.claim(at);
  const schema = sweepElementSchemas[field] as unknown as z.ZodType<SweepInput<F>>;
  if (raw === undefined && !options.required) return { ok: true };
  const list = Array.isArray(raw);
  const items: Array<{ value: unknown; at: ConfigPath }> = list
    ? (raw as unknown[]).map((value, index) => ({ value, at: [...at, index] }))
    : [{ value: raw, at }];
  if (list && items.length === 0) {
    ctx.problems.add({
      path: at,
      message: "expected at least one value to sweep over, received an empty list",
      hint: `list the values to compare, e.g. ${options.example}, or write one value without brackets`,
    });
    return { ok: false };
  }

  let ok = true;
  const values: SweepValue<T>[] = [];
  const firstAt = new Map<string, ConfigPath>();
  for (const item of items) {
    const checked = check(field, schema, item.value, item.at, ctx);
    if (!checked.ok) {
      ok = false;
      continue;
    }
    const converted = await options.convert(checked.value, item.at);
    if (!converted) {
      ok = false;
      continue;
    }
    const earlier = firstAt.get(converted.label);
    if (list && earlier) {
      ok = false;
      ctx.problems.add({
        path: item.at,
        message: `duplicate sweep value ${leafOf(field)}=${converted.label} (${formatConfigPath(earlier)} has it too): two variants would share an id`,
        hint:
          field === "template" || field === "shots.from"
            ? "variant ids name a file by its file name: list each file once, or give files with the same name their own prompt and id"
            : "list each value once",
      });
      continue;
    }
    firstAt.set(converted.label, item.at);
    values.push(converted);
  }
  return ok ? { ok, read: { field, list, values } } : { ok };
}

function leafOf(field: string): string {
  return field.slice(field.lastIndexOf(".") + 1);
}

function check<F extends SweepableField>(
  field: F,
  schema: z.ZodType<SweepInput<F>>,
  value: unknown,
  at: ConfigPath,
  ctx: NormalizeContext,
): { ok: true; value: SweepInput<F> } | { ok: false } {
  if (
    field === "cot" &&
    value !== undefined &&
    typeof value !== "boolean" &&
    !(typeof value === "string" && value)
  ) {
    // A union's generic "true or false or a string" reads badly; say what each form means.
    ctx.problems.add({
      path: at,
      message: `expected true, false or the trigger text, received ${describeValue(value)}`,
      hint: 'write cot: true for "Let\'s think step by step.", or your own trigger in quotes',
    });
    return { ok: false };
  }
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  // Added directly, not with addIssues: the field is claimed, which would drop them.
  for (const problem of problemsFromIssues(parsed.error.issues, schema, at)) ctx.problems.add(problem);
  return { ok: false };
}

/** The axes of a prompt, in the order their fields were written: the reads that were lists. */
export function axesInOrder<T>(
  order: readonly SweepableField[],
  reads: ReadonlyMap<SweepableField, SweepableRead<T>>,
): SweepAxis<T>[] {
  const axes: SweepAxis<T>[] = [];
  for (const field of order) {
    const read = reads.get(field);
    if (read?.list) axes.push({ field, values: read.values });
  }
  return axes;
}

/** Every field that takes a list of values to sweep over, as written in a prompt. */
export const SWEEPABLE_FIELDS = Object.keys(sweepElementSchemas) as SweepableField[];

/**
 * Reports a list written for a field that takes one value (`shots.draws: [1, 5]`): the schema's
 * "expected a number, received a list" would not say that only some fields can be swept.
 */
export function checkNoList(
  fields: Record<string, unknown>,
  keys: readonly string[],
  at: ConfigPath,
  ctx: NormalizeContext,
): boolean {
  let ok = true;
  for (const key of keys) {
    if (!Array.isArray(fields[key])) continue;
    ok = false;
    ctx.problems.claim([...at, key]);
    ctx.problems.add({
      path: [...at, key],
      message: `expected one value, received a list: \`${key}\` cannot be swept`,
      hint:
        key === "draws"
          ? "draws already repeats the random choice with different seeds: give one number"
          : `fields that take a list of values to compare: ${SWEEPABLE_FIELDS.join(", ")}`,
    });
  }
  return ok;
}
