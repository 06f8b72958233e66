import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { score } from "./score.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "promptsmith-js-scorer-"));
  const modules: Record<string, string> = {
    "boolean.mjs": "export default (output, { expected }) => output.includes(expected);",
    "number.mjs": "export default (output) => output.length / 10;",
    "object.mjs": `export default async (output, { expected, vars }) => ({
      pass: output === expected,
      score: output === expected ? 1 : 0.25,
      reason: "compared with " + expected + " for " + vars.topic,
      extracted: output,
    });`,
    "bare-object.mjs": "export const check = (output) => ({ pass: output === 'yes' });",
    "score-only.mjs": "export default () => ({ score: 0.7 });",
    "throws.mjs": "export default () => { throw new Error('boom: bad output'); };",
    "nonsense.mjs": "export default () => 'looks good';",
    "no-default.mjs": "export const grade = () => true;",
    "broken.mjs": "export default (output => ;",
    "scorer.ts": "export default () => true;",
  };
  for (const [name, source] of Object.entries(modules)) await writeFile(join(dir, name), source);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const js = (path: string, extra: Record<string, unknown> = {}) => ({ type: "js", path, ...extra });

describe("js scorer", () => {
  it("an edited scorer file is loaded again (eval --watch builds the scorers anew in one process)", async () => {
    const file = join(dir, "edited.mjs");
    await writeFile(file, "export default (output) => output === 'a';");
    expect((await score(js("edited.mjs"), "a", "", { baseDir: dir })).pass).toBe(true);
    await writeFile(file, "export default (output) => output === 'b';");
    // A later modification time, as an editor's save gives.
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    expect((await score(js("edited.mjs"), "a", "", { baseDir: dir })).pass).toBe(false);
    expect((await score(js("edited.mjs"), "b", "", { baseDir: dir })).pass).toBe(true);
  });

  it("turns a boolean into score 1 or 0", async () => {
    const pass = await score(js("boolean.mjs"), "It is Paris.", "Paris", { baseDir: dir });
    expect(pass).toMatchObject({ pass: true, score: 1, reason: "js scorer boolean.mjs: pass" });
    const failed = await score(js("boolean.mjs"), "It is Rome.", "Paris", { baseDir: dir });
    expect(failed).toMatchObject({ pass: false, score: 0, reason: "js scorer boolean.mjs: fail" });
  });

  it("passes a number at or above the threshold", async () => {
    const five = await score(js("number.mjs"), "12345", "x", { baseDir: dir });
    expect(five).toMatchObject({ pass: true, score: 0.5 });
    expect(five.reason).toContain("threshold 0.5");
    expect((await score(js("number.mjs"), "1234", "x", { baseDir: dir })).pass).toBe(false);
    expect((await score(js("number.mjs", { threshold: 0.3 }), "1234", "x", { baseDir: dir })).pass).toBe(
      true,
    );
  });

  it("keeps an object's fields and passes expected and vars (async function)", async () => {
    const result = await score(js("object.mjs"), "Paris", "Paris", {
      baseDir: dir,
      vars: { topic: "capitals" },
    });
    expect(result).toEqual({
      pass: true,
      score: 1,
      extracted: "Paris",
      reason: "compared with Paris for capitals",
    });
    const partial = await score(js("object.mjs"), "Rome", "Paris", {
      baseDir: dir,
      vars: { topic: "capitals" },
    });
    expect(partial).toMatchObject({ pass: false, score: 0.25 });
  });

  it("fills a missing reason and score, and uses a named export", async () => {
    const result = await score(js("bare-object.mjs", { export: "check" }), "yes", null, { baseDir: dir });
    expect(result).toEqual({
      pass: true,
      score: 1,
      extracted: null,
      reason: "js scorer bare-object.mjs: pass",
    });
    const scoreOnly = await score(js("score-only.mjs"), "x", null, { baseDir: dir });
    expect(scoreOnly).toMatchObject({ pass: true, score: 0.7, reason: "js scorer score-only.mjs: pass" });
  });

  it("turns a throw into a failed result carrying the message", async () => {
    const result = await score(js("throws.mjs"), "x", "y", { baseDir: dir });
    expect(result).toMatchObject({ pass: false, score: 0 });
    expect(result.reason).toBe("js scorer throws.mjs threw: boom: bad output");
  });

  it("fails on a return value it cannot read", async () => {
    const result = await score(js("nonsense.mjs"), "x", "y", { baseDir: dir });
    expect(result.pass).toBe(false);
    expect(result.reason).toContain("returned string");
  });

  it("names the file when the export is missing", async () => {
    const error = await score(js("no-default.mjs"), "x", "y", { baseDir: dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "scorer-invalid",
      message: 'js scorer no-default.mjs has no function export "default"',
      field: "scorer.export",
    });
    expect((error as { hint: string }).hint).toContain("grade");
  });

  it("names the file when it is missing, broken or not JavaScript", async () => {
    await expect(score(js("nope.mjs"), "x", "y", { baseDir: dir })).rejects.toMatchObject({
      code: "scorer-invalid",
      message: expect.stringContaining("js scorer file not found: nope.mjs"),
      field: "scorer.path",
    });
    await expect(score(js("broken.mjs"), "x", "y", { baseDir: dir })).rejects.toMatchObject({
      code: "scorer-invalid",
      message: expect.stringContaining("js scorer broken.mjs could not be loaded"),
    });
    await expect(score(js("scorer.ts"), "x", "y", { baseDir: dir })).rejects.toMatchObject({
      code: "scorer-invalid",
      message: expect.stringContaining("scorer.ts"),
    });
  });
});
