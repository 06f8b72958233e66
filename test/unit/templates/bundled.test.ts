import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../../src/providers/types.js";
import { createPromptEngine } from "../../../src/templates/index.js";
import { userErrorOf } from "./support.js";

const templatesDir = fileURLToPath(new URL("../../../templates/", import.meta.url));

function load(name: string) {
  const file = `${templatesDir}${name}`;
  return createPromptEngine().compile(readFileSync(file, "utf8"), { file });
}

const shots = [
  { question: "What is 2 + 3?", answer: "5", rationale: "2 plus 3 makes 5." },
  { question: "What is 4 * 2?", answer: "8", rationale: "4 twice is 8." },
];
const testCase = { question: "What is 6 - 1?", answer: "5" };

const roles = (messages: ChatMessage[]) => messages.map((message) => message.role);

describe("bundled templates", () => {
  it.each(["zero-shot.hbs", "few-shot.hbs", "in-context.hbs", "chain-of-thought.hbs"])(
    "%s starts with a header comment and is listed in the README",
    (name) => {
      expect(readFileSync(`${templatesDir}${name}`, "utf8")).toMatch(
        /^\{\{!--[\s\S]*?Variables:[\s\S]*?--\}\}\n/,
      );
      expect(readFileSync(`${templatesDir}README.md`, "utf8")).toContain(`\`${name}\``);
    },
  );

  it("zero-shot: a system instruction then the question, never the gold answer", () => {
    const messages = load("zero-shot.hbs").render({ ...testCase, answer: "GOLD" });
    expect(roles(messages)).toEqual(["system", "user"]);
    expect(messages[1].content).toBe("What is 6 - 1?");
    expect(JSON.stringify(messages)).not.toContain("GOLD");
    expect(JSON.stringify(messages)).not.toContain("{{");
  });

  it("few-shot: one user/assistant pair per shot as Q:/A:, then the question", () => {
    const messages = load("few-shot.hbs").render({ ...testCase, answer: "GOLD", shots });
    expect(roles(messages)).toEqual(["system", "user", "assistant", "user", "assistant", "user"]);
    expect(messages.slice(1)).toEqual([
      { role: "user", content: "Q: What is 2 + 3?" },
      { role: "assistant", content: "A: 5" },
      { role: "user", content: "Q: What is 4 * 2?" },
      { role: "assistant", content: "A: 8" },
      { role: "user", content: "Q: What is 6 - 1?" },
    ]);
    expect(JSON.stringify(messages)).not.toContain("GOLD");
  });

  it("few-shot with no shots is the system message and the question", () => {
    const messages = load("few-shot.hbs").render({ ...testCase, shots: [] });
    expect(roles(messages)).toEqual(["system", "user"]);
  });

  it("few-shot needs shots", () => {
    const error = userErrorOf(() => load("few-shot.hbs").render(testCase, { caseId: "4" }));
    expect(error.code).toBe("template-missing-variable");
    expect(error.message).toBe('variable "shots" is not defined (case 4)');
  });

  it("in-context: one user message with the task, the demonstrations and the query", () => {
    const messages = load("in-context.hbs").render({ ...testCase, answer: "GOLD", shots });
    expect(messages).toHaveLength(1);
    expect(messages[0].role).toBe("user");
    expect(messages[0].content).toBe(
      [
        "Answer the question. Follow the format of the examples.",
        "",
        "Question: What is 2 + 3?",
        "Answer: 5",
        "",
        "Question: What is 4 * 2?",
        "Answer: 8",
        "",
        "Question: What is 6 - 1?",
        "Answer:",
      ].join("\n"),
    );
  });

  it("in-context takes an optional task description", () => {
    const [message] = load("in-context.hbs").render({ ...testCase, shots: [], task: "Do arithmetic." });
    expect(message.content).toBe("Do arithmetic.\n\nQuestion: What is 6 - 1?\nAnswer:");
  });

  it("chain-of-thought: rationale then the answer in each demo, and the trigger for the query", () => {
    const messages = load("chain-of-thought.hbs").render({ ...testCase, answer: "GOLD", shots });
    expect(roles(messages)).toEqual(["system", "user", "assistant", "user", "assistant", "user"]);
    expect(messages[2]).toEqual({ role: "assistant", content: "A: 2 plus 3 makes 5. The answer is 5." });
    expect(messages[4]).toEqual({ role: "assistant", content: "A: 4 twice is 8. The answer is 8." });
    expect(messages[5]).toEqual({ role: "user", content: "Q: What is 6 - 1?\nA: Let's think step by step." });
    expect(JSON.stringify(messages)).not.toContain("GOLD");
  });

  it("chain-of-thought names the missing rationale in its own file", () => {
    const error = userErrorOf(() =>
      load("chain-of-thought.hbs").render({ ...testCase, shots: [{ question: "q", answer: "a" }] }),
    );
    expect(error.message).toBe('variable "rationale" is not defined');
    expect(error.location?.file).toBe(`${templatesDir}chain-of-thought.hbs`);
    expect(error.location?.line).toBeGreaterThan(1);
  });
});
