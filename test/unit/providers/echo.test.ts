import { describe, expect, it } from "vitest";
import { createEchoProvider, renderEchoText } from "../../../src/providers/echo.js";
import { isProviderError } from "../../../src/providers/types.js";

const spec = { id: "echo", label: "Echo", params: {} };

describe("echo provider", () => {
  it("returns a lone user message verbatim", () => {
    expect(renderEchoText([{ role: "user", content: "just this" }])).toBe("just this");
  });

  it("joins several messages as role: content lines", () => {
    const text = renderEchoText([
      { role: "system", content: "sys" },
      { role: "user", content: "question" },
      { role: "assistant", content: "answer" },
    ]);
    expect(text).toBe("system: sys\nuser: question\nassistant: answer");
  });

  it("returns n copies, emits each through onToken, and reports zero usage", async () => {
    const provider = createEchoProvider(spec);
    const tokens: string[] = [];
    const response = await provider.complete({
      messages: [{ role: "user", content: "hi" }],
      n: 3,
      onToken: (t) => tokens.push(t),
    });
    expect(response.outputs).toEqual(["hi", "hi", "hi"]);
    expect(tokens).toEqual(["hi", "hi", "hi"]);
    expect(response.usage).toEqual({ prompt: 0, completion: 0 });
    expect(provider.label).toBe("Echo");
  });

  it("fails with aborted when the signal is already aborted", async () => {
    const provider = createEchoProvider(spec);
    const error = await provider
      .complete({ messages: [{ role: "user", content: "hi" }], signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(isProviderError(error) && error.kind).toBe("aborted");
  });
});
