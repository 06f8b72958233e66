/**
 * Sweeps: a prompt field written as a list stands for one prompt variant per value, and several
 * such fields for one variant per combination. This module is the pure part: given the lists,
 * it names and enumerates the combinations; prompt-specs.ts turns each into a PromptSpec.
 */

/** One value of a swept field. */
export interface SweepValue<T = unknown> {
  /** What the variant gets (e.g. a resolved path, a template's source). */
  value: T;
  /** How the value reads in the variant id: `4`, `similar`, `true`, `train.jsonl`. */
  label: string;
  /** What `PromptSpec.sweep` records for it: the written value, or the label for files. */
  recorded: unknown;
}

/** A prompt field written as a list. */
export interface SweepAxis<T = unknown> {
  /** The field's path inside the prompt, dotted: `template`, `cot`, `shots.k`, `context.k`. */
  field: string;
  /** The values in list order; at least one. */
  values: readonly SweepValue<T>[];
}

/** One combination of swept values. */
export interface SweepVariant<T = unknown> {
  /** `<baseId>@<name>=<label>,…`, or `baseId` itself when nothing is swept. */
  id: string;
  /** Names → recorded values; undefined when nothing is swept. */
  sweep?: Record<string, unknown>;
  /** Field (as in `SweepAxis.field`) → the value this variant takes. */
  values: Record<string, T>;
}

/**
 * The name of each axis in ids and in `sweep`: the leaf of its field (`shots.k` → `k`), or the
 * whole field when two axes of one prompt share a leaf (`shots.k` and `context.k`), so that ids
 * and `sweep` keys stay unambiguous.
 */
export function sweepNames(fields: readonly string[]): string[] {
  const leaf = (field: string) => field.slice(field.lastIndexOf(".") + 1);
  const counts = new Map<string, number>();
  for (const field of fields) counts.set(leaf(field), (counts.get(leaf(field)) ?? 0) + 1);
  return fields.map((field) => ((counts.get(leaf(field)) ?? 0) > 1 ? field : leaf(field)));
}

/** How many variants the axes give: the product of their lengths (1 with no axes). */
export function countVariants(axes: readonly SweepAxis[]): number {
  return axes.reduce((product, axis) => product * axis.values.length, 1);
}

/**
 * Every combination of the axes' values (the cartesian product), the first axis varying slowest
 * and each axis's values in list order: `k: [0, 1]` × `select: [first, similar]` gives
 * `@k=0,select=first`, `@k=0,select=similar`, `@k=1,select=first`, `@k=1,select=similar`.
 * An axis with one value still names its variant. `limit` guards memory: more combinations than
 * that is a bug in the caller, which must check `countVariants` first and report it to the user.
 */
export function expandSweeps<T>(
  baseId: string,
  axes: readonly SweepAxis<T>[],
  limit = Number.POSITIVE_INFINITY,
): SweepVariant<T>[] {
  if (axes.length === 0) return [{ id: baseId, values: {} }];
  const total = countVariants(axes);
  if (total > limit) throw new RangeError(`${total} sweep combinations exceed the limit of ${limit}`);
  const names = sweepNames(axes.map((axis) => axis.field));
  const variants: SweepVariant<T>[] = [];
  const indices = new Array<number>(axes.length).fill(0);
  for (let n = 0; n < total; n++) {
    const parts: string[] = [];
    const sweep: Record<string, unknown> = {};
    const values: Record<string, T> = {};
    axes.forEach((axis, a) => {
      const picked = axis.values[indices[a]];
      parts.push(`${names[a]}=${picked.label}`);
      sweep[names[a]] = picked.recorded;
      values[axis.field] = picked.value;
    });
    variants.push({ id: `${baseId}@${parts.join(",")}`, sweep, values });
    // Odometer step: the last axis turns fastest.
    for (let a = axes.length - 1; a >= 0; a--) {
      indices[a]++;
      if (indices[a] < axes[a].values.length) break;
      indices[a] = 0;
    }
  }
  return variants;
}
