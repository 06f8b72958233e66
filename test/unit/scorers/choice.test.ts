import { describe, expect, it } from "vitest";
import { extractChoice } from "../../../src/scorers/choice.js";
import { score } from "./score.js";

describe("extractChoice", () => {
  it.each([
    ["\\boxed{B}", "B"],
    ["Therefore the answer is $\\boxed{\\text{C}}$.", "C"],
    ["(B)", "B"],
    ["I would pick (D) here.", "D"],
    ["B) 14 km", "B"],
    ["The answer is B", "B"],
    ["The answer is (B).", "B"],
    ["the correct answer is (c)", "C"],
    ["Answer: B", "B"],
    ["**Answer:** C", "C"],
    ["The answer is **D**.", "D"],
    ["I think it's **B**.", "B"],
    ["B", "B"],
    ["b", "B"],
    ["  C.  ", "C"],
    ["The best option is E, since…", "E"],
    ["Answer: Option A", "A"],
    ["After checking each one, C is correct.", "C"],
    ["Let me think.\nB\n", "B"],
    ["A. Paris", "A"],
    ["I choose option C because it fits.", "C"],
    ["(A) is incorrect and (B) is incorrect. Therefore C.", "C"],
  ])("reads %j as %s", (text, letter) => {
    expect(extractChoice(text)?.letter).toBe(letter);
  });

  it("does not read the article A as a choice", () => {
    expect(extractChoice("A train leaves at 3 pm and travels 60 km/h.")).toBeNull();
    expect(extractChoice("A train leaves at 3 pm. The answer is C.")?.letter).toBe("C");
    expect(extractChoice("A train leaves at 3 pm, so it is (D).")?.letter).toBe("D");
  });

  it("prefers an explicit answer phrase over earlier and later stray marks", () => {
    const text = "Options: (A) 12 (B) 14 (C) 16 (D) 18.\nThe answer is (B).\nNote: (C) is a common mistake.";
    expect(extractChoice(text)?.letter).toBe("B");
  });

  it("takes the last explicit answer when the model changes its mind", () => {
    expect(extractChoice("The answer is A. Wait, no: the answer is C.")?.letter).toBe("C");
  });

  it("ignores letters outside the allowed choices", () => {
    expect(extractChoice("The answer is E.", "ABCD")).toBeNull();
    expect(extractChoice("The answer is (E), or rather (B)", "ABCD")?.letter).toBe("B");
  });

  it("does not read a capital letter that starts a word", () => {
    expect(extractChoice("Both options look fine.")).toBeNull();
    expect(extractChoice("Answer: Both are equal.")).toBeNull();
  });
});

describe("choice scorer", () => {
  const choice = { type: "choice" };

  it("passes a match and names where the letter came from", async () => {
    const result = await score(choice, "Let's see. 3 x 4 = 12, so the answer is (B).", "B");
    expect(result).toMatchObject({ pass: true, score: 1, extracted: "B" });
    expect(result.reason).toContain("expected B, extracted B");
    expect(result.reason).toContain("answer is (B)");
  });

  it("compares upper-case and accepts (B) as expected", async () => {
    expect((await score(choice, "answer: b", "(B)")).pass).toBe(true);
    expect((await score(choice, "The answer is a bit unclear.", "A")).unparsed).toBe(true);
    expect((await score(choice, "Answer: (b)", "(B)")).pass).toBe(true);
    expect((await score(choice, "C", "c")).pass).toBe(true);
  });

  it("fails a wrong letter", async () => {
    const result = await score(choice, "The answer is C", "B");
    expect(result).toMatchObject({ pass: false, score: 0, extracted: "C" });
    expect(result.unparsed).toBeUndefined();
  });

  it("is unparsed on the article trap and on a refusal", async () => {
    const trap = await score(choice, "A train leaves the station at noon.", "A");
    expect(trap).toMatchObject({ unparsed: true, extracted: null });
    expect(trap.reason).toContain("no option letter");
    const refusal = await score(choice, "I'm sorry, I can't answer that.", "A");
    expect(refusal.unparsed).toBe(true);
    expect(refusal.reason).toContain("refusal");
  });

  it("accepts any of several expected letters", async () => {
    expect((await score(choice, "(D)", ["A", "D"])).pass).toBe(true);
  });

  it("uses the choices option", async () => {
    const result = await score({ type: "choice", choices: "ABCD" }, "The answer is E", "E");
    expect(result.unparsed).toBe(true);
    expect(result.reason).toContain("ABCD");
    await expect(score({ type: "choice", choices: "AB1" }, "A", "A")).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.choices",
    });
  });

  it("fails, without throwing, when the expected answer is missing or not a letter", async () => {
    const missing = await score(choice, "B", null);
    expect(missing).toMatchObject({ pass: false, extracted: "B" });
    expect(missing.reason).toContain("no expected answer");
    const notLetter = await score(choice, "B", "Paris");
    expect(notLetter.pass).toBe(false);
    expect(notLetter.reason).toContain("not an option letter");
  });
});
