import { UserError } from "../errors.js";
import type { ProviderSpec } from "../providers/types.js";

/** Which prompts and providers a run covers: `--filter-prompt` and `--filter-provider`. */

/** The model name of a provider id (`openai:gpt-4o-mini` → `gpt-4o-mini`). */
export function modelOf(spec: ProviderSpec): string | undefined {
  const at = spec.id.indexOf(":");
  return at === -1 ? undefined : spec.id.slice(at + 1);
}

/** True when there are no filters, or one of the names matches one of them (exact, or a glob with *). */
export function matchesAny(filters: string[] | undefined, names: string[]): boolean {
  if (!filters || filters.length === 0) return true;
  return filters.some((filter) => {
    const pattern = new RegExp(`^${filter.split("*").map(escapeRegExp).join(".*")}$`);
    return names.some((name) => pattern.test(name));
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The error for a filter that matches nothing, listing what there is. */
export function noMatch(kind: string, filters: string[] | undefined, available: string[]): UserError {
  return new UserError({
    code: kind === "prompt" ? "prompt-not-found" : "usage",
    message: `no ${kind} matches ${(filters ?? []).map((f) => JSON.stringify(f)).join(", ")}`,
    hint: `available: ${available.join(", ")}`,
  });
}
