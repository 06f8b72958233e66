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
});

/** Few-shot examples of a prompt: the first `k` rows of `from`. */
export const shotsSchema = z.strictObject({
  from: z.string().min(1),
  k: z.int().nonnegative(),
});

/** A prompt in its object form; exactly one of `template` and `text` is checked in normalize.ts. */
export const promptObjectSchema = z.strictObject({
  id: z.string().min(1).optional(),
  template: z.string().min(1).optional(),
  text: z.string().min(1).optional(),
  shots: shotsSchema.optional(),
});

/** The test cases in their object form. */
export const testsObjectSchema = z.strictObject({
  path: z.string().min(1),
  expected: z.string().min(1).optional(),
});

/** A scorer as written; its options are checked against its type in scorer-specs.ts. */
export const scorerEntrySchema = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

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
});

/** A config as written by hand or in code (the input of `createSuite`). */
export type ConfigInput = z.input<typeof configSchema>;
