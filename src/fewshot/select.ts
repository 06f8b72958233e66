/**
 * Few-shot selection strategies: which k pool rows become the examples of one test case.
 * Every strategy is deterministic given (pool, options, case id); randomness comes from
 * seeds derived per case, so a case draws the same shots on every run and in any order of execution.
 */
import { UserError } from "../errors.js";
import { createRng, hashSeed } from "../rng.js";
import { type Bm25Options, createBm25Index } from "./bm25.js";
import type { SelectedShot, ShotRow } from "./types.js";

/** How shots are chosen. */
export type ShotStrategy = "first" | "random" | "balanced" | "similar";
/** How chosen shots are arranged in the prompt. */
export type ShotOrder = "as-is" | "reverse" | "random";

export const SHOT_STRATEGIES: readonly ShotStrategy[] = ["first", "random", "balanced", "similar"];
export const SHOT_ORDERS: readonly ShotOrder[] = ["as-is", "reverse", "random"];

/** Options of a shot selector. */
export interface ShotSelectorOptions {
  /** Number of shots per case; fewer when the pool is smaller. */
  k: number;
  /** The selection strategy. */
  select: ShotStrategy;
  /** Seed of `random` selection and `random` order; default 0. Record it with the run. */
  seed?: number;
  /** Text field compared by `similar`, in pool rows and in the case's vars; default "question". */
  field?: string;
  /** Class field balanced over by `balanced`; default "answer". */
  label?: string;
  /** Arrangement applied after selection; default "as-is" (the strategy's own order). */
  order?: ShotOrder;
  /** Never give a case itself as a shot (set when the pool is the test set); default false. */
  excludeSelf?: boolean;
  /** Where the pool came from (a path or `builtin:<name>`), for error locations. */
  poolSource?: string;
  /** BM25 parameters for `similar`. */
  bm25?: Bm25Options;
}

/** The case shots are being chosen for. */
export interface ShotQuery {
  id: string;
  vars: Record<string, unknown>;
  /** Pool positions never to choose for this case (its copies, found by the contamination guard). */
  exclude?: ReadonlySet<number>;
}

/** Chooses the shots of each case. */
export interface ShotSelector {
  /** The shots of one case, in prompt order. Rows are shared with the pool: do not mutate them. */
  select(query: ShotQuery): SelectedShot[];
}

/** Field value as text: strings as-is, scalars via String, structures as JSON; null/undefined → undefined. */
export function textOf(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return JSON.stringify(value);
}

function validate(options: ShotSelectorOptions): void {
  const problem = (field: string, message: string, hint: string) =>
    new UserError({ code: "config-invalid", field: `shots.${field}`, message, hint });
  if (!Number.isInteger(options.k) || options.k < 0) {
    throw problem(
      "k",
      `expected a whole number ≥ 0, received ${JSON.stringify(options.k)}`,
      "write the number of examples, e.g. k: 4",
    );
  }
  if (!SHOT_STRATEGIES.includes(options.select)) {
    throw problem(
      "select",
      `unknown strategy ${JSON.stringify(options.select)}`,
      `use one of: ${SHOT_STRATEGIES.join(", ")}`,
    );
  }
  if (options.order !== undefined && !SHOT_ORDERS.includes(options.order)) {
    throw problem(
      "order",
      `unknown order ${JSON.stringify(options.order)}`,
      `use one of: ${SHOT_ORDERS.join(", ")}`,
    );
  }
  if (options.seed !== undefined && !Number.isFinite(options.seed)) {
    throw problem(
      "seed",
      `expected a number, received ${JSON.stringify(options.seed)}`,
      "write an integer seed, e.g. seed: 42",
    );
  }
}

/** Build a selector over `pool`; pool rows are checked once, up front, for the fields the strategy needs. */
export function createShotSelector(pool: readonly ShotRow[], options: ShotSelectorOptions): ShotSelector {
  validate(options);
  const k = options.k;
  const seed = options.seed ?? 0;
  const order = options.order ?? "as-is";
  const excludeSelf = options.excludeSelf ?? false;
  const location = options.poolSource ? { file: options.poolSource } : undefined;

  const requireField = (fieldName: string, optionName: string, purpose: string): string[] =>
    pool.map((shot) => {
      const text = textOf(shot.row[fieldName]);
      if (text === undefined) {
        throw new UserError({
          code: "dataset-invalid",
          location,
          field: `shots.${optionName}`,
          message: `example "${shot.id}" has no "${fieldName}" field ${purpose}`,
          hint: `set shots.${optionName} to a field every example has, or add "${fieldName}" to every example`,
        });
      }
      return text;
    });

  const isAvailable = (position: number, query: ShotQuery) =>
    !(excludeSelf && pool[position].id === query.id) && !query.exclude?.has(position);

  let choose: (query: ShotQuery) => { shot: ShotRow; score?: number }[];
  switch (options.select) {
    case "first":
      choose = (query) => {
        const out: { shot: ShotRow }[] = [];
        for (let position = 0; position < pool.length && out.length < k; position++) {
          if (isAvailable(position, query)) out.push({ shot: pool[position] });
        }
        return out;
      };
      break;

    case "random":
      choose = (query) => {
        const rng = createRng(hashSeed(seed, "select:random", query.id));
        return rng
          .sample(
            pool.filter((_, position) => isAvailable(position, query)),
            k,
          )
          .map((shot) => ({ shot }));
      };
      break;

    case "balanced": {
      const labelField = options.label ?? "answer";
      const labels = requireField(labelField, "label", "to balance classes by");
      // Class order comes from the whole pool, so it is the same for every case even when rows are
      // left out for it (its own row, its copies): most frequent first, ties by first appearance.
      const classes = new Map<string, { first: number; rows: number[] }>();
      labels.forEach((label, position) => {
        const entry = classes.get(label);
        if (entry) entry.rows.push(position);
        else classes.set(label, { first: position, rows: [position] });
      });
      const ordered = [...classes.values()].sort(
        (x, y) => y.rows.length - x.rows.length || x.first - y.first,
      );
      choose = (query) => {
        const queues = ordered.map((c) => c.rows.filter((position) => isAvailable(position, query)));
        const out: { shot: ShotRow }[] = [];
        for (let round = 0; out.length < k; round++) {
          let took = false;
          for (const queue of queues) {
            if (round >= queue.length) continue;
            out.push({ shot: pool[queue[round]] });
            took = true;
            if (out.length >= k) break;
          }
          if (!took) break;
        }
        return out;
      };
      break;
    }

    case "similar": {
      const textField = options.field ?? "question";
      const texts = requireField(textField, "field", "to compare by similarity");
      const index = createBm25Index(
        pool.map((shot, position) => ({ id: shot.id, text: texts[position] })),
        options.bm25,
      );
      choose = (query) => {
        const queryText = textOf(query.vars[textField]);
        if (queryText === undefined) {
          throw new UserError({
            code: "dataset-invalid",
            field: `shots.field`,
            message: `case "${query.id}" has no "${textField}" field to find similar examples by`,
            hint: `set shots.field to the field holding the case's text, or add "${textField}" to every case`,
          });
        }
        const hits = index.search(queryText, k, {
          accept: (position) => isAvailable(position, query),
        });
        const out: { shot: ShotRow; score?: number }[] = hits.map((hit) => ({
          shot: pool[hit.position],
          score: hit.score,
        }));
        // Fewer than k rows share a term with the query: fill up in pool order, so k still holds.
        if (out.length < k) {
          const taken = new Set(hits.map((hit) => hit.position));
          for (let position = 0; position < pool.length && out.length < k; position++) {
            if (!taken.has(position) && isAvailable(position, query))
              out.push({ shot: pool[position], score: 0 });
          }
        }
        return out;
      };
      break;
    }
  }

  return {
    select(query) {
      const chosen: SelectedShot[] = choose(query).map(({ shot, score }, rank) =>
        score === undefined
          ? { id: shot.id, row: shot.row, rank }
          : { id: shot.id, row: shot.row, rank, score },
      );
      return arrangeShots(chosen, order, seed, query.id);
    },
  };
}

/**
 * Arranges shots chosen in rank order for the prompt: `as-is`, `reverse`, or `random` seeded per
 * case, so every selector shuffles the same way for the same (seed, case). `chosen` may be reordered in place.
 */
export function arrangeShots(
  chosen: SelectedShot[],
  order: ShotOrder,
  seed: number,
  caseId: string,
): SelectedShot[] {
  if (order === "reverse") return chosen.reverse();
  if (order === "random") return createRng(hashSeed(seed, "order:random", caseId)).shuffle(chosen);
  return chosen;
}
