import { describe, expect, it } from "vitest";
import { costOf, priceOf, requirePrices } from "../../../src/providers/pricing.js";
import type { ProviderSpec } from "../../../src/providers/types.js";

const spec = (id: string, price?: ProviderSpec["price"]): ProviderSpec => ({
  id,
  label: id,
  params: {},
  price,
});

describe("prices", () => {
  it("finds a model's list price by the longest matching name", () => {
    expect(priceOf(spec("openai:gpt-4o-mini-2024-07-18"))).toEqual({ input: 0.15, output: 0.6 });
    expect(priceOf(spec("openai:gpt-4o-2024-08-06"))).toEqual({ input: 2.5, output: 10 });
    expect(priceOf(spec("openai:my-finetune"))).toBeUndefined();
  });

  it("prices models that run on this machine at nothing, unless the config says otherwise", () => {
    expect(priceOf(spec("local:/models/qwen.gguf"))).toEqual({ input: 0, output: 0 });
    expect(priceOf(spec("echo"))).toEqual({ input: 0, output: 0 });
    expect(costOf(spec("local:/models/qwen.gguf"), { prompt: 1000, completion: 1000 })).toBe(0);
    // A price for the machine's time, set by the user, counts.
    const metered = spec("local:/models/qwen.gguf", { input: 1, output: 2 });
    expect(costOf(metered, { prompt: 1_000_000, completion: 500_000 })).toBe(2);
  });

  it("lets a budget run with local and priced providers, and names each unpriced one", () => {
    expect(() =>
      requirePrices([spec("local:/m.gguf"), spec("echo"), spec("openai:gpt-4o")], 1),
    ).not.toThrow();
    expect(() => requirePrices([spec("openai:a"), spec("local:/m.gguf"), spec("openai:b")], 1)).toThrow(
      "--budget 1 cannot be kept: no price is known for openai:a, openai:b",
    );
  });
});
