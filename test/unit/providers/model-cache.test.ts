import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";
import {
  DEFAULT_LOCAL_MODEL,
  type DownloadProgress,
  defaultLocalModelRef,
  modelCacheDir,
  parseHuggingFaceRef,
  resolveModelPath,
} from "../../../src/providers/model-cache.js";

// A fake GGUF: the magic bytes and some filler, enough for the cache's format check.
const MODEL_BYTES = Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(10_000, 7)]);
const REF = "hf:someone/tiny-GGUF/tiny-Q4.gguf";
const URL_OF_REF = "https://huggingface.co/someone/tiny-GGUF/resolve/main/tiny-Q4.gguf";

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "promptsmith-cache-"));
  env = { PROMPTSMITH_CACHE: path.join(dir, "cache"), HOME: path.join(dir, "home") };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fetch that serves `bytes` in chunks and records the URLs it was asked for. */
function fakeFetch(
  bytes: Buffer,
  options: { chunk?: number; failAfter?: number; status?: number; contentLength?: boolean } = {},
) {
  const calls: string[] = [];
  const chunk = options.chunk ?? 1024;
  const fetchImpl = (async (input: string | URL | Request) => {
    calls.push(String(input));
    if (options.status && options.status !== 200) return new Response("nope", { status: options.status });
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (options.failAfter !== undefined && offset >= options.failAfter) {
          controller.error(new Error("connection reset"));
          return;
        }
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + chunk)));
        offset += chunk;
      },
    });
    const headers: Record<string, string> =
      options.contentLength === false ? {} : { "content-length": String(bytes.length) };
    return new Response(body, { status: 200, headers });
  }) as typeof fetch;
  return { fetch: fetchImpl, calls };
}

async function caught(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isUserError(error)) throw new Error(`expected a UserError, got ${String(error)}`);
  return error;
}

async function filesUnder(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
  } catch {
    return [];
  }
}

describe("defaults", () => {
  it("uses the built-in model unless PROMPTSMITH_LOCAL_MODEL names another", () => {
    expect(defaultLocalModelRef({})).toBe(DEFAULT_LOCAL_MODEL);
    expect(DEFAULT_LOCAL_MODEL).toMatch(/^hf:[^/]+\/[^/]+\/.+\.gguf$/);
    expect(defaultLocalModelRef({ PROMPTSMITH_LOCAL_MODEL: "models/x.gguf" })).toBe("models/x.gguf");
  });

  it("puts the cache under PROMPTSMITH_CACHE, else under the home folder", () => {
    expect(modelCacheDir({ PROMPTSMITH_CACHE: "/srv/models" })).toBe("/srv/models");
    expect(modelCacheDir({ HOME: "/home/ada" })).toBe(
      path.join("/home/ada", ".cache", "promptsmith", "models"),
    );
  });

  it("parses hf refs, files in folders included, and rejects malformed ones", async () => {
    expect(parseHuggingFaceRef("hf:a/b/sub/c.gguf")).toEqual({ user: "a", repo: "b", file: "sub/c.gguf" });
    for (const bad of ["hf:a/b", "hf:a//c.gguf", "hf:a/b/../../etc/passwd"]) {
      const error = await caught(resolveModelPath(bad, { env, fetch: fakeFetch(MODEL_BYTES).fetch }));
      expect(error.code).toBe("provider-invalid");
      expect(error.message).toContain("hf:<user>/<repo>/<file.gguf>");
    }
  });
});

describe("plain paths", () => {
  it("resolves relative paths against cwd and expands ~", async () => {
    await writeFile(path.join(dir, "m.gguf"), MODEL_BYTES);
    expect(await resolveModelPath("m.gguf", { env, cwd: dir })).toBe(path.join(dir, "m.gguf"));
    await rm(env.HOME as string, { recursive: true, force: true });
    await writeFile(path.join(dir, "home.gguf"), MODEL_BYTES);
    expect(await resolveModelPath("~/home.gguf", { env: { HOME: dir } })).toBe(path.join(dir, "home.gguf"));
  });

  it("names a missing file with model-not-found and a hint", async () => {
    const error = await caught(resolveModelPath("nowhere/model.gguf", { env, cwd: dir }));
    expect(error.code).toBe("model-not-found");
    expect(error.message).toContain(path.join(dir, "nowhere", "model.gguf"));
    expect(error.hint).toContain("local:hf:<user>/<repo>/<file.gguf>");
  });

  it("rejects a file that is not a GGUF", async () => {
    await writeFile(path.join(dir, "weights.bin"), "PK\u0003\u0004 not a gguf");
    const error = await caught(resolveModelPath("weights.bin", { env, cwd: dir }));
    expect(error.code).toBe("provider-invalid");
    expect(error.message).toContain("not a GGUF");
  });
});

describe("hf downloads", () => {
  it("downloads once into <cache>/<user>/<repo>/<file>, reporting progress, then reuses the file", async () => {
    const server = fakeFetch(MODEL_BYTES);
    const progress: DownloadProgress[] = [];
    const file = await resolveModelPath(REF, {
      env,
      fetch: server.fetch,
      onProgress: (p) => progress.push(p),
    });

    expect(file).toBe(path.join(env.PROMPTSMITH_CACHE as string, "someone", "tiny-GGUF", "tiny-Q4.gguf"));
    expect(server.calls).toEqual([URL_OF_REF]);
    expect(Buffer.compare(await readFile(file), MODEL_BYTES)).toBe(0);
    expect(progress.at(-1)).toEqual({ downloaded: MODEL_BYTES.length, total: MODEL_BYTES.length });
    expect(progress.length).toBeGreaterThan(2);
    expect(await filesUnder(env.PROMPTSMITH_CACHE as string)).toEqual([
      path.join("someone", "tiny-GGUF", "tiny-Q4.gguf"),
    ]);

    const again = fakeFetch(MODEL_BYTES);
    expect(await resolveModelPath(REF, { env, fetch: again.fetch })).toBe(file);
    expect(again.calls).toEqual([]);
  });

  it("leaves no file behind when the stream fails midway, and names what happened", async () => {
    const server = fakeFetch(MODEL_BYTES, { failAfter: 4096 });
    const error = await caught(resolveModelPath(REF, { env, fetch: server.fetch }));
    expect(error.code).toBe("provider-unreachable");
    expect(error.message).toContain("connection reset");
    expect(await filesUnder(env.PROMPTSMITH_CACHE as string)).toEqual([]);

    // The next attempt starts from scratch and succeeds.
    const file = await resolveModelPath(REF, { env, fetch: fakeFetch(MODEL_BYTES).fetch });
    expect(Buffer.compare(await readFile(file), MODEL_BYTES)).toBe(0);
  });

  it("treats a body shorter than its content length as a failed download", async () => {
    const truncated = fakeFetch(MODEL_BYTES.subarray(0, 5000));
    const lying = (async (input: string | URL | Request) => {
      const response = await truncated.fetch(input);
      return new Response(response.body, { headers: { "content-length": String(MODEL_BYTES.length) } });
    }) as typeof fetch;
    const error = await caught(resolveModelPath(REF, { env, fetch: lying }));
    expect(error.message).toContain(`received 5000 of ${MODEL_BYTES.length} bytes`);
    expect(await filesUnder(env.PROMPTSMITH_CACHE as string)).toEqual([]);
  });

  it("rejects a download that is not a GGUF and keeps nothing", async () => {
    const error = await caught(
      resolveModelPath(REF, { env, fetch: fakeFetch(Buffer.from("<html>login</html>")).fetch }),
    );
    expect(error.code).toBe("provider-invalid");
    expect(await filesUnder(env.PROMPTSMITH_CACHE as string)).toEqual([]);
  });

  it("maps HTTP failures to user errors", async () => {
    const cases = [
      [404, "model-not-found"],
      [401, "provider-auth"],
      [503, "provider-unreachable"],
    ] as const;
    for (const [status, code] of cases) {
      const error = await caught(
        resolveModelPath(REF, { env, fetch: fakeFetch(MODEL_BYTES, { status }).fetch }),
      );
      expect(error.code).toBe(code);
    }
    const offline = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    expect((await caught(resolveModelPath(REF, { env, fetch: offline }))).message).toContain("fetch failed");
    expect(await filesUnder(env.PROMPTSMITH_CACHE as string)).toEqual([]);
  });

  it("shares one download between concurrent callers and writes one complete file", async () => {
    const server = fakeFetch(MODEL_BYTES, { chunk: 100, contentLength: false });
    const files = await Promise.all([
      resolveModelPath(REF, { env, fetch: server.fetch }),
      resolveModelPath(REF, { env, fetch: server.fetch }),
      resolveModelPath(REF, { env, fetch: server.fetch }),
    ]);
    expect(new Set(files).size).toBe(1);
    expect(server.calls).toHaveLength(1);
    expect(Buffer.compare(await readFile(files[0]), MODEL_BYTES)).toBe(0);
    expect(await filesUnder(env.PROMPTSMITH_CACHE as string)).toHaveLength(1);
  });

  it("never touches another process's partial download of the same file", async () => {
    // Another process is halfway through writing its own partial file next to the target.
    const folder = path.join(env.PROMPTSMITH_CACHE as string, "someone", "tiny-GGUF");
    await mkdir(folder, { recursive: true });
    const theirs = path.join(folder, "tiny-Q4.gguf.part-0123456789ab");
    await writeFile(theirs, "GGUF half");

    const file = await resolveModelPath(REF, { env, fetch: fakeFetch(MODEL_BYTES).fetch });
    expect(Buffer.compare(await readFile(file), MODEL_BYTES)).toBe(0);
    expect(await readFile(theirs, "utf8")).toBe("GGUF half");
  });
});
