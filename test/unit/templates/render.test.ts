import { describe, expect, it } from "vitest";
import { createPromptEngine } from "../../../src/templates/index.js";
import { render, userErrorOf } from "./support.js";

describe("strict variables", () => {
  it("reports a missing variable with file, line, column, name, case id and the available variables", () => {
    const engine = createPromptEngine();
    const template = engine.compile("Answer this.\n\nQ: {{question}}\n", { file: "templates/qa.hbs" });
    const error = userErrorOf(() => template.render({ id: "17", answer: "4" }, { caseId: "17" }));
    expect(error.code).toBe("template-missing-variable");
    expect(error.location).toEqual({ file: "templates/qa.hbs", line: 3, column: 6 });
    expect(error.message).toBe('variable "question" is not defined (case 17)');
    expect(error.hint).toBe("available variables: id, answer");
    expect(error.hint).not.toContain("\n");
  });

  it("leaves the case out of the message when no case id is given", () => {
    const error = userErrorOf(() => render("{{question}}", { answer: 1 }));
    expect(error.message).toBe('variable "question" is not defined');
  });

  it("names the whole path of a missing nested variable and what its parent has", () => {
    const error = userErrorOf(() => render("x {{a.b}}", { a: { c: 1, d: 2 } }, { caseId: "3" }));
    expect(error.code).toBe("template-missing-variable");
    expect(error.message).toBe('variable "a.b" is not defined (case 3)');
    expect(error.location).toEqual({ file: "prompt.hbs", line: 1, column: 5 });
    expect(error.hint).toBe('available variables: a; "a" has: c, d');
  });

  it("reports a nested variable whose parent is missing", () => {
    const error = userErrorOf(() => render("{{a.b}}", { q: 1 }));
    expect(error.message).toBe('variable "a.b" is not defined');
    expect(error.location?.line).toBe(1);
  });

  it("reports a missing parent inside an #if argument, which Handlebars only trips over", () => {
    const error = userErrorOf(() => render("line\n{{#if meta.flag}}yes{{/if}}", { q: 1 }));
    expect(error.code).toBe("template-missing-variable");
    expect(error.message).toBe('variable "meta.flag" is not defined');
    expect(error.location).toEqual({ file: "prompt.hbs", line: 2, column: 7 });
  });

  it("blames the reference whose parent is really missing", () => {
    const error = userErrorOf(() => render("{{#if a.b}}{{/if}}\n{{#if c.b}}{{/if}}", { a: {} }));
    expect(error.message).toBe('variable "c.b" is not defined');
    expect(error.location).toEqual({ file: "prompt.hbs", line: 2, column: 7 });
  });

  it("locates a missing variable written with spaces or whitespace control", () => {
    expect(userErrorOf(() => render("ab {{ question }}")).location).toEqual({
      file: "prompt.hbs",
      line: 1,
      column: 7,
    });
    expect(userErrorOf(() => render("{{~question~}}")).message).toBe('variable "question" is not defined');
  });

  it("lets #if test a field that may be missing", () => {
    expect(render("{{#if hint}}Hint: {{hint}}{{else}}no hint{{/if}}", {})).toEqual([
      { role: "user", content: "no hint" },
    ]);
  });

  it("is strict about the list of an #each", () => {
    const error = userErrorOf(() => render("{{#each shots}}{{question}}{{/each}}", { question: "q" }));
    expect(error.message).toBe('variable "shots" is not defined');
    expect(error.location).toEqual({ file: "prompt.hbs", line: 1, column: 9 });
  });

  it("says a name inside #each is looked up on the item", () => {
    const error = userErrorOf(() =>
      render("{{#each shots}}\n{{rationale}}\n{{/each}}", { question: "q", shots: [{ question: "a" }] }),
    );
    expect(error.message).toBe('variable "rationale" is not defined');
    expect(error.location).toEqual({ file: "prompt.hbs", line: 2, column: 3 });
    expect(error.hint).toContain("available variables: question, shots");
    expect(error.hint).toContain("inside {{#each shots}} names refer to the current item");
  });

  it("is strict about value helper arguments", () => {
    const error = userErrorOf(() => render("{{upper qestion}}", { question: "q" }));
    expect(error.code).toBe("template-missing-variable");
    expect(error.message).toBe('variable "qestion" is not defined');
  });

  it("renders null and zero as values, not as missing", () => {
    expect(render("[{{a}}][{{b}}][{{c}}]", { a: null, b: 0, c: false })).toEqual([
      { role: "user", content: "[][0][false]" },
    ]);
  });
});

describe("values", () => {
  it("never renders a value as a template", () => {
    const [message] = render("Q: {{question}}", {
      question: "what is {{x}} and {{#system}}hi{{/system}}?",
      x: "X",
    });
    expect(message.content).toBe("Q: what is {{x}} and {{#system}}hi{{/system}}?");
  });

  it("never escapes HTML", () => {
    expect(render("{{a}} {{{a}}}", { a: `<b>&"'` })).toEqual([{ role: "user", content: `<b>&"' <b>&"'` }]);
  });

  it("keeps inner formatting of the template", () => {
    expect(render("\n\n  indented\n\n\tline {{x}}\n\n", { x: 1 })[0].content).toBe("  indented\n\n\tline 1");
  });

  it("reads @root and @index", () => {
    expect(
      render("{{#each xs}} {{@index}}:{{this}}:{{@root.sep}}{{/each}}", { xs: ["a", "b"], sep: "|" })[0]
        .content,
    ).toBe(" 0:a:| 1:b:|");
  });
});

describe("syntax errors at load", () => {
  const compile = (source: string) => () => createPromptEngine().compile(source, { file: "<inline:broken>" });

  it("locates an unclosed tag", () => {
    const error = userErrorOf(compile("first line\nsecond {{question\n"));
    expect(error.code).toBe("template-syntax");
    expect(error.location?.file).toBe("<inline:broken>");
    expect(error.location?.line).toBe(2);
    expect(error.message).toBe("template syntax error: unexpected end of template");
    expect(error.hint).toContain("left open");
  });

  it("locates a parse error past the first line with its column", () => {
    const error = userErrorOf(compile("a\nb\n  {{foo bar=}}"));
    expect(error.location).toEqual({ file: "<inline:broken>", line: 3, column: 13 });
    expect(error.message).toBe('template syntax error: unexpected "}}"');
  });

  it("reports an unclosed block at the end of the template", () => {
    const error = userErrorOf(compile("x\n{{#each shots}}\n{{question}}\n"));
    expect(error.code).toBe("template-syntax");
    expect(error.message).toBe("template syntax error: unexpected end of template");
    expect(error.location?.line).toBe(4);
  });

  it("names a mismatched closing tag", () => {
    const error = userErrorOf(compile("ok\n{{#if a}}x{{/each}}"));
    expect(error.message).toBe("template syntax error: if doesn't match each");
    expect(error.location).toEqual({ file: "<inline:broken>", line: 2, column: 4 });
    expect(error.hint).toBe("close {{#if}} with {{/if}}");
  });

  it("refuses an unknown helper, listing the known ones", () => {
    const error = userErrorOf(compile("{{shout question}}"));
    expect(error.code).toBe("template-syntax");
    expect(error.message).toBe('unknown helper "shout"');
    expect(error.hint).toContain("upper");
  });

  it("refuses a helper with the wrong number of arguments", () => {
    const error = userErrorOf(compile("\n  {{add 1}}"));
    expect(error.message).toBe('helper "add" takes 2 argument(s), got 1');
    expect(error.location).toEqual({ file: "<inline:broken>", line: 2, column: 3 });
    expect(userErrorOf(compile("{{upper}}")).hint).toBe(
      'to print a variable named "upper", write {{this.upper}}',
    );
  });

  it("refuses a partial that is not registered", () => {
    const error = userErrorOf(compile("{{> shots/block}}"));
    expect(error.code).toBe("template-not-found");
    expect(error.message).toBe('partial "shots/block" not found');
  });
});
