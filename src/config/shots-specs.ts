import path from "node:path";
import type { ProviderSpec } from "../providers/types.js";
import { isNonEmptyString, isRecord, type NormalizeContext } from "./context.js";
import { BUILTIN_POOL_NAMES, CONTEXT_DEFAULTS, DEFAULT_EMBEDDING_MODEL, SHOTS_DEFAULTS } from "./defaults.js";
import { didYouMean } from "./did-you-mean.js";
import { checkDatasetExtension, resolveExistingDirectory, resolveExistingFile } from "./files.js";
import type { SweepableField } from "./schema.js";
import type { ConfigPath } from "./source.js";
import type { SweepValue } from "./sweep.js";
import { checkNoList, readSweepable, type SweepableRead } from "./sweep-values.js";
import type { EmbeddingSpec } from "./types.js";

/** Prefix of few-shot sources that ship with promptsmith rather than live on disk. */
export const BUILTIN_PREFIX = "builtin:";

/** The part of a prompt's shots or context that every variant shares, and the fields that may vary. */
export interface PartPlan<Base> {
  base: Base;
  reads: Map<SweepableField, SweepableRead<unknown>>;
}

/** Shot settings no sweep changes. */
export interface ShotsBase {
  seed: number;
  field: string;
  label: string;
  maxTokens?: number;
  draws: number;
  /** The embedding model and endpoint, resolved when `select` may be `embedding` or `embedding:` was written. */
  embedding?: EmbeddingSpec;
  /** Whether `embedding:` was written: then every variant carries it, not only those selecting by embedding. */
  embeddingWritten: boolean;
  /** The contamination guard's policy, when written. */
  leak?: "exclude" | "warn" | "allow";
}

/** Context settings no sweep changes. */
export interface ContextBase {
  corpus: string;
  field: string;
  /** `copies` when written: drop passages that copy the case's question. */
  exclude?: "copies";
}

/** A value that reads in ids as written. */
export function plainValue<T extends string | number | boolean>(value: T): SweepValue<T> {
  return { value, label: String(value), recorded: value };
}

/**
 * Normalizes `shots` of one prompt: `from` resolved (or a known builtin pool), defaults filled in
 * (`seed` from the suite), `draws` checked against the randomness it repeats. Undefined when a
 * problem was reported.
 */
export async function normalizeShots(
  fields: Record<string, unknown>,
  at: ConfigPath,
  ctx: NormalizeContext,
  suiteSeed: number,
  providers: readonly ProviderSpec[],
): Promise<PartPlan<ShotsBase> | undefined> {
  let ok = checkNoList(
    fields,
    ["seed", "field", "label", "maxTokens", "draws", "embedding", "leak"],
    at,
    ctx,
  );
  const reads = new Map<SweepableField, SweepableRead<unknown>>();
  const keep = (result: { ok: boolean; read?: SweepableRead<unknown> }) => {
    ok &&= result.ok;
    if (result.read) reads.set(result.read.field, result.read);
  };
  keep(
    await readSweepable(fields.from, "shots.from", [...at, "from"], ctx, {
      required: true,
      example: "from: [fixtures/train.jsonl, builtin:gsm8k-cot]",
      convert: (written, valueAt) => resolveShotsSource(written, valueAt, ctx),
    }),
  );
  keep(
    await readSweepable(fields.k, "shots.k", [...at, "k"], ctx, {
      required: true,
      example: "k: [0, 4, 8]",
      convert: plainValue,
    }),
  );
  keep(
    await readSweepable(fields.select, "shots.select", [...at, "select"], ctx, {
      example: "select: [first, similar]",
      convert: plainValue,
    }),
  );
  keep(
    await readSweepable(fields.as, "shots.as", [...at, "as"], ctx, {
      example: "as: [block, turns]",
      convert: plainValue,
    }),
  );
  keep(
    await readSweepable(fields.order, "shots.order", [...at, "order"], ctx, {
      example: "order: [as-is, reverse]",
      convert: plainValue,
    }),
  );

  const draws = typeof fields.draws === "number" ? fields.draws : SHOTS_DEFAULTS.draws;
  if (draws > 1 && ok) {
    const selects = reads.get("shots.select")?.values.map((v) => v.value) ?? [SHOTS_DEFAULTS.select];
    const orders = reads.get("shots.order")?.values.map((v) => v.value) ?? [SHOTS_DEFAULTS.order];
    if (!selects.includes("random") && !orders.includes("random")) {
      ok = false;
      ctx.problems.add({
        path: [...at, "draws"],
        message: `draws: ${draws} would repeat the same shots: nothing random is chosen (select: ${selects.join("/")}, order: ${orders.join("/")})`,
        hint: "draws re-runs random choices with other seeds: add select: random or order: random, or remove draws",
      });
    }
  }
  const selectsEmbedding = reads.get("shots.select")?.values.some((v) => v.value === "embedding") ?? false;
  const embeddingWritten = isRecord(fields.embedding);
  let embedding: EmbeddingSpec | undefined;
  if (ok && (selectsEmbedding || embeddingWritten)) {
    const resolved = resolveEmbedding(fields.embedding, at, ctx, providers, selectsEmbedding);
    ok = resolved.ok;
    embedding = resolved.spec;
  }
  if (!ok) return undefined;
  const base: ShotsBase = {
    seed: typeof fields.seed === "number" && Number.isInteger(fields.seed) ? fields.seed : suiteSeed,
    field: isNonEmptyString(fields.field) ? fields.field : SHOTS_DEFAULTS.field,
    label: isNonEmptyString(fields.label) ? fields.label : SHOTS_DEFAULTS.label,
    draws,
    embeddingWritten,
  };
  if (typeof fields.maxTokens === "number") base.maxTokens = fields.maxTokens;
  if (embedding) base.embedding = embedding;
  if (fields.leak === "exclude" || fields.leak === "warn" || fields.leak === "allow") base.leak = fields.leak;
  return { base, reads };
}

/**
 * The embedding model and the endpoint serving it: the provider named by `embedding.provider`
 * (label or id), else the suite's first `openai:` provider. A missing endpoint is a problem only
 * when some variant selects by embedding (or a `similar` scorer needs one: `missing` says where
 * and why).
 */
export function resolveEmbedding(
  raw: unknown,
  at: ConfigPath,
  ctx: NormalizeContext,
  providers: readonly ProviderSpec[],
  required: boolean,
  missing: { path: ConfigPath; message: string; hint: string } = {
    path: [...at, "select"],
    message: "select: embedding needs an OpenAI-compatible endpoint, and the suite has no openai: provider",
    hint: "add an openai: provider (its baseURL and apiKeyEnv serve /v1/embeddings) and name it in shots.embedding.provider, or use select: similar",
  },
  /** Whether a `local:` provider may embed (with its own model: the spec's model is its id). */
  allowLocal = false,
): { ok: boolean; spec?: EmbeddingSpec } {
  const embeddingAt: ConfigPath = [...at, "embedding"];
  const fields = isRecord(raw) ? raw : {};
  if (!checkNoList(fields, ["model", "provider"], embeddingAt, ctx)) return { ok: false };
  // A value of the wrong type is the schema's to report; the default stands in meanwhile.
  const model = isNonEmptyString(fields.model) ? fields.model : DEFAULT_EMBEDDING_MODEL;
  let provider: ProviderSpec | undefined;
  if (isNonEmptyString(fields.provider)) {
    const name = fields.provider;
    provider = providers.find((p) => p.label === name) ?? providers.find((p) => p.id === name);
    if (!provider) {
      const names = providers.map((p) => p.label);
      const guess = didYouMean(name, names);
      ctx.problems.add({
        path: [...embeddingAt, "provider"],
        message: `no provider is labelled or named ${JSON.stringify(name)}`,
        hint: `${guess ? `did you mean "${guess}"? ` : ""}providers of this suite: ${names.join(", ") || "none"}`,
      });
      return { ok: false };
    }
    if (allowLocal && provider.id.startsWith("local:")) {
      if (isNonEmptyString(fields.model)) {
        ctx.problems.add({
          path: [...embeddingAt, "model"],
          message: `provider ${JSON.stringify(name)} is a local model: it embeds with its own weights`,
          hint: "leave out model, or name an openai: provider whose endpoint serves that model",
        });
        return { ok: false };
      }
      return { ok: true, spec: { model: provider.id } };
    }
    if (!provider.id.startsWith("openai:")) {
      ctx.problems.add({
        path: [...embeddingAt, "provider"],
        message: `provider ${JSON.stringify(name)} is not an openai: provider, so it has no /v1/embeddings endpoint`,
        hint: "name an openai: provider whose endpoint serves the embedding model",
      });
      return { ok: false };
    }
  } else {
    provider = providers.find((p) => p.id.startsWith("openai:"));
    if (!provider) {
      if (!required) return { ok: true };
      ctx.problems.add(missing);
      return { ok: false };
    }
  }
  const spec: EmbeddingSpec = { model };
  if (provider.baseURL !== undefined) spec.baseURL = provider.baseURL;
  if (provider.apiKeyEnv !== undefined) spec.apiKeyEnv = provider.apiKeyEnv;
  return { ok: true, spec };
}

async function resolveShotsSource(
  written: string,
  at: ConfigPath,
  ctx: NormalizeContext,
): Promise<SweepValue<string> | undefined> {
  if (written.startsWith(BUILTIN_PREFIX)) {
    const name = written.slice(BUILTIN_PREFIX.length);
    if (!(BUILTIN_POOL_NAMES as readonly string[]).includes(name)) {
      const guess = didYouMean(name, BUILTIN_POOL_NAMES);
      const known = BUILTIN_POOL_NAMES.map((pool) => `${BUILTIN_PREFIX}${pool}`).join(", ");
      ctx.problems.add({
        path: at,
        message: `unknown builtin example pool ${JSON.stringify(written)}`,
        hint: `${guess ? `did you mean "${BUILTIN_PREFIX}${guess}"? ` : ""}builtin pools: ${known}`,
      });
      return undefined;
    }
    return { value: written, label: written, recorded: written };
  }
  if (!checkDatasetExtension(ctx, at, written)) return undefined;
  const absolute = await resolveExistingFile(ctx, at, written, {
    what: "examples file",
    code: "dataset-not-found",
  });
  if (!absolute) return undefined;
  const label = path.basename(absolute);
  return { value: absolute, label, recorded: label };
}

/** Normalizes `context` of one prompt: the corpus an existing directory, defaults filled in. */
export async function normalizeContext(
  fields: Record<string, unknown>,
  at: ConfigPath,
  ctx: NormalizeContext,
): Promise<PartPlan<ContextBase> | undefined> {
  let ok = checkNoList(fields, ["corpus", "field", "exclude"], at, ctx);
  let corpus: string | undefined;
  if (isNonEmptyString(fields.corpus)) {
    corpus = await resolveExistingDirectory(ctx, [...at, "corpus"], fields.corpus, {
      what: "corpus",
      code: "config-invalid",
    });
  }
  const k = await readSweepable(fields.k, "context.k", [...at, "k"], ctx, {
    example: "k: [1, 3, 5]",
    convert: plainValue,
  });
  ok &&= k.ok;
  if (!ok || corpus === undefined) return undefined;
  const reads = new Map<SweepableField, SweepableRead<unknown>>();
  if (k.read) reads.set("context.k", k.read);
  const base: ContextBase = {
    corpus,
    field: isNonEmptyString(fields.field) ? fields.field : CONTEXT_DEFAULTS.field,
  };
  if (fields.exclude === "copies") base.exclude = "copies";
  return { base, reads };
}
