import { describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";
import { createProvider } from "../../../src/providers/index.js";

async function userErrorOf(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isUserError(error)) throw new Error(`expected a UserError, got ${String(error)}`);
  return error;
}

describe("createProvider", () => {
  it("rejects an unknown prefix with provider-invalid and a hint listing the id forms", async () => {
    const error = await userErrorOf(
      createProvider({ id: "anthropic:claude", label: "c", params: {} }, { env: {} }),
    );
    expect(error.code).toBe("provider-invalid");
    expect(error.message).toContain("anthropic:claude");
    expect(error.hint).toContain("openai:<model>");
    expect(error.hint).toContain("echo");
    expect(error.hint).toContain("local:<path.gguf>");
  });

  it("builds the echo provider for `echo`", async () => {
    const provider = await createProvider({ id: "echo", label: "", params: {} });
    expect(provider.id).toBe("echo");
    expect(provider.label).toBe("echo");
    expect((await provider.complete({ messages: [{ role: "user", content: "ping" }] })).outputs).toEqual([
      "ping",
    ]);
  });

  it("builds an openai provider for `openai:<model>`", async () => {
    const provider = await createProvider(
      { id: "openai:m", label: "mine", baseURL: "http://127.0.0.1:9/v1", params: {} },
      { env: {} },
    );
    expect(provider.id).toBe("openai:m");
    expect(provider.label).toBe("mine");
  });
});
