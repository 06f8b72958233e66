import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isUserError } from "../../../src/errors.js";
import { createKeyCheck, isLoopbackHost, resolveApiKeys } from "../../../src/server/api-keys.js";

function keyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "promptsmith-keys-")), "keys.txt");
  writeFileSync(file, text);
  return file;
}

describe("resolveApiKeys", () => {
  it("gathers keys from flags, the environment and a file, without duplicates", async () => {
    const file = keyFile("# team keys\nfile-key-1\n\n  file-key-2  \nflag-key\n");
    const keys = await resolveApiKeys({
      keys: ["flag-key"],
      file,
      env: { PROMPTSMITH_SERVE_API_KEYS: "env-key-1, env-key-2,," },
    });
    expect(keys).toEqual(["flag-key", "env-key-1", "env-key-2", "file-key-1", "file-key-2"]);
    expect(await resolveApiKeys({ env: { PROMPTSMITH_SERVE_API_KEYS: " " } })).toEqual([]);
  });

  it("refuses an empty key or one an Authorization header cannot carry, without quoting it", async () => {
    await expect(resolveApiKeys({ keys: [""] })).rejects.toMatchObject({ code: "usage", field: "--api-key" });
    const spaced = resolveApiKeys({ keys: ["secret part"] });
    await expect(spaced).rejects.toMatchObject({ code: "usage", message: expect.stringContaining("space") });
    await expect(spaced).rejects.not.toMatchObject({ message: expect.stringContaining("secret") });
    const file = keyFile("good\nbad\tkey\n");
    await expect(resolveApiKeys({ file })).rejects.toMatchObject({ location: { file, line: 2 } });
  });

  it("refuses a key file it cannot read or that holds no key", async () => {
    const missing = await resolveApiKeys({ file: "/nowhere/keys.txt" }).catch((error: unknown) => error);
    expect(isUserError(missing)).toBe(true);
    expect((missing as Error).message).toContain("/nowhere/keys.txt");
    await expect(resolveApiKeys({ file: keyFile("# only a comment\n\n") })).rejects.toMatchObject({
      message: "the API key file holds no key",
    });
  });
});

describe("createKeyCheck", () => {
  const check = createKeyCheck(["alpha-key", "beta-key"]);

  it("accepts any of the keys as a Bearer token, the scheme in any case", () => {
    expect(check("Bearer alpha-key")).toBe("ok");
    expect(check("bearer beta-key")).toBe("ok");
    expect(check("  BEARER   beta-key ")).toBe("ok");
  });

  it("tells a missing token from a wrong one", () => {
    expect(check(undefined)).toBe("missing");
    expect(check("")).toBe("missing");
    expect(check("Basic YWxwaGEta2V5")).toBe("missing");
    expect(check("Bearer")).toBe("missing");
    expect(check("Bearer alpha")).toBe("wrong");
    expect(check("Bearer alpha-key-and-more")).toBe("wrong");
    expect(check("Bearer ALPHA-KEY")).toBe("wrong");
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.10", false],
    ["example.internal", false],
  ])("%s → %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
