/**
 * Example pools shipped with promptsmith, referred to in a config as `shots.from: builtin:<name>`.
 * They are TypeScript modules rather than data files so the build ships them with no copying step.
 */
import { UserError } from "../../errors.js";
import type { ShotRow } from "../types.js";
import { gsm8kCotExemplars } from "./gsm8k-cot.js";

/** Every builtin pool by name; rows are frozen and shared. */
export const builtinPools: Readonly<Record<string, readonly ShotRow[]>> = Object.freeze({
  "gsm8k-cot": Object.freeze(gsm8kCotExemplars.map((row) => Object.freeze({ id: row.id, row: { ...row } }))),
});

const PREFIX = "builtin:";

/** True when a `shots.from` value names a builtin pool rather than a file. */
export function isBuiltinPoolRef(from: string): boolean {
  return from.startsWith(PREFIX);
}

/** The rows of a builtin pool, by name (`gsm8k-cot` or `builtin:gsm8k-cot`), as a fresh array. */
export function loadBuiltinPool(name: string): ShotRow[] {
  const bare = isBuiltinPoolRef(name) ? name.slice(PREFIX.length) : name;
  const pool = Object.hasOwn(builtinPools, bare) ? builtinPools[bare] : undefined;
  if (!pool) {
    const names = Object.keys(builtinPools);
    throw new UserError({
      code: "config-invalid",
      field: "shots.from",
      message: `unknown builtin example pool "${bare}"`,
      hint: `builtin pools: ${names.map((n) => `builtin:${n}`).join(", ")}`,
    });
  }
  return pool.slice();
}
