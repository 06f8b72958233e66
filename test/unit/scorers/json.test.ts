import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findJson, parseFieldPath } from "../../../src/scorers/json.js";
import { score } from "./score.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/scorers/", import.meta.url));

const PERSON = {
  type: "object",
  required: ["name", "age"],
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
};

describe("finding JSON in an output", () => {
  it("takes the whole text, else fenced blocks, else (anywhere) bracketed values", () => {
    expect(findJson(' {"a": 1} ')).toEqual([{ value: { a: 1 }, text: '{"a": 1}' }]);
    const fenced = 'Here you go:\n```json\n{"a": 2}\n```\nAnything else?';
    expect(findJson(fenced).map((f) => f.value)).toEqual([{ a: 2 }]);
    const loose = 'The result is {"a": 3, "b": "}"} and also [1, 2].';
    expect(findJson(loose)).toEqual([]);
    expect(findJson(loose, { anywhere: true }).map((f) => f.value)).toEqual([{ a: 3, b: "}" }, [1, 2]]);
    expect(findJson("{not json} {", { anywhere: true })).toEqual([]);
  });

  it("reads field paths", () => {
    expect(parseFieldPath("$.user.tags[1]")).toEqual(["user", "tags", 1]);
    expect(parseFieldPath("user.name")).toEqual(["user", "name"]);
    expect(parseFieldPath(`$["odd key"][0]`)).toEqual(["odd key", 0]);
    expect(parseFieldPath("$")).toEqual([]);
    expect(parseFieldPath("user..name")).toBeNull();
    expect(parseFieldPath("$.items[*]")).toBeNull();
  });
});

describe("json scorer", () => {
  it("passes valid JSON, whole or fenced, and fails anything else", async () => {
    expect(await score({ type: "json" }, '{"ok": true}')).toMatchObject({
      pass: true,
      extracted: '{"ok": true}',
    });
    expect((await score({ type: "json" }, 'Sure!\n```\n{"ok": true}\n```')).pass).toBe(true);
    const prose = await score({ type: "json" }, "ok: true");
    expect(prose).toMatchObject({ pass: false, score: 0 });
    expect(prose.reason).toBe("no valid JSON in the output or a fenced code block");
    expect(prose.unparsed).toBeUndefined();
  });

  it("strict wants the whole output; contains takes JSON anywhere", async () => {
    const fenced = '```json\n{"ok": true}\n```';
    const strict = await score({ type: "json", strict: true }, fenced);
    expect(strict.pass).toBe(false);
    expect(strict.reason).toMatch(/^no valid JSON in the output: /);
    expect((await score({ type: "json", contains: true }, 'The answer: {"ok": true}.')).pass).toBe(true);
    await expect(score({ type: "json", strict: true, contains: true }, "{}")).rejects.toMatchObject({
      code: "scorer-invalid",
    });
  });

  it("checks a JSON Schema and names the failing path and keyword", async () => {
    const ok = await score({ type: "json", schema: PERSON }, '{"name": "Ada", "age": 36}');
    expect(ok).toMatchObject({ pass: true, reason: "valid JSON; matches the schema" });
    const bad = await score({ type: "json", schema: PERSON }, '{"name": "Ada", "age": "36"}');
    expect(bad.pass).toBe(false);
    expect(bad.reason).toBe("JSON does not match the schema: /age must be integer (keyword type)");
    const missing = await score({ type: "json", schema: PERSON }, '{"age": -1}');
    expect(missing.reason).toMatch(
      /^JSON does not match the schema: the top level must have required property 'name' \(keyword required\) \(and 1 more\)$/,
    );
  });

  it("reads a schema file (draft 2020-12 by its $schema)", async () => {
    const spec = { type: "json", schema: "person.schema.json" };
    expect(
      (await score(spec, '{"name": "Ada", "age": 36, "tags": ["x"]}', undefined, { baseDir: FIXTURES })).pass,
    ).toBe(true);
    const bad = await score(spec, '{"name": "Ada", "age": 36, "tags": [1]}', undefined, {
      baseDir: FIXTURES,
    });
    expect(bad.reason).toBe("JSON does not match the schema: /tags/0 must be string (keyword type)");
    await expect(
      score({ type: "json", schema: "nope.json" }, "{}", undefined, { baseDir: FIXTURES }),
    ).rejects.toMatchObject({
      code: "scorer-invalid",
      field: "scorer.schema",
    });
    await expect(score({ type: "json", schema: { type: "wat" } }, "{}")).rejects.toMatchObject({
      code: "scorer-invalid",
      message: expect.stringContaining("not a valid JSON Schema"),
    });
  });

  it("checks fields by path, whatever the key order", async () => {
    const spec = { type: "json", fields: { "$.user.name": "Ada", "user.langs": ["en", "fr"], "$.n": 3 } };
    const output = '{"n": 3, "user": {"langs": ["en", "fr"], "name": "Ada"}}';
    expect(await score(spec, output)).toMatchObject({ pass: true, reason: "valid JSON; 3 fields equal" });
    const wrong = await score(spec, '{"n": "3", "user": {"langs": ["en", "fr"], "name": "Ada"}}');
    expect(wrong.reason).toBe('field $.n is "\\"3\\"", expected "3"');
    const gone = await score(spec, '{"n": 3, "user": {"name": "Ada"}}');
    expect(gone.reason).toBe("field user.langs is missing");
    await expect(score({ type: "json", fields: { "a[*]": 1 } }, "{}")).rejects.toMatchObject({
      field: "scorer.fields",
    });
  });

  it("with contains, the first JSON value that passes counts", async () => {
    const output = 'First {"name": 1} then {"name": "Ada", "age": 3}';
    const result = await score({ type: "json", contains: true, schema: PERSON }, output);
    expect(result).toMatchObject({ pass: true, extracted: '{"name": "Ada", "age": 3}' });
    const none = await score({ type: "json", contains: true, schema: PERSON }, 'A {"name": 1} B {"x": 2}');
    expect(none.reason).toMatch(
      /^JSON does not match the schema: the top level must have required property 'age' .*\(2 JSON values found, none passed\)$/,
    );
  });
});
