import type { CaseResult } from "./types.js";

/**
 * Which cases a record kept in memory holds, for the terminal report's examples: all of them, or
 * the first `limit` failing cases of each prompt × provider. Results files always get every case.
 */
export function createCaseRetainer(limit: "all" | number): (result: CaseResult) => boolean {
  const kept = new Map<string, number>();
  return (result) => {
    if (limit === "all") return true;
    if (result.pass) return false;
    const key = `${result.prompt}\u0000${result.provider}`;
    const count = kept.get(key) ?? 0;
    if (count >= limit) return false;
    kept.set(key, count + 1);
    return true;
  };
}
