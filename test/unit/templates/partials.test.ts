import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPromptEngine } from "../../../src/templates/index.js";
import { userErrorOf } from "./support.js";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "promptsmith-partials-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(relative: string, text: string): string {
  const path = join(dir, relative);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe("partials", () => {
  it("registers every .hbs file under the directory by relative path without extension", () => {
    write("header.hbs", "Be brief.");
    write("shots/block.hbs", "{{#user}}Q: {{question}}{{/user}}{{#assistant}}A: {{answer}}{{/assistant}}");
    write("shots/deep/label.hbs", "{{upper this}}");
    write("notes.txt", "not a partial");
    const engine = createPromptEngine({ partialsDir: dir });
    expect(engine.partials).toEqual(["header", "shots/block", "shots/deep/label"]);

    const template = engine.compile(
      "{{#system}}{{> header}}{{/system}}{{#each shots}}{{> shots/block}}{{/each}}{{#user}}Q: {{question}} {{> shots/deep/label tag}}{{/user}}",
      { file: "main.hbs" },
    );
    const messages = template.render({
      question: "q",
      tag: "math",
      shots: [{ question: "q1", answer: "a1" }],
    });
    expect(messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Q: q1" },
      { role: "assistant", content: "A: a1" },
      { role: "user", content: "Q: q MATH" },
    ]);
  });

  it("locates a missing variable inside the partial's own file", () => {
    const partial = write("shots/block.hbs", "Q: {{question}}\nWhy: {{rationale}}\n");
    const template = createPromptEngine({ partialsDir: dir }).compile(
      "{{#each shots}}{{> shots/block}}{{/each}}",
      {
        file: "main.hbs",
      },
    );
    const error = userErrorOf(() => template.render({ shots: [{ question: "q1" }] }, { caseId: "9" }));
    expect(error.code).toBe("template-missing-variable");
    expect(error.message).toBe('variable "rationale" is not defined (case 9)');
    expect(error.location).toEqual({ file: partial, line: 2, column: 8 });
  });

  it("reports a syntax error in a partial when the engine is created", () => {
    const partial = write("bad.hbs", "ok\n{{#if x}}unclosed");
    const error = userErrorOf(() => createPromptEngine({ partialsDir: dir }));
    expect(error.code).toBe("template-syntax");
    expect(error.location?.file).toBe(partial);
  });

  it("refuses a role block nested through a partial", () => {
    write("turn.hbs", "{{#assistant}}A{{/assistant}}");
    const template = createPromptEngine({ partialsDir: dir }).compile("{{#user}}\n  {{> turn}}\n{{/user}}", {
      file: "main.hbs",
    });
    const error = userErrorOf(() => template.render({}));
    expect(error.code).toBe("template-syntax");
    expect(error.message).toBe("{{#assistant}} is nested inside {{#user}}; role blocks cannot be nested");
    expect(error.location?.file).toBe(join(dir, "turn.hbs"));
  });

  it("lists the registered partials when one is missing", () => {
    write("header.hbs", "x");
    const error = userErrorOf(() =>
      createPromptEngine({ partialsDir: dir }).compile("a\n{{> heder}}", { file: "main.hbs" }),
    );
    expect(error.code).toBe("template-not-found");
    expect(error.location).toEqual({ file: "main.hbs", line: 2, column: 5 });
    expect(error.hint).toBe("registered partials: header");
  });

  it("refuses a partials directory that does not exist", () => {
    const error = userErrorOf(() => createPromptEngine({ partialsDir: join(dir, "missing") }));
    expect(error.code).toBe("template-not-found");
  });

  it("keeps partials of one engine out of another", () => {
    write("header.hbs", "x");
    createPromptEngine({ partialsDir: dir });
    expect(createPromptEngine().partials).toEqual([]);
    expect(userErrorOf(() => createPromptEngine().compile("{{> header}}", { file: "m.hbs" })).code).toBe(
      "template-not-found",
    );
  });
});
