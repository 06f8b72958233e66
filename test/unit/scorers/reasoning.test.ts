import { describe, expect, it } from "vitest";
import { stripReasoning } from "../../../src/scorers/reasoning.js";

describe("stripReasoning", () => {
  it("leaves an output without think blocks as it is", () => {
    expect(stripReasoning("  The answer is 4.\n")).toEqual({
      answer: "  The answer is 4.\n",
      reasoning: null,
    });
  });

  it("removes a think block and keeps its text", () => {
    expect(stripReasoning("<think>\n2 + 2 = 4\n</think>\n\nThe answer is 4.")).toEqual({
      answer: "The answer is 4.",
      reasoning: "2 + 2 = 4",
    });
  });

  it("removes several blocks", () => {
    const result = stripReasoning("<think>one</think>A<think>two</think>B");
    expect(result).toEqual({ answer: "AB", reasoning: "one\n\ntwo" });
  });

  it("treats an unclosed leading block as all reasoning", () => {
    expect(stripReasoning("<think>Let me count: 1, 2, 3 and the budget ran out")).toEqual({
      answer: "",
      reasoning: "Let me count: 1, 2, 3 and the budget ran out",
    });
  });

  it("treats text before a lone closing tag as reasoning (template opened the block)", () => {
    expect(stripReasoning("Okay, 6 x 7 is 42.\n</think>\n\\boxed{42}")).toEqual({
      answer: "\\boxed{42}",
      reasoning: "Okay, 6 x 7 is 42.",
    });
  });

  it("reports an empty block as empty reasoning rather than none", () => {
    expect(stripReasoning("<think>\n\n</think>Paris")).toEqual({ answer: "Paris", reasoning: "" });
  });
});
