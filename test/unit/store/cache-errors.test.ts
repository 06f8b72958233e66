import { describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";
import { refusedWrite } from "../../../src/store/cache.js";

const sqlite = (code: string) => Object.assign(new Error(`${code}: from SQLite`), { code });

// The whole path (a cache on a 96 KB tmpfs filling up mid-run: exit 2, then --resume finishing all
// 3,000 results) needs a mount, so it was checked by hand; this pins what the user is told.
describe("a cache write the disk refuses", () => {
  it("stops the run with a located user error that says how to finish it", () => {
    const full = refusedWrite(sqlite("SQLITE_FULL"), "/w/.promptsmith/cache.db") as UserError;
    expect(isUserError(full)).toBe(true);
    expect(full.message).toBe("cannot write to the response cache: no space left on the device");
    expect(full.location).toEqual({ file: "/w/.promptsmith/cache.db" });
    expect(full.hint).toContain("eval --resume");
    expect((refusedWrite(sqlite("SQLITE_READONLY_DIRECTORY"), "c.db") as UserError).message).toContain(
      "read-only",
    );
    expect((refusedWrite(sqlite("SQLITE_IOERR_WRITE"), "c.db") as UserError).message).toContain(
      "SQLITE_IOERR_WRITE",
    );
  });

  it("leaves other errors as they are", () => {
    const busy = sqlite("SQLITE_BUSY");
    expect(refusedWrite(busy, "c.db")).toBe(busy);
    const bug = new TypeError("bad");
    expect(refusedWrite(bug, "c.db")).toBe(bug);
  });
});
