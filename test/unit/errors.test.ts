import { describe, expect, it } from "vitest";
import { formatUserError, isUserError, UserError, unwritableFileError } from "../../src/errors.js";

describe("unwritableFileError", () => {
  const place = {
    file: "/w/out/r.json",
    what: "write results here",
    field: "--output",
    hint: "choose another",
  };
  const refusal = (code: string, syscall: string, path: string) =>
    Object.assign(new Error(`${code}: refused`), { code, syscall, path });

  it("turns a refusal a person can fix into a located user error", () => {
    const error = unwritableFileError(refusal("EACCES", "open", "/w/out/r.json"), place);
    expect(isUserError(error)).toBe(true);
    expect(formatUserError(error as UserError)).toBe(
      "/w/out/r.json --output: cannot write results here: permission denied\n  hint: choose another",
    );
    expect((error as UserError).code).toBe("file-unwritable");
  });

  it("names the part of the path that refused, and reads mkdir's EEXIST as a file in the way", () => {
    const error = unwritableFileError(refusal("EEXIST", "mkdir", "/w/out"), place) as UserError;
    expect(error.message).toBe(
      "cannot write results here: a part of the path is a file, not a folder (/w/out)",
    );
    expect(
      (unwritableFileError(refusal("ENOSPC", "write", "/w/out/r.json"), place) as UserError).message,
    ).toBe("cannot write results here: no space left on the device");
  });

  it("leaves anything else as it was: a bug stays a bug", () => {
    const other = refusal("EEXIST", "open", "/w/out/r.json");
    expect(unwritableFileError(other, place)).toBe(other);
    const plain = new TypeError("x is undefined");
    expect(unwritableFileError(plain, place)).toBe(plain);
  });
});

describe("isUserError", () => {
  it("knows a UserError of another copy of errors.ts (the CLI's front and its commands have one each)", async () => {
    // A second instance of the module, as a second bundle holds one: its class is another class.
    const secondCopy = "../../src/errors.js?second-copy";
    const other = (await import(/* @vite-ignore */ secondCopy)) as typeof import("../../src/errors.js");
    const foreign = new other.UserError({ code: "usage", message: "from the other copy" });
    expect(foreign instanceof UserError).toBe(false);
    expect(isUserError(foreign)).toBe(true);
    expect(formatUserError(foreign)).toBe("from the other copy");
    expect(isUserError(new Error("plain"))).toBe(false);
    expect(isUserError(Object.assign(new Error("look-alike"), { name: "UserError", code: "usage" }))).toBe(
      false,
    );
  });
});
