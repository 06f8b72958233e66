import { describe, expect, it } from "vitest";
import { score } from "./score.js";

describe("regex scorer", () => {
  const final = { type: "regex", pattern: String.raw`Final:\s*(\w+)` };

  it("extracts capture group 1 and compares it with the expected answer", async () => {
    const result = await score(final, "Reasoning...\nFinal: Paris", "Paris");
    expect(result).toMatchObject({ pass: true, score: 1, extracted: "Paris" });
    expect(result.reason).toContain('"Paris"');
    expect((await score(final, "Final: London", "Paris")).pass).toBe(false);
  });

  it("extracts the whole match when the pattern has no group", async () => {
    const result = await score(
      { type: "regex", pattern: String.raw`\d{4}-\d{2}-\d{2}` },
      "on 2024-05-01.",
      "2024-05-01",
    );
    expect(result).toMatchObject({ pass: true, extracted: "2024-05-01" });
  });

  it("passes on a match alone when the case has no expected answer", async () => {
    const result = await score(
      { type: "regex", pattern: "^\\{.*\\}$", flags: "s" },
      '{"ok": true}',
      undefined,
    );
    expect(result.pass).toBe(true);
    expect(result.reason).toContain("no expected answer");
  });

  it("is unparsed when the pattern does not match", async () => {
    const result = await score(final, "I don't know", "Paris");
    expect(result.unparsed).toBe(true);
    expect(result.reason).toContain("did not match");
  });

  it("compares ignoring case under the i flag", async () => {
    const spec = { type: "regex", pattern: String.raw`answer:\s*(\w+)`, flags: "i" };
    expect((await score(spec, "ANSWER: paris", "Paris")).pass).toBe(true);
    expect((await score({ ...final }, "Final: paris", "Paris")).pass).toBe(false);
  });

  it("gives the same answer for every output even with the g flag", async () => {
    const spec = { type: "regex", pattern: String.raw`(\d+)`, flags: "g" };
    expect((await score(spec, "12", "12")).pass).toBe(true);
    expect((await score(spec, "12", "12")).pass).toBe(true);
  });

  it("rejects an invalid pattern, invalid flags and a missing pattern", async () => {
    await expect(score({ type: "regex", pattern: "(unclosed" }, "x")).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.pattern",
    });
    await expect(score({ type: "regex", pattern: "x", flags: "q" }, "x")).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.flags",
    });
    await expect(score({ type: "regex" }, "x")).rejects.toMatchObject({
      code: "scorer-invalid",
      message: 'regex scorer needs the option "pattern"',
    });
  });
});
