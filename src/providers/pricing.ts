import { UserError } from "../errors.js";
import type { ProviderSpec, TokenUsage } from "./types.js";

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
}

/**
 * List prices of common OpenAI models (USD per 1M tokens, standard tier), for estimates only: the
 * config's `price:` overrides them, and an unknown model costs nothing in an estimate (and says so).
 * Longest prefix wins, so `gpt-4o-mini-2024-07-18` finds `gpt-4o-mini` before `gpt-4o`.
 */
export const PRICES: Readonly<Record<string, Price>> = {
  "gpt-5": { input: 1.25, output: 10 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4-turbo": { input: 10, output: 30 },
  "gpt-4": { input: 30, output: 60 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
  o1: { input: 15, output: 60 },
  "o1-mini": { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  "o3-mini": { input: 1.1, output: 4.4 },
  "o4-mini": { input: 1.1, output: 4.4 },
};

/** What a provider that runs on this machine (local, echo) bills: nothing. */
const FREE: Price = { input: 0, output: 0 };

/**
 * The price of a provider: its configured `price`, else the table's for its model (free for local
 * and echo), else undefined.
 */
export function priceOf(spec: ProviderSpec): Price | undefined {
  if (spec.price) return spec.price;
  if (!spec.id.startsWith("openai:")) return FREE;
  const model = spec.id.slice("openai:".length);
  let best: string | undefined;
  for (const name of Object.keys(PRICES)) {
    if ((model === name || model.startsWith(`${name}-`)) && (!best || name.length > best.length)) best = name;
  }
  return best ? PRICES[best] : undefined;
}

/** Estimated USD cost of the tokens of one call (0 when the price is unknown). */
export function costOf(spec: ProviderSpec, tokens: TokenUsage): number {
  const price = priceOf(spec);
  if (!price) return 0;
  return (tokens.prompt * price.input + tokens.completion * price.output) / 1_000_000;
}

/** The OpenAI Batch API bills half the list price. */
export const BATCH_DISCOUNT = 0.5;

/**
 * A budget can only be kept when every call's price is known: an `openai:` provider with no
 * `price:` and a model missing from the table would count as free and never stop the run.
 */
export function requirePrices(specs: readonly ProviderSpec[], budget: number): void {
  const unpriced = specs.filter((s) => !priceOf(s)).map((s) => s.label);
  if (unpriced.length === 0) return;
  throw new UserError({
    code: "usage",
    field: "--budget",
    message: `--budget ${budget} cannot be kept: no price is known for ${unpriced.join(", ")}`,
    hint: "add price: { input, output } (USD per 1M tokens) to the provider in the config; price: { input: 0, output: 0 } for a free endpoint",
  });
}
