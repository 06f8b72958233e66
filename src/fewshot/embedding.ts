/**
 * `select: embedding`: the k pool rows nearest to the case by cosine similarity of embedding
 * vectors. Pure: the vectors are computed elsewhere (the runner asks the provider and caches them),
 * so selection is deterministic given (pool, vectors, options, query).
 */
import { UserError } from "../errors.js";
import { arrangeShots, type ShotOrder, textOf } from "./select.js";
import type { SelectedShot, ShotRow } from "./types.js";

/** Options of an embedding selector. */
export interface EmbeddingSelectorOptions {
  /** Number of shots per case; fewer when the pool is smaller. */
  k: number;
  /** Arrangement applied after selection; default "as-is" (most similar first). */
  order?: ShotOrder;
  /** Seed of `random` order; default 0. */
  seed?: number;
  /** Never give a case itself as a shot (set when the pool is the test set); default false. */
  excludeSelf?: boolean;
}

/** The case shots are being chosen for, as a vector in the pool's embedding space. */
export interface EmbeddingQuery {
  id: string;
  vector: ArrayLike<number>;
  /** Pool positions never to choose for this case (its copies, found by the contamination guard). */
  exclude?: ReadonlySet<number>;
}

/** Chooses the shots of each case by embedding similarity. */
export interface EmbeddingSelector {
  /** The shots of one case, in prompt order; `score` is the cosine similarity, `rank` 0 the most similar. */
  select(query: EmbeddingQuery): SelectedShot[];
}

function norm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  return Math.sqrt(sum);
}

/** Cosine similarity of two vectors of equal length; 0 when either is all zeros. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} and ${b.length}`);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  const denominator = norm(a) * norm(b);
  return denominator === 0 ? 0 : dot / denominator;
}

/**
 * Builds a selector over `pool`, whose row i has embedding `vectors[i]`. Most similar first; equal
 * similarities keep pool order, so the result never depends on sort stability or timing.
 */
export function createEmbeddingSelector(
  pool: readonly ShotRow[],
  vectors: readonly (Float32Array | readonly number[])[],
  options: EmbeddingSelectorOptions,
): EmbeddingSelector {
  if (!Number.isInteger(options.k) || options.k < 0) {
    throw new UserError({
      code: "config-invalid",
      field: "shots.k",
      message: `expected a whole number ≥ 0, received ${JSON.stringify(options.k)}`,
      hint: "write the number of examples, e.g. k: 4",
    });
  }
  if (vectors.length !== pool.length) {
    throw new RangeError(`${pool.length} pool rows but ${vectors.length} vectors`);
  }
  const dimensions = vectors[0]?.length ?? 0;
  vectors.forEach((vector, position) => {
    if (vector.length !== dimensions) {
      throw new RangeError(
        `vector of pool row "${pool[position].id}" has ${vector.length} dimensions, the first has ${dimensions}`,
      );
    }
  });
  const norms = vectors.map(norm);
  const { k } = options;
  const order = options.order ?? "as-is";
  const seed = options.seed ?? 0;
  const excludeSelf = options.excludeSelf ?? false;

  return {
    select(query) {
      const { vector } = query;
      if (pool.length > 0 && vector.length !== dimensions) {
        throw new RangeError(
          `the vector of case "${query.id}" has ${vector.length} dimensions, the pool's have ${dimensions}`,
        );
      }
      const queryNorm = norm(vector);
      const scored: { position: number; score: number }[] = [];
      pool.forEach((shot, position) => {
        if ((excludeSelf && shot.id === query.id) || query.exclude?.has(position)) return;
        const pooled = vectors[position];
        let dot = 0;
        for (let i = 0; i < dimensions; i++) dot += pooled[i] * vector[i];
        const denominator = norms[position] * queryNorm;
        scored.push({ position, score: denominator === 0 ? 0 : dot / denominator });
      });
      scored.sort((x, y) => y.score - x.score || x.position - y.position);
      const chosen: SelectedShot[] = scored.slice(0, k).map(({ position, score }, rank) => ({
        id: pool[position].id,
        row: pool[position].row,
        rank,
        score,
      }));
      return arrangeShots(chosen, order, seed, query.id);
    },
  };
}

/**
 * The text of `field` in every pool row, to embed; a row without it is a located dataset problem,
 * worded like `select: similar`'s.
 */
export function poolTexts(pool: readonly ShotRow[], field: string, poolSource?: string): string[] {
  return pool.map((shot) => {
    const text = textOf(shot.row[field]);
    if (text === undefined) {
      throw new UserError({
        code: "dataset-invalid",
        location: poolSource ? { file: poolSource } : undefined,
        field: "shots.field",
        message: `example "${shot.id}" has no "${field}" field to compare by embedding`,
        hint: `set shots.field to a field every example has, or add "${field}" to every example`,
      });
    }
    return text;
  });
}

/** The text of `field` in a case, to embed as the query; a case without it is a dataset problem. */
export function queryText(query: { id: string; vars: Record<string, unknown> }, field: string): string {
  const text = textOf(query.vars[field]);
  if (text === undefined) {
    throw new UserError({
      code: "dataset-invalid",
      field: "shots.field",
      message: `case "${query.id}" has no "${field}" field to find similar examples by`,
      hint: `set shots.field to the field holding the case's text, or add "${field}" to every case`,
    });
  }
  return text;
}
