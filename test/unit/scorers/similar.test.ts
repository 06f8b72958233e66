import { describe, expect, it } from "vitest";
import { createScorer } from "../../../src/scorers/registry.js";
import { cosine } from "../../../src/scorers/similar.js";
import type { EmbedCall, ScorerSpec } from "../../../src/scorers/types.js";

/** An embedding endpoint stand-in: a fixed vector per text, and a log of what was asked. */
function embedding(vectors: Record<string, number[]>): { embed: EmbedCall; asked: string[] } {
  const asked: string[] = [];
  const embed: EmbedCall = async (texts) => {
    asked.push(...texts);
    return texts.map((text) => Float32Array.from(vectors[text]));
  };
  return { embed, asked };
}

async function similar(spec: Partial<ScorerSpec>, output: string, expected: unknown, embed: EmbedCall) {
  const scorer = await createScorer({ type: "similar", ...spec }, { baseDir: "." });
  return scorer({ output, expected, vars: {}, embed });
}

describe("similar", () => {
  it("scores the cosine similarity of the closest expected text", async () => {
    // cos([1,0,0], [1,1,0]) = 1/√2; cos([1,0,0], [0,1,0]) = 0: by hand.
    const { embed } = embedding({ out: [1, 0, 0], near: [1, 1, 0], far: [0, 1, 0] });
    const result = await similar({ threshold: 0.7 }, "out", ["far", "near"], embed);
    expect(result.score).toBeCloseTo(Math.SQRT1_2, 6);
    expect(result.pass).toBe(true);
    expect(result.reason).toContain('to "near"');
    expect(cosine([3, 4], [4, 3])).toBeCloseTo(24 / 25, 12);
  });

  it("cannot score vectors of different lengths, rather than comparing a truncation", async () => {
    // Truncated to two dimensions these would be identical (similarity 1).
    const { embed } = embedding({ out: [1, 0], other: [1, 0, 5] });
    const result = await similar({}, "out", "other", embed);
    expect(result).toMatchObject({ pass: false, score: 0, unscored: true });
    expect(result.reason).toBe(
      'similar scorer: the embeddings differ in length (2 for the output, 3 for "other"), and vectors of different lengths cannot be compared',
    );
    // Negation leaves it failed.
    expect(await similar({ not: true }, "out", "other", embed)).toMatchObject({
      pass: false,
      unscored: true,
    });
    expect(() => cosine([1, 0], [1, 0, 5])).toThrow(RangeError);
  });

  it("fails an empty output plainly without embedding it, so not-similar passes", async () => {
    const { embed, asked } = embedding({});
    expect(await similar({}, "  ", "anything", embed)).toMatchObject({ pass: false, score: 0 });
    expect((await similar({}, "  ", "anything", embed)).unparsed).toBeUndefined();
    expect(await similar({ not: true }, "", "anything", embed)).toMatchObject({ pass: true, score: 1 });
    expect(asked).toEqual([]);
  });
});
