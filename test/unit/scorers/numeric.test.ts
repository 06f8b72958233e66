import { describe, expect, it } from "vitest";
import { extractFinalNumber } from "../../../src/scorers/numeric.js";
import { score } from "./score.js";

const numeric = { type: "numeric" };

describe("extractFinalNumber", () => {
  it.each([
    ["\\(\\boxed{3}\\)", 3],
    ["So the result is $\\boxed{\\frac{1}{2}}$.", 0.5],
    ["\\boxed{-\\frac{3}{4}}", -0.75],
    ["\\boxed{\\dfrac{10}{4}}", 2.5],
    ["\\boxed{2\\frac{1}{2}}", 2.5],
    ["\\boxed{\\text{18 apples}}", 18],
    ["\\boxed{x = 5}", 5],
    ["\\boxed{\\$1,200}", 1200],
    ["\\boxed{25\\%}", 25],
    ["\\boxed{1{,}000}", 1000],
    ["\\boxed{3 \\times 10^{8}}", 3e8],
    ["The total cost is $1,200.", 1200],
    ["She has **18** apples.", 18],
    ["The answer is 18.", 18],
    ["Natalia sold 48/2 = 24 clips in May.\n#### 72", 72],
    ["It drops to -3.5 degrees.", -3.5],
    ["It drops to \u22123.5 degrees.", -3.5],
    ["About 45% of them.", 45],
    ["That costs €30 or £25.", 25],
    ["Three quarters is 3/4", 0.75],
    ["The distance is 1.5e3 metres", 1500],
    ["First 5, then 7, finally 12", 12],
    ["I think 1, 2", 2],
    ["**Answer:** 42\n\nCheck: 6 x 7 = 42, and 40 + 2 = 42.", 42],
    ["The answer is: 7. Then we add 3 to get 10 for the next part.", 7],
    ["The answer is\n\n  15", 15],
    ["The final answer is $x = 9$. I hope it is correct.", 9],
    ["First answer: 3. Wait, let me redo it. The answer is 4.", 4],
    ["The answer is unclear. Computing: 3 + 4 = 7", 7],
    ["18.", 18],
    ["It is 2^{10}", 1024],
    ["He left at 18:00", 18],
    ["Janet has 16 - 3 - 4 = 9 eggs. 9 * $2 = $18. The answer is $18.", 18],
    ["She makes 9 * 2 = <<9*2=18>>18 dollars.\n#### 18", 18],
    ["0.5", 0.5],
  ])("reads %j as %d", (text, value) => {
    expect(extractFinalNumber(text)?.value).toBeCloseTo(value, 9);
  });

  it("keeps the number as written, without currency or markup", () => {
    expect(extractFinalNumber("It costs $1,200.")).toEqual({ value: 1200, text: "1,200" });
    expect(extractFinalNumber("So **18.0**")).toEqual({ value: 18, text: "18.0" });
    expect(extractFinalNumber("\\boxed{\\frac{1}{2}}")).toEqual({ value: 0.5, text: "1/2" });
  });

  it("takes the last boxed answer, even over a later stray number", () => {
    expect(extractFinalNumber("\\boxed{5} is wrong, it is \\boxed{6}. Step 7 done.")?.value).toBe(6);
  });

  it.each([
    ["I can't help with that."],
    ["I'm sorry, but I cannot help with question 3."],
    ["No idea."],
    [""],
    ["\\boxed{\\sqrt{2}}"],
    ["\\boxed{\\frac{\\pi}{2}}"],
    ["\\boxed{B}"],
  ])("finds no number in %j", (text) => {
    expect(extractFinalNumber(text)).toBeNull();
  });

  it("does not merge a date range or a list into one number", () => {
    expect(extractFinalNumber("pages 3\u20135")?.value).toBe(5);
    expect(extractFinalNumber("values 1,2345")?.value).toBe(2345);
  });
});

describe("numeric scorer", () => {
  it("passes on a boxed LaTeX answer and says why", async () => {
    const result = await score(numeric, "Thus \\(\\boxed{3}\\)", 3);
    expect(result).toMatchObject({ pass: true, score: 1, extracted: "3" });
    expect(result.reason).toBe("expected 3, extracted 3 (within 1e-6)");
  });

  it("reports the extraction as written", async () => {
    const result = await score(numeric, "The answer is 18.0", "18");
    expect(result.pass).toBe(true);
    expect(result.reason).toBe("expected 18, extracted 18.0 (within 1e-6)");
  });

  it("normalises the expected answer the same way (GSM8K gold, thousands)", async () => {
    expect((await score(numeric, "#### 72", "Natalia sold 48 + 24 = 72 clips.\n#### 72")).pass).toBe(true);
    expect((await score(numeric, "Total: $1,200", "1,200")).pass).toBe(true);
    expect((await score(numeric, "**18**", "$18")).pass).toBe(true);
  });

  it("fails a wrong answer with the distance in the reason", async () => {
    const result = await score(numeric, "The answer is 19.", 18);
    expect(result).toMatchObject({ pass: false, score: 0, extracted: "19" });
    expect(result.unparsed).toBeUndefined();
    expect(result.reason).toContain("off by 1");
  });

  it("handles negatives, percentages and the last-number rule", async () => {
    expect((await score(numeric, "The temperature fell to -3.5", -3.5)).pass).toBe(true);
    expect((await score(numeric, "Growth was 12%.", "12%")).pass).toBe(true);
    const last = await score(numeric, "He had 5 apples, ate 2 and bought 9, so 12", 12);
    expect(last).toMatchObject({ pass: true, extracted: "12" });
  });

  it("marks a refusal as unparsed", async () => {
    const result = await score(numeric, "I can't help with that.", 18);
    expect(result).toEqual({
      pass: false,
      score: 0,
      extracted: null,
      unparsed: true,
      reason: "output looks like a refusal; no number extracted",
    });
  });

  it("marks an output without a number as unparsed", async () => {
    const result = await score(numeric, "It is impossible to say.", 18);
    expect(result.unparsed).toBe(true);
    expect(result.reason).toBe("no number found in output");
  });

  it("applies the absolute and relative tolerances", async () => {
    expect((await score({ type: "numeric", tolerance: 0.01 }, "3.14159", 3.14)).pass).toBe(true);
    expect((await score({ type: "numeric" }, "3.14159", 3.14)).pass).toBe(false);
    const relative = await score({ type: "numeric", relative: 0.01 }, "1005", 1000);
    expect(relative.pass).toBe(true);
    expect(relative.reason).toContain("relative 0.01");
    expect((await score({ type: "numeric", relative: 0.001 }, "1005", 1000)).pass).toBe(false);
  });

  it("accepts any of several expected answers", async () => {
    const result = await score(numeric, "x = 0.5", ["1/2", 2]);
    expect(result.pass).toBe(true);
    expect(result.reason).toContain("one of 0.5, 2");
    expect((await score(numeric, "x = 3", ["1/2", 2])).pass).toBe(false);
  });

  it("fails, without throwing, when the case has no usable expected answer", async () => {
    const missing = await score(numeric, "18", undefined);
    expect(missing).toMatchObject({ pass: false, score: 0, extracted: "18" });
    expect(missing.reason).toContain("no expected answer");
    const words = await score(numeric, "18", "eighteen");
    expect(words.pass).toBe(false);
    expect(words.reason).toContain("not a number");
  });

  it("rejects bad options with scorer-invalid", async () => {
    await expect(score({ type: "numeric", tolerance: "0.1" }, "1", 1)).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.tolerance",
      hint: 'write 0.1, not "0.1"',
    });
    await expect(score({ type: "numeric", tolerance: -1 }, "1", 1)).rejects.toMatchObject({
      code: "scorer-invalid",
    });
    await expect(score({ type: "numeric", tolerence: 0.1 }, "1", 1)).rejects.toMatchObject({
      code: "scorer-invalid",
      message: 'numeric scorer has no option "tolerence"',
    });
  });
});
