import { describe, expect, it } from "vitest";
import { createDownloadProgress } from "../../../src/cli/download-progress.js";
import type { CliIo } from "../../../src/cli/io.js";

function fakeIo(isTTY: boolean): { io: CliIo; text: () => string } {
  let written = "";
  const write = (chunk: string) => {
    written += chunk;
    return true;
  };
  const stream = { isTTY, write } as unknown as CliIo["stderr"];
  return { io: { stdout: stream, stderr: stream, env: {}, cwd: "/" }, text: () => written };
}

describe("createDownloadProgress", () => {
  it("writes one line at the start and one at the end when stderr is not a terminal", () => {
    const { io, text } = fakeIo(false);
    const report = createDownloadProgress(io);
    const total = 40 * 1024 * 1024;
    for (let done = 0; done <= total; done += total / 8) report({ downloaded: done, total });
    report({ downloaded: total, total });
    expect(text().split("\n").filter(Boolean)).toEqual([
      "downloading the model of 40 MB (once; it is kept in the model cache)",
      "downloaded 40.0 MB",
    ]);
  });

  it("draws a bar in place on a terminal", () => {
    const { io, text } = fakeIo(true);
    const report = createDownloadProgress(io);
    report({ downloaded: 0, total: 1024 * 1024 });
    report({ downloaded: 1024 * 1024, total: 1024 * 1024 });
    expect(text()).toContain("\r██████████████████████████████ 100% 1.0 MB of 1 MB");
    expect(text().trim().endsWith("downloaded 1.0 MB")).toBe(true);
  });
});
