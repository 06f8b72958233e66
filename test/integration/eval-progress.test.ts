import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { startTestServer, type TestServer } from "../helpers/openai-test-server.js";

const ESC = String.fromCharCode(27);
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A terminal on stderr (the progress bar shows only there), collecting what is drawn. */
function terminalIo(cwd: string, env: NodeJS.ProcessEnv): { io: CliIo; drawn: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  const chunks: string[] = [];
  stderr.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")));
  const stdout = new PassThrough();
  stdout.resume();
  return { io: { stdout, stderr, env, cwd }, drawn: () => chunks.join("") };
}

describe("eval's progress on a terminal", () => {
  it("draws a bar with the total and the time left from the start, though the dataset streams", async () => {
    server = await startTestServer({ respond: () => "4", latencyMs: 2 });
    const dir = mkdtempSync(join(tmpdir(), "promptsmith-progress-"));
    // More jobs than the runner reads ahead (1024), so the total is unknown for a while.
    const cases = Array.from({ length: 700 }, (_, i) => JSON.stringify({ id: `c${i}`, q: `${i}`, a: "4" }));
    writeFileSync(join(dir, "cases.jsonl"), `${cases.join("\n")}\n`);
    writeFileSync(
      join(dir, "promptsmith.yaml"),
      [
        "providers: [openai:test-model]",
        "prompts:",
        "  - { id: a, text: 'A {{q}}' }",
        "  - { id: b, text: 'B {{q}}' }",
        "tests: { path: cases.jsonl, expected: a }",
        "scorer: exact",
        "cache: false",
      ].join("\n"),
    );
    const { io, drawn } = terminalIo(dir, { OPENAI_BASE_URL: server.url });
    expect(await main(["eval", dir, "-j", "4"], io)).toBe(0);
    const lines = drawn()
      // Cursor movements and line clearing between redraws.
      .replace(new RegExp(`${ESC}(?:\\[[0-9;?]*[A-Za-z]|7|8)`, "g"), "\n")
      .split(/[\r\n]+/)
      .filter((line) => line.includes(" jobs"));
    const totals = lines.map((line) => /(\d+)\/(\d+) jobs/.exec(line)).filter((m) => m !== null);
    // The total is known from the first redraws on, though the runner is a thousand jobs short of
    // the last case: the rows are counted beside the run.
    expect(totals.length).toBeGreaterThan(2);
    expect(totals.every((m) => m[2] === "1400")).toBe(true);
    expect(Number(totals[0][1])).toBeLessThan(400);
    expect(lines.some((line) => / \d+\/1400 jobs · \S+ left · 0 errors · 0 cached$/.test(line))).toBe(true);
  });
});
