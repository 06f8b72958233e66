import { describe, expect, it } from "vitest";
import type { GateResult } from "../../../src/record/types.js";
import {
  escapeCommandData,
  escapeCommandProperty,
  renderGithub,
  UNPARSED_WARNING,
  workflowCommand,
} from "../../../src/reporters/github.js";
import { renderMarkdownReport } from "../../../src/reporters/markdown.js";
import { caseResult } from "../../helpers/records.js";
import { mixedCases, recordOf } from "../../helpers/run-record.js";

describe("workflow command escaping", () => {
  // The rules of @actions/core's command.ts (escapeData, escapeProperty).
  it("escapes %, CR and LF in the message, and also : and , in properties", () => {
    expect(escapeCommandData("50% done\r\nnext: a,b")).toBe("50%25 done%0D%0Anext: a,b");
    expect(escapeCommandProperty("50% done\r\nnext: a,b")).toBe("50%25 done%0D%0Anext%3A a%2Cb");
  });

  it("cannot be made to end a command early or start a second one", () => {
    const line = workflowCommand("error", { title: "x::y,file=z" }, "msg\n::error::injected");
    expect(line).toBe("::error title=x%3A%3Ay%2Cfile=z::msg%0A::error::injected");
    expect(line.split("\n")).toHaveLength(1);
  });
});

describe("renderGithub", () => {
  const gates: GateResult[] = [
    {
      rule: "regression",
      prompt: "cot",
      provider: "openai:m",
      passed: false,
      message: "cot · openai:m: worse than plain, p = 0.01",
      actual: -0.2,
      limit: 0,
    },
    {
      rule: "accuracy",
      prompt: "plain",
      provider: "openai:m",
      passed: true,
      message: "fine",
      actual: 1,
      limit: 0.5,
    },
  ];

  it("has an ::error per failed gate and nothing for a gate that passed", () => {
    const { annotations } = renderGithub(recordOf([caseResult("a", "4")], { gates }));
    expect(annotations).toEqual([
      "::error title=promptsmith gate failed%3A regression::cot · openai:m: worse than plain, p = 0.01",
    ]);
  });

  it(`warns about a variant whose unparsed share is above the threshold (default ${UNPARSED_WARNING})`, () => {
    // plain: 1 unparsed of 5 (20%); cot: none.
    const record = recordOf(mixedCases());
    expect(renderGithub(record).annotations).toEqual([
      "::warning title=promptsmith%3A unparsed answers::plain · openai:m: 1 of 5 answers (20.0%25) could not be read, above 5.0%25",
    ]);
    expect(renderGithub(record, { unparsedWarning: 0.2 }).annotations).toEqual([]);
  });

  it("has the Markdown report as its step summary", () => {
    const record = recordOf(mixedCases(), { gates });
    expect(renderGithub(record).summary).toBe(renderMarkdownReport(record));
  });
});
