import { checkOptionKeys, readNumber, type ScorerContext, scorerError } from "./options.js";
import { verdict } from "./result.js";
import { codePointLength } from "./text-metrics.js";
import type { Scorer, ScorerSpec } from "./types.js";

function readBounds(spec: ScorerSpec, context: ScorerContext): { min?: number; max?: number } {
  checkOptionKeys(spec, ["min", "max"], context);
  const min = readNumber(spec, "min", context, { min: 0 });
  const max = readNumber(spec, "max", context, { min: 0 });
  if (min === undefined && max === undefined) {
    throw scorerError(
      context,
      `${spec.type} scorer needs min, max or both`,
      `write e.g. { type: ${spec.type}, max: 100 }`,
    );
  }
  if (min !== undefined && max !== undefined && min > max) {
    throw scorerError(context, `${spec.type} scorer: min ${min} is above max ${max}`, "swap them", "min");
  }
  return { min, max };
}

function within(count: number, unit: string, { min, max }: { min?: number; max?: number }) {
  const low = min !== undefined && count < min;
  const high = max !== undefined && count > max;
  const bounds =
    min !== undefined && max !== undefined
      ? `${min}–${max}`
      : min !== undefined
        ? `at least ${min}`
        : `at most ${max}`;
  const reason = `${count} ${unit}${low ? ", fewer than" : high ? ", more than" : ", within"} ${bounds}`;
  return verdict(!low && !high, String(count), reason);
}

/** `length`: the trimmed output has from `min` to `max` characters (code points); either bound may be left out. */
export function createLengthScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  const bounds = readBounds(spec, context);
  return ({ output }) => within(codePointLength(output.trim()), "characters", bounds);
}

/** `word-count`: the output has from `min` to `max` words (runs of non-blank characters). */
export function createWordCountScorer(spec: ScorerSpec, context: ScorerContext): Scorer {
  const bounds = readBounds(spec, context);
  return ({ output }) => within(output.split(/\s+/u).filter(Boolean).length, "words", bounds);
}
