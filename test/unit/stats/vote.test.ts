import { describe, expect, it } from "vitest";
import { majorityVote } from "../../../src/stats/vote.js";

describe("majorityVote", () => {
  it("picks the most frequent answer", () => {
    expect(majorityVote(["4", "5", "4", "6", "4"])).toEqual({ answer: "4", votes: 3, agreement: 0.6 });
  });

  it("gives a tie to the answer seen first", () => {
    expect(majorityVote(["b", "a", "a", "b"]).answer).toBe("b");
    expect(majorityVote(["a", "b", "b", "a"]).answer).toBe("a");
    expect(majorityVote(["x", "y", "z"])).toEqual({ answer: "x", votes: 1, agreement: 1 / 3 });
  });

  it("does not let unparsed answers vote, but counts them in agreement", () => {
    expect(majorityVote([null, null, "7", null, "7"])).toEqual({ answer: "7", votes: 2, agreement: 0.4 });
    // Three nulls outnumber one answer, yet the answer wins.
    expect(majorityVote([null, "3", null, null]).answer).toBe("3");
  });

  it("returns null with agreement 0 when nothing parsed or there are no samples", () => {
    expect(majorityVote([null, null])).toEqual({ answer: null, votes: 0, agreement: 0 });
    expect(majorityVote([])).toEqual({ answer: null, votes: 0, agreement: 0 });
  });

  it("compares exact strings by default and normalised keys when asked, returning the first spelling", () => {
    expect(majorityVote(["1,000", "1000", "1000"]).answer).toBe("1000");
    const normalize = (s: string) => s.replace(/[,$\s]/g, "");
    expect(majorityVote(["$1,000", "1000", "7", "7"], { normalize })).toEqual({
      answer: "$1,000",
      votes: 2,
      agreement: 0.5,
    });
  });
});
