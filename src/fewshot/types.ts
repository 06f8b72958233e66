import type { Case } from "../dataset/types.js";

/** One candidate example: a stable id and the row's fields, as a template sees them. */
export interface ShotRow {
  id: string;
  row: Record<string, unknown>;
}

/** A shot as chosen for one case: the pool row plus where the strategy ranked it. */
export interface SelectedShot extends ShotRow {
  /** 0-based position in the strategy's own order before `order` is applied (`similar`: 0 = most similar). */
  rank: number;
  /** `similar`: BM25 score against the query (0 for padding rows that share no term); `embedding`: cosine similarity. */
  score?: number;
}

/** Dataset cases as a shot pool (the pool is the test set itself, or another file read the same way). */
export function toShotRows(cases: readonly Case[]): ShotRow[] {
  return cases.map((c) => ({ id: c.id, row: c.vars }));
}
