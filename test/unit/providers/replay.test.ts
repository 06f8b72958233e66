import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";
import {
  type CassetteEntry,
  createReplayProvider,
  createReplayProviderFromSpec,
  openCassette,
} from "../../../src/providers/replay.js";
import { isProviderError } from "../../../src/providers/types.js";

const HEADER = {
  promptsmith: "cassette",
  version: 1,
  providers: [
    { label: "big", model: "gpt-big", params: { temperature: 0 } },
    { label: "small", model: "gpt-small", params: { temperature: 0 } },
  ],
};

function entry(key: string, extra: Partial<CassetteEntry> = {}): CassetteEntry {
  return {
    key,
    case: "1",
    prompt: "p",
    provider: "big",
    request: {
      model: "gpt-big",
      messages: [{ role: "user", content: "What is 2 + 2?" }],
      params: { temperature: 0 },
      sample: 0,
    },
    response: { output: "4", usage: { prompt: 5, completion: 1 }, latencyMs: 120 },
    ...extra,
  };
}

function cassetteFile(lines: unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "promptsmith-replay-")), "cassette.jsonl");
  writeFileSync(
    path,
    `${lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")}\n`,
  );
  return path;
}

async function userError(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isUserError(error)) throw new Error(`expected a UserError, got ${String(error)}`);
  return error;
}

describe("openCassette", () => {
  it("reads entries by key, each from its place in the file, whatever the characters before it", async () => {
    const path = cassetteFile([
      HEADER,
      entry("k1", { response: { output: "déjà vu ✓", usage: { prompt: 1, completion: 1 }, latencyMs: 1 } }),
      entry("k2"),
    ]);
    const cassette = await openCassette(path);
    expect(cassette.size).toBe(2);
    expect(cassette.get("k1")?.response?.output).toBe("déjà vu ✓");
    expect(cassette.get("k2")?.response?.output).toBe("4");
    expect(cassette.get("k3")).toBeUndefined();
    cassette.close();
  });

  it("reads a cassette checked out with CRLF line endings (git autocrlf) as the one written", async () => {
    // A line longer than a read chunk (64 KB) crosses chunks; "✓" is 3 bytes, so places are bytes.
    const long = "✓".repeat(30_000);
    const path = cassetteFile([]);
    const lines = [
      HEADER,
      entry("k1", { response: { output: "déjà vu ✓", usage: { prompt: 1, completion: 1 }, latencyMs: 1 } }),
      entry("k2", { response: { output: long, usage: { prompt: 1, completion: 1 }, latencyMs: 1 } }),
      entry("k3"),
    ];
    writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join("\r\n")}\r\n`);
    const cassette = await openCassette(path);
    expect(cassette.size).toBe(3);
    expect(cassette.get("k1")?.response?.output).toBe("déjà vu ✓");
    expect(cassette.get("k2")?.response?.output).toBe(long);
    expect(cassette.get("k3")?.response?.output).toBe("4");
    const all = [];
    for await (const e of cassette.entries()) all.push(e.key);
    expect(all).toEqual(["k1", "k2", "k3"]);
    cassette.close();
    // The last line may lack its ending.
    writeFileSync(path, `${JSON.stringify(HEADER)}\r\n${JSON.stringify(entry("k1"))}`);
    const unended = await openCassette(path);
    expect(unended.get("k1")?.response?.output).toBe("4");
    unended.close();
  });

  it("gives each job its own answer when two jobs sent the same request", async () => {
    const path = cassetteFile([
      HEADER,
      entry("same", {
        prompt: "a",
        response: { output: "from a", usage: { prompt: 1, completion: 1 }, latencyMs: 1 },
      }),
      entry("same", {
        prompt: "b",
        response: { output: "from b", usage: { prompt: 1, completion: 1 }, latencyMs: 2 },
      }),
    ]);
    const cassette = await openCassette(path);
    expect(cassette.get("same", { caseId: "1", promptId: "b" })?.response?.output).toBe("from b");
    expect(cassette.get("same", { caseId: "1", promptId: "a" })?.response?.output).toBe("from a");
    cassette.close();
  });

  it("refuses a missing file, a file that is not a cassette, and a broken line, with the place", async () => {
    expect((await userError(openCassette("/nonexistent/cassette.jsonl"))).code).toBe("cassette-not-found");
    const notCassette = cassetteFile([{ version: 1, cases: [] }]);
    expect((await userError(openCassette(notCassette))).location).toEqual({ file: notCassette, line: 1 });
    const broken = cassetteFile([HEADER, entry("k1"), "{not json"]);
    const error = await userError(openCassette(broken));
    expect([error.code, error.location]).toEqual(["cassette-invalid", { file: broken, line: 3 }]);
  });
});

describe("the replay provider", () => {
  const lookup = { keys: ["k1"], firstSample: 0, caseId: "1", promptId: "p" };

  it("answers with the recorded output, usage and latency, and replays a recorded error", async () => {
    const path = cassetteFile([
      HEADER,
      entry("k1"),
      entry("k2", { response: undefined, error: { kind: "server", message: "503" } }),
    ]);
    const cassette = await openCassette(path);
    const provider = createReplayProvider(
      cassette,
      { id: "openai:gpt-big", label: "big" },
      HEADER.providers[0],
    );
    const messages = [{ role: "user" as const, content: "What is 2 + 2?" }];
    expect(await provider.complete({ messages, lookup })).toEqual({
      outputs: ["4"],
      usage: { prompt: 5, completion: 1 },
      latencyMs: 120,
    });
    const failed = await provider
      .complete({ messages, lookup: { ...lookup, keys: ["k2"] } })
      .catch((e: unknown) => e);
    expect(isProviderError(failed) && [failed.kind, failed.message, failed.fatal]).toEqual([
      "server",
      "503",
      false,
    ]);
    // Only eval's runner says which keys it wants; another caller gets a clear refusal.
    const bare = await provider.complete({ messages }).catch((e: unknown) => e);
    expect(isProviderError(bare) && bare.fatal).toBe(true);
  });

  it("names the nearest recorded request and what differs when a request is missing", async () => {
    const path = cassetteFile([
      HEADER,
      entry("k1"),
      entry("k9", {
        case: "2",
        request: { ...entry("").request, messages: [{ role: "user", content: "What is 9 + 9?" }] },
      }),
    ]);
    const cassette = await openCassette(path);
    const provider = createReplayProvider(
      cassette,
      { id: "openai:gpt-big", label: "big" },
      HEADER.providers[0],
    );
    const error = await userError(
      provider.complete({
        messages: [{ role: "user", content: "What is 2 + 2?" }],
        params: { temperature: 0.5 },
        lookup: { ...lookup, keys: ["missing"] },
      }),
    );
    expect(error.code).toBe("replay-missing");
    expect(error.field).toBe('case "1" · prompt "p" · provider "big"');
    expect(error.message).toBe(
      'no recorded answer for this request in the cassette; the nearest recorded request (case "1" · prompt "p") differs in params.temperature: 0 → 0.5',
    );
  });

  it("stands a config's replay: provider in for the recorded provider with its label, or for the only one", async () => {
    const path = cassetteFile([HEADER, entry("k1")]);
    const labelled = await createReplayProviderFromSpec({
      id: `replay:${path}`,
      label: "small",
      params: { max_tokens: 9 },
    });
    expect(labelled.replaying).toEqual({
      label: "small",
      model: "gpt-small",
      params: { temperature: 0, max_tokens: 9 },
    });
    await labelled.close?.();
    const error = await userError(
      createReplayProviderFromSpec({ id: `replay:${path}`, label: "replay:cassette.jsonl", params: {} }),
    );
    expect(error.message).toBe(
      'the cassette holds 2 providers ("big", "small"): which one does this provider replay?',
    );
    expect(error.hint).toBe("give the replay provider the label of the one it stands for, e.g. label: big");
    const wrong = await userError(
      createReplayProviderFromSpec({ id: `replay:${path}`, label: "medium", params: {} }),
    );
    expect(wrong.message).toBe('the cassette has no provider labelled "medium"; it holds "big", "small"');
    const single = cassetteFile([{ ...HEADER, providers: [HEADER.providers[0]] }, entry("k1")]);
    const only = await createReplayProviderFromSpec({
      id: `replay:${single}`,
      label: "replay:cassette.jsonl",
      params: {},
    });
    expect(only.replaying.label).toBe("big");
    await only.close?.();
  });
});
