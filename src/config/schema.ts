import * as z from "zod";

// The schema checks shape only; paths, files and cross-field rules are checked in normalize.ts,
// so that one pass can report problems of both kinds.

/** Generation parameters: the common ones are typed, any other key is passed to the endpoint as written. */
export const providerParamsSchema = z.looseObject({
  temperature: z.number().min(0).optional(),
  top_p: z.number().min(0).max(1).optional(),
  max_tokens: z.int().positive().optional(),
  seed: z.int().optional(),
  stop: z.union([z.string(), z.array(z.string())]).optional(),
  presence_penalty: z.number().optional(),
  frequency_penalty: z.number().optional(),
});

/** A provider in its object form. */
export const providerObjectSchema = z.strictObject({
  id: z.string().min(1),
  label: z.string().min(1).optional(),
  baseURL: z.string().min(1).optional(),
  apiKeyEnv: z.string().min(1).optional(),
  params: providerParamsSchema.optional(),
  completions: z.boolean().optional(),
  timeoutMs: z.int().positive().optional(),
  maxRetries: z.int().nonnegative().optional(),
  rpm: z.number().positive().optional(),
  tpm: z.number().positive().optional(),
  // USD per million tokens.
  price: z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() }).optional(),
});

/** The values each sweepable prompt field takes, one at a time (checked in sweep-values.ts). */
export const sweepElementSchemas = {
  template: z.string().min(1),
  cot: z.union([z.boolean(), z.string().min(1)]),
  samples: z.int().positive(),
  "shots.from": z.string().min(1),
  "shots.k": z.int().nonnegative(),
  "shots.select": z.enum(["first", "random", "balanced", "similar", "embedding"]),
  "shots.as": z.enum(["block", "turns"]),
  "shots.order": z.enum(["as-is", "reverse", "random"]),
  "context.k": z.int().positive(),
} as const;

/** A prompt field that may be written as a list of values to sweep over. */
export type SweepableField = keyof typeof sweepElementSchemas;

// The config schema only types a sweepable field (one value or a list of them) and accepts anything
// there at run time: sweep-values.ts checks each value, so that a problem inside a list points at
// its element and the messages match those of a single value.
function sweepable<F extends SweepableField>(_field: F) {
  type Value = z.input<(typeof sweepElementSchemas)[F]>;
  return z.custom<Value | Value[]>();
}

/** Few-shot examples of a prompt: `k` rows of `from`, chosen by `select`. */
export const shotsSchema = z.strictObject({
  from: sweepable("shots.from"),
  k: sweepable("shots.k"),
  select: sweepable("shots.select").optional(),
  seed: z.int().optional(),
  field: z.string().min(1).optional(),
  label: z.string().min(1).optional(),
  as: sweepable("shots.as").optional(),
  order: sweepable("shots.order").optional(),
  maxTokens: z.int().positive().optional(),
  draws: z.int().positive().optional(),
  // Which model embeds for `select: embedding`, and which provider's endpoint and key serve it.
  embedding: z
    .strictObject({ model: z.string().min(1).optional(), provider: z.string().min(1).optional() })
    .optional(),
  // The contamination guard: what to do with examples that copy a test case.
  leak: z.enum(["exclude", "warn", "allow"]).optional(),
});

/** Reference passages retrieved from a directory of files. */
export const contextSchema = z.strictObject({
  corpus: z.string().min(1),
  k: sweepable("context.k").optional(),
  field: z.string().min(1).optional(),
  // `copies`: drop retrieved passages that copy the case's question (default: keep and flag them).
  exclude: z.enum(["copies"]).optional(),
});

/** The second, answer-extracting call; exactly one of `template` and `text` is checked in prompt-specs.ts. */
export const extractSchema = z.strictObject({
  template: z.string().min(1).optional(),
  text: z.string().min(1).optional(),
});

/**
 * Quality gates a variant's numbers must meet, or the run exits 1. `unparsed` and `errors`, like
 * --max-errors, are a count when 1 or more and a share of the cases below 1.
 */
export const thresholdsSchema = z.strictObject({
  accuracy: z.number().min(0).max(1).optional(),
  accuracyLower: z.number().min(0).max(1).optional(),
  score: z.number().optional(),
  unparsed: z.number().min(0).optional(),
  errors: z.number().min(0).optional(),
});

/** A prompt in its object form; exactly one of `template` and `text` is checked in normalize.ts. */
export const promptObjectSchema = z.strictObject({
  id: z.string().min(1).optional(),
  template: sweepable("template").optional(),
  text: z.string().min(1).optional(),
  shots: shotsSchema.optional(),
  cot: sweepable("cot").optional(),
  extract: extractSchema.optional(),
  samples: sweepable("samples").optional(),
  params: providerParamsSchema.optional(),
  context: contextSchema.optional(),
  thresholds: thresholdsSchema.optional(),
});

/** The test cases in their object form. */
export const testsObjectSchema = z.strictObject({
  path: z.string().min(1),
  expected: z.string().min(1).optional(),
});

/** A scorer as written; its options are checked against its type in scorer-specs.ts. */
export const scorerEntrySchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

/** The response cache: `false` turns it off; the object form can also move it. */
export const cacheSchema = z.union([
  z.boolean(),
  z.strictObject({ enabled: z.boolean().optional(), path: z.string().min(1).optional() }),
]);

/** The whole config file. */
export const configSchema = z.strictObject({
  description: z.string().optional(),
  // `providers:` with nothing after it reads as null; it means "the default", like an empty list.
  providers: z
    .array(z.union([z.string().min(1), providerObjectSchema]))
    .nullable()
    .optional(),
  prompts: z.array(z.union([z.string().min(1), promptObjectSchema])).min(1),
  tests: z.union([z.string().min(1), testsObjectSchema]),
  scorer: z.union([scorerEntrySchema, z.array(scorerEntrySchema).min(1)]).optional(),
  seed: z.int().optional(),
  cache: cacheSchema.optional(),
  runsDir: z.string().min(1).optional(),
  keepRuns: z.int().positive().optional(),
  // Paired comparisons against one variant, and the gates of a CI run (compare-specs.ts).
  baseline: z.string().min(1).optional(),
  baselineProvider: z.string().min(1).optional(),
  alpha: z.number().gt(0).lt(1).optional(),
  midP: z.boolean().optional(),
  bootstrap: z.int().min(100).optional(),
  onError: z.enum(["fail", "exclude"]).optional(),
  thresholds: thresholdsSchema.optional(),
  repeat: z.int().positive().optional(),
  require: z.enum(["all", "majority", "any"]).optional(),
  combine: z
    .strictObject({
      weights: z
        .union([z.array(z.number().nonnegative()), z.record(z.string(), z.number().nonnegative())])
        .optional(),
      threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
});

/** A config as written by hand or in code (the input of `createSuite`). */
export type ConfigInput = z.input<typeof configSchema>;
