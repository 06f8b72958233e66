import { describe, expect, it } from "vitest";
import { score } from "./score.js";

describe("contains scorer", () => {
  it("finds the expected text and extracts it", async () => {
    const result = await score({ type: "contains" }, "The capital of France is Paris.", "Paris");
    expect(result).toMatchObject({ pass: true, score: 1, extracted: "Paris" });
    expect(result.reason).toBe('output contains "Paris"');
  });

  it("is case-sensitive", async () => {
    const result = await score({ type: "contains" }, "the capital is paris", "Paris");
    expect(result).toMatchObject({ pass: false, extracted: null });
    expect(result.reason).toBe('output does not contain "Paris"');
  });

  it("passes on any of several answers and ignores blanks around them", async () => {
    expect((await score({ type: "contains" }, "It is NYC.", ["New York", " NYC "])).extracted).toBe("NYC");
  });

  it("fails on an empty expected answer instead of matching everything", async () => {
    const result = await score({ type: "contains" }, "anything", "  ");
    expect(result.pass).toBe(false);
    expect(result.reason).toContain("empty");
  });
});

describe("icontains scorer", () => {
  it("ignores case and extracts the output's own text", async () => {
    const result = await score({ type: "icontains" }, "THE CAPITAL IS PARIS.", "paris");
    expect(result).toMatchObject({ pass: true, extracted: "PARIS" });
    expect(result.reason).toContain("ignoring case");
  });

  it("treats regex characters in the answer literally", async () => {
    expect((await score({ type: "icontains" }, "costs $5.00 (net)", "$5.00 (NET)")).pass).toBe(true);
    expect((await score({ type: "icontains" }, "costs 5x00", "5.00")).pass).toBe(false);
  });

  it("fails on a missing expected answer", async () => {
    const result = await score({ type: "icontains" }, "x", null);
    expect(result.pass).toBe(false);
    expect(result.reason).toBe("the case has no expected answer");
  });
});
