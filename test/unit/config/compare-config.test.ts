import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { isUserError } from "../../../src/errors.js";

/** A config in a temp dir with a one-line dataset, and `extra` appended. */
async function load(extra: string) {
  const dir = mkdtempSync(join(tmpdir(), "promptsmith-compare-config-"));
  writeFileSync(join(dir, "test.jsonl"), '{"id":"1","q":"x","expected":"y"}\n');
  writeFileSync(
    join(dir, "promptsmith.yaml"),
    `providers: [echo]
prompts:
  - { id: a, text: "A {{q}}" }
  - { id: b, text: "B {{q}}", thresholds: { accuracy: 0.9 } }
  - { id: c, text: "C {{q}}", cot: [false, true] }
tests: test.jsonl
${extra}
`,
  );
  return loadConfig(dir, { env: {} });
}

describe("baseline, thresholds and repeat in the config", () => {
  it("reads them, with defaults for what is not written", async () => {
    const suite = await load(
      "baseline: a\nthresholds: { accuracyLower: 0.5, errors: 0 }\nrepeat: 3\nrequire: all\nalpha: 0.01",
    );
    expect(suite.baseline).toEqual({ prompt: "a" });
    expect(suite.compare).toEqual({ alpha: 0.01, bootstrap: 10000, midP: false, onError: "fail" });
    expect(suite.thresholds).toEqual({ accuracyLower: 0.5, errors: 0 });
    expect(suite.prompts.find((p) => p.id === "b")?.thresholds).toEqual({ accuracy: 0.9 });
    expect(suite.repeat).toEqual({ k: 3, require: "all" });
    expect((await load("")).repeat).toEqual({ k: 1, require: "majority" });
  });

  it("names the baseline's problem: an unknown prompt, a swept one, an unknown provider", async () => {
    const problem = async (extra: string) => {
      try {
        await load(extra);
      } catch (error) {
        if (isUserError(error)) return `${error.field}: ${error.message} | ${error.hint}`;
        throw error;
      }
      return "no error";
    };
    expect(await problem("baseline: aa")).toBe(
      'baseline: no prompt has the id "aa" | did you mean "a"? the prompts are: a, b, c@cot=false, c@cot=true',
    );
    expect(await problem("baseline: c")).toBe(
      'baseline: prompt "c" is swept into 2 variants; the baseline must be one of them | name one, e.g. baseline: "c@cot=false"',
    );
    expect(await problem("baselineProvider: ech")).toMatch(
      /^baselineProvider: no provider has the id or label "ech" \| did you mean "echo"\?/,
    );
    expect(await problem("onError: skip")).toMatch(/^onError: /);
  });
});
