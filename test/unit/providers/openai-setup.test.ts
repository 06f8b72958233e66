import { describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";
import { createOpenAIProvider, renderCompletionPrompt } from "../../../src/providers/openai.js";
import type { ProviderSpec } from "../../../src/providers/types.js";

function userErrorOf(build: () => unknown): UserError {
  try {
    build();
  } catch (error) {
    if (isUserError(error)) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

const base: ProviderSpec = { id: "openai:gpt-4o-mini", label: "g", params: {} };

/** A fetch that records calls and answers one chat completion, so no request leaves the process. */
function recordingFetch() {
  const calls: { url: string; headers: Headers; body: unknown }[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(input),
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)),
    });
    const body = {
      id: "x",
      object: "chat.completion",
      created: 0,
      model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe("createOpenAIProvider set-up", () => {
  it("refuses the OpenAI API without a key: provider-auth with a hint", () => {
    const error = userErrorOf(() => createOpenAIProvider(base, { env: {} }));
    expect(error.code).toBe("provider-auth");
    expect(error.message).toContain("OPENAI_API_KEY is not set");
    expect(error.hint).toMatch(/export OPENAI_API_KEY/);
    expect(error.hint).toMatch(/apiKeyEnv/);
    expect(error.hint).toMatch(/baseURL/);
  });

  it("names the configured apiKeyEnv when that variable is missing", () => {
    const error = userErrorOf(() =>
      createOpenAIProvider({ ...base, apiKeyEnv: "TEAM_KEY" }, { env: { OPENAI_API_KEY: "sk-other" } }),
    );
    expect(error.code).toBe("provider-auth");
    expect(error.message).toContain("TEAM_KEY is not set");
  });

  it("rejects an id with no model and a baseURL that is not http(s)", () => {
    expect(userErrorOf(() => createOpenAIProvider({ ...base, id: "openai:" }, { env: {} })).code).toBe(
      "provider-invalid",
    );
    const badURL = userErrorOf(() =>
      createOpenAIProvider({ ...base, baseURL: "localhost:8080" }, { env: {} }),
    );
    expect(badURL.code).toBe("provider-invalid");
    expect(badURL.field).toBe("baseURL");
  });

  it("calls the OpenAI API through the injected fetch with the key from the injected env", async () => {
    const { calls, fetchImpl } = recordingFetch();
    const provider = createOpenAIProvider(base, { env: { OPENAI_API_KEY: "sk-injected" }, fetch: fetchImpl });
    const response = await provider.complete({ messages: [{ role: "user", content: "hi" }] });
    expect(response.outputs).toEqual(["ok"]);
    expect(response.usage).toEqual({ prompt: 0, completion: 0 });
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("https://api.openai.com/v1/chat/completions");
    expect(calls[0].headers.get("authorization")).toBe("Bearer sk-injected");
    expect(calls[0].body).toMatchObject({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
  });
});

describe("renderCompletionPrompt", () => {
  it("keeps a lone user message verbatim and joins others with blank lines", () => {
    expect(renderCompletionPrompt([{ role: "user", content: "Q: 2+2\nA:" }])).toBe("Q: 2+2\nA:");
    expect(
      renderCompletionPrompt([
        { role: "system", content: "s" },
        { role: "user", content: "u" },
      ]),
    ).toBe("system: s\n\nuser: u");
  });
});
