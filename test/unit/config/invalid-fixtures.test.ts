import path from "node:path";
import { describe, expect, test } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { formatUserError } from "../../../src/errors.js";
import { flatten, ROOT, userErrorOf } from "./helpers.js";

const INVALID = path.join(ROOT, "fixtures/invalid");

// The config errors' fixture folders; other rooms own the folders of the errors they raise.
const CASES: Array<{ code: string; problems: Array<{ at?: string; field?: string; code?: string }> }> = [
  { code: "config-not-found", problems: [{}] },
  { code: "config-syntax", problems: [{ at: "promptsmith.yaml:4:1" }] },
  {
    code: "config-invalid",
    problems: [
      { at: "promptsmith.yaml:6:36", field: "prompts[0].shots.k" },
      { at: "promptsmith.yaml:8:9", field: "scorer" },
      { at: "promptsmith.yaml:9:1", field: "temprature" },
    ],
  },
  { code: "template-not-found", problems: [{ at: "promptsmith.yaml:4:5", field: "prompts[0]" }] },
  { code: "dataset-not-found", problems: [{ at: "promptsmith.yaml:7:9", field: "tests.path" }] },
];

describe("fixtures/invalid/<code>/ fail to load with their code", () => {
  for (const { code, problems } of CASES) {
    test(code, async () => {
      const error = await userErrorOf(
        loadConfig(path.join(INVALID, code), { cwd: path.join(INVALID, code), env: {} }),
      );
      expect(error.code, formatUserError(error)).toBe(code);
      const found = flatten(error);
      expect(found).toHaveLength(problems.length);
      problems.forEach((expected, index) => {
        expect(found[index]).toMatchObject(expected);
        expect(found[index].hint, `problem ${index} has a hint`).toBeTruthy();
      });
    });
  }
});
