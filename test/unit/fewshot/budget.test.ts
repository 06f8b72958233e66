import { describe, expect, it } from "vitest";
import {
  createTokenCounter,
  encodingForModel,
  fitShotsToBudget,
  isOpenAIModelName,
} from "../../../src/fewshot/budget.js";
import { createShotSelector } from "../../../src/fewshot/select.js";
import type { ShotRow } from "../../../src/fewshot/types.js";

/** Word count: a stand-in tokenizer whose counts are obvious from the text. */
const countWords = (text: string) => text.split(/\s+/).filter(Boolean).length;
const shot = (id: string, words: number): ShotRow => ({ id, row: { text: Array(words).fill(id).join(" ") } });
const render = (shots: ShotRow[]) =>
  ["Instructions here.", ...shots.map((s) => s.row.text as string), "Q: what?"].join("\n");
// The frame alone is 4 words.

describe("fitShotsToBudget", () => {
  const shots = [shot("a", 10), shot("b", 10), shot("c", 10), shot("d", 10)];

  it("keeps everything when the prompt already fits", async () => {
    const result = await fitShotsToBudget(shots, render, {
      maxTokens: 44,
      countTokens: countWords,
      dropOrder: "last",
    });
    expect(result).toMatchObject({ k: 4, tokens: 44, dropped: [], fits: true });
    expect(result.shots.map((s) => s.id)).toEqual(["a", "b", "c", "d"]);
  });

  it("drops the last shots one at a time until it fits, and reports k", async () => {
    const result = await fitShotsToBudget(shots, render, {
      maxTokens: 30,
      countTokens: countWords,
      dropOrder: "last",
    });
    expect(result.dropped).toEqual(["d", "c"]);
    expect(result.shots.map((s) => s.id)).toEqual(["a", "b"]);
    expect(result).toMatchObject({ k: 2, tokens: 24, fits: true });
  });

  it("renders each candidate set, awaiting an async render", async () => {
    const seen: string[][] = [];
    const asyncRender = async (kept: ShotRow[]) => {
      seen.push(kept.map((s) => s.id));
      return render(kept);
    };
    await fitShotsToBudget(shots, asyncRender, { maxTokens: 34, countTokens: countWords, dropOrder: "last" });
    expect(seen).toEqual([
      ["a", "b", "c", "d"],
      ["a", "b", "c"],
    ]);
  });

  it("reports fits: false with no shots when even the bare prompt is too long", async () => {
    const result = await fitShotsToBudget(shots, render, {
      maxTokens: 3,
      countTokens: countWords,
      dropOrder: "last",
    });
    expect(result).toMatchObject({ shots: [], k: 0, tokens: 4, fits: false, dropped: ["d", "c", "b", "a"] });
  });

  it("least-similar drops the lowest-ranked similar shot even when the prompt order is reversed", async () => {
    const pool: ShotRow[] = [
      { id: "far", row: { question: "trains" } },
      { id: "near", row: { question: "red apples pie" } },
      { id: "mid", row: { question: "red apples" } },
    ];
    const selector = createShotSelector(pool, { k: 3, select: "similar", order: "reverse" });
    const selected = selector.select({ id: "q", vars: { question: "red apples pie" } });
    expect(selected.map((s) => s.id)).toEqual(["far", "mid", "near"]); // reversed: least similar first
    const renderQ = (kept: ShotRow[]) => kept.map((s) => s.row.question as string).join(" ");
    const result = await fitShotsToBudget(selected, renderQ, {
      maxTokens: 5,
      countTokens: countWords,
      dropOrder: "least-similar",
    });
    expect(result.dropped).toEqual(["far"]);
    expect(result.shots.map((s) => s.id)).toEqual(["mid", "near"]);
    const byLast = await fitShotsToBudget(selected, renderQ, {
      maxTokens: 5,
      countTokens: countWords,
      dropOrder: "last",
    });
    expect(byLast.dropped).toEqual(["near"]);
  });

  it("least-similar falls back to the last shot when shots carry no rank", async () => {
    const result = await fitShotsToBudget(shots, render, {
      maxTokens: 34,
      countTokens: countWords,
      dropOrder: "least-similar",
    });
    expect(result.dropped).toEqual(["d"]);
  });
});

describe("isOpenAIModelName", () => {
  it("tells OpenAI's model names from models with tokenizers of their own", () => {
    for (const model of [
      "gpt-4o-mini",
      "openai/gpt-4",
      "ft:gpt-3.5-turbo:acme::x",
      "o3-mini",
      "chatgpt-4o-latest",
    ])
      expect(isOpenAIModelName(model), model).toBe(true);
    for (const model of [
      "llama3.1:8b",
      "Qwen2.5-0.5B-Instruct-Q4_K_M",
      "meta-llama/Llama-3-8B",
      "mistral",
      "",
    ])
      expect(isOpenAIModelName(model), model).toBe(false);
  });
});

describe("encodingForModel", () => {
  it("picks cl100k_base for gpt-4 and gpt-3.5, o200k_base for newer and unknown models", () => {
    for (const model of [
      "gpt-4",
      "gpt-4-turbo",
      "gpt-4-0613",
      "gpt-3.5-turbo",
      "openai/gpt-4",
      "ft:gpt-3.5-turbo:acme::x",
      "text-embedding-3-small",
    ]) {
      expect(encodingForModel(model), model).toBe("cl100k_base");
    }
    for (const model of [
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4.1",
      "gpt-4.1-nano",
      "o1",
      "o3-mini",
      "o4-mini",
      "gpt-5",
      "llama-3-8b",
      undefined,
    ]) {
      expect(encodingForModel(model), String(model)).toBe("o200k_base");
    }
  });
});

describe("createTokenCounter", () => {
  it("counts known strings with the model's encoding", async () => {
    const o200k = await createTokenCounter("gpt-4o");
    const cl100k = await createTokenCounter("gpt-4");
    expect(o200k("hello world")).toBe(2);
    expect(cl100k("hello world")).toBe(2);
    // The encodings differ on Japanese: o200k_base has whole-word tokens for it.
    expect(o200k("こんにちは世界")).toBe(2);
    expect(cl100k("こんにちは世界")).toBe(4);
    expect((await createTokenCounter())("こんにちは世界")).toBe(2);
  });

  it("counts special-token look-alikes in untrusted text as plain text instead of throwing", async () => {
    const count = await createTokenCounter();
    expect(count("<|endoftext|>")).toBe(7);
    expect(count("")).toBe(0);
  });
});
