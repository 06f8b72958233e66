import { describe, expect, it } from "vitest";
import { score } from "./score.js";

describe("exact scorer", () => {
  it("compares trimmed output with the expected answer", async () => {
    const result = await score({ type: "exact" }, "  Paris\n", "Paris");
    expect(result).toMatchObject({ pass: true, score: 1, extracted: "Paris" });
    expect(result.reason).toBe('output equals "Paris"');
  });

  it("is case-sensitive unless ignoreCase is set", async () => {
    const strict = await score({ type: "exact" }, "paris", "Paris");
    expect(strict.pass).toBe(false);
    expect(strict.reason).toBe('expected "Paris", got "paris"');
    const loose = await score({ type: "exact", ignoreCase: true }, "paris", "Paris");
    expect(loose.pass).toBe(true);
    expect(loose.reason).toContain("ignoring case");
  });

  it("keeps whitespace when trim is false", async () => {
    expect((await score({ type: "exact", trim: false }, "Paris\n", "Paris")).pass).toBe(false);
    expect((await score({ type: "exact", trim: false }, "Paris", "Paris")).pass).toBe(true);
  });

  it("compares numbers and booleans as text, and accepts any answer of a list", async () => {
    expect((await score({ type: "exact" }, "18", 18)).pass).toBe(true);
    expect((await score({ type: "exact" }, "true", true)).pass).toBe(true);
    const list = await score({ type: "exact" }, "NYC", ["New York", "NYC"]);
    expect(list.pass).toBe(true);
    const miss = await score({ type: "exact" }, "LA", ["New York", "NYC"]);
    expect(miss.reason).toBe('expected one of "New York", "NYC", got "LA"');
  });

  it("is unparsed on empty output and fails on a missing expected answer", async () => {
    expect(await score({ type: "exact" }, "   ", "x")).toMatchObject({
      unparsed: true,
      reason: "output is empty",
    });
    const missing = await score({ type: "exact" }, "x", undefined);
    expect(missing).toMatchObject({ pass: false, score: 0 });
    expect(missing.reason).toBe("the case has no expected answer");
    const weird = await score({ type: "exact" }, "x", { a: 1 });
    expect(weird.reason).toContain("must be a string, number, boolean or a list");
  });

  it("rejects a non-boolean option", async () => {
    await expect(score({ type: "exact", ignoreCase: "true" }, "x", "x")).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.ignoreCase",
      hint: 'write true, not "true"',
    });
  });
});
