import { describe, expect, it } from "vitest";
import { render, userErrorOf } from "./support.js";

/** The content of the single message a helper expression renders to. */
const out = (source: string, vars: Record<string, unknown> = {}) => render(source, vars)[0].content;

describe("helpers", () => {
  it("json stringifies, with an optional indent, and is not escaped", () => {
    expect(out("{{json row}}", { row: { a: "<x>", b: [1, 2] } })).toBe('{"a":"<x>","b":[1,2]}');
    expect(out("{{json row 2}}", { row: { a: 1 } })).toBe('{\n  "a": 1\n}');
    expect(out("{{json s}}", { s: 'say "hi"' })).toBe('"say \\"hi\\""');
    expect(out("{{json n}}", { n: null })).toBe("null");
  });

  it("trim, upper and lower change text", () => {
    expect(out("[{{trim s}}]", { s: "  padded \n" })).toBe("[padded]");
    expect(out("{{upper s}}", { s: "Yes" })).toBe("YES");
    expect(out("{{lower s}}", { s: "Yes" })).toBe("yes");
    expect(out("[{{upper s}}]", { s: null })).toBe("[]");
  });

  it("join joins a list with a separator, default comma-space", () => {
    expect(out("{{join xs}}", { xs: ["a", "b", "c"] })).toBe("a, b, c");
    expect(out('{{join xs " | "}}', { xs: [1, 2] })).toBe("1 | 2");
    expect(out("{{join xs}}", { xs: [] })).toBe("");
    expect(out("{{join s}}", { s: "solo" })).toBe("solo");
  });

  it("inc numbers from 1 with @index", () => {
    expect(out("{{#each xs}}{{inc @index}}. {{this}}\n{{/each}}", { xs: ["a", "b"] })).toBe("1. a\n2. b");
    expect(out("{{inc n}}", { n: "41" })).toBe("42");
  });

  it("letter labels choices A, B, … Z, AA", () => {
    expect(
      out("{{#each xs}}{{letter @index}}) {{this}}{{#unless @last}} {{/unless}}{{/each}}", {
        xs: ["x", "y", "z"],
      }),
    ).toBe("A) x B) y C) z");
    expect(out("{{letter 25}} {{letter 26}} {{letter 27}} {{letter 701}} {{letter 702}}")).toBe(
      "Z AA AB ZZ AAA",
    );
  });

  it("letter refuses a negative or fractional index", () => {
    const error = userErrorOf(() => render("{{letter n}}", { n: -1 }, { caseId: "c1" }));
    expect(error.code).toBe("template-syntax");
    expect(error.message).toContain('helper "letter" expects a whole number');
    expect(error.message).toContain("(case c1)");
    expect(error.location?.file).toBe("prompt.hbs");
    expect(userErrorOf(() => render("{{letter 1.5}}")).code).toBe("template-syntax");
  });

  it("eq compares strictly and works as a subexpression in #if", () => {
    const source = '{{#if (eq label "yes")}}Y{{else}}N{{/if}}';
    expect(out(source, { label: "yes" })).toBe("Y");
    expect(out(source, { label: "no" })).toBe("N");
    expect(out("{{#if (eq n 1)}}Y{{else}}N{{/if}}", { n: "1" })).toBe("N");
    expect(out("{{#if (eq missing 1)}}Y{{else}}N{{/if}}", {})).toBe("N");
  });

  it("add adds numbers", () => {
    expect(out("{{add a b}}", { a: 2, b: "3" })).toBe("5");
    expect(out("{{#each xs}}{{add @index 10}},{{/each}}", { xs: [0, 0] })).toBe("10,11,");
    const error = userErrorOf(() => render("line\n{{add a 1}}", { a: "two" }));
    expect(error.message).toBe('helper "add" expects a number, received "two"');
    expect(error.location).toEqual({ file: "prompt.hbs", line: 2, column: 1 });
  });

  it("default falls back for missing, null and empty values only", () => {
    expect(out('{{default hint "none"}}', {})).toBe("none");
    expect(out('{{default hint "none"}}', { hint: null })).toBe("none");
    expect(out('{{default hint "none"}}', { hint: "" })).toBe("none");
    expect(out('{{default hint "none"}}', { hint: 0 })).toBe("0");
    expect(out('{{default hint "none"}}', { hint: "use units" })).toBe("use units");
  });

  it("nests helpers as subexpressions", () => {
    expect(out("{{upper (join xs)}}", { xs: ["a", "b"] })).toBe("A, B");
    expect(out("{{letter (add 1 1)}}")).toBe("C");
  });
});
