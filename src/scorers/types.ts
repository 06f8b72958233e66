/** What a scorer is given: the model output (reasoning already stripped), the gold answer and the case variables. */
export interface ScoreInput {
  output: string;
  expected: unknown;
  vars: Record<string, unknown>;
}

/** A scorer's verdict. `reason` is always filled; `unparsed` means no answer could be extracted (not the same as wrong). */
export interface ScoreResult {
  pass: boolean;
  score: number;
  extracted: string | null;
  reason: string;
  unparsed?: boolean;
}

/** A pure check built by a scorer factory. */
export type Scorer = (input: ScoreInput) => ScoreResult | Promise<ScoreResult>;

/** A scorer as written in a config: `{ type: numeric, tolerance: 1e-6 }`. */
export interface ScorerSpec {
  type: string;
  [option: string]: unknown;
}
