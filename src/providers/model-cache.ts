/**
 * Where local models live: plain GGUF paths are checked, `hf:<user>/<repo>/<file>` refs are
 * downloaded once into a cache folder and reused from then on.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { UserError } from "../errors.js";

export { DEFAULT_LOCAL_MODEL, defaultLocalModelRef } from "../models.js";

/** Download progress in bytes; `total` is known when the server sends a content length. */
export interface DownloadProgress {
  downloaded: number;
  total?: number;
}

/** Options of `resolveModelPath`; everything that touches the outside world is injectable. */
export interface ResolveModelOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  onProgress?: (progress: DownloadProgress) => void;
  /** Base for relative paths; default `process.cwd()`. */
  cwd?: string;
}

/** The parts of an `hf:<user>/<repo>/<file>` model ref. */
export interface HuggingFaceRef {
  user: string;
  repo: string;
  /** The file's path inside the repository; may contain folders. */
  file: string;
}

const HF_PREFIX = "hf:";
const GGUF_MAGIC = "GGUF";
const HINT_PATH = "check the path, or use local:hf:<user>/<repo>/<file.gguf>";

// Downloads in flight in this process, by target path, so concurrent callers share one.
const inFlight = new Map<string, Promise<string>>();

/** The folder downloaded models go to: env `PROMPTSMITH_CACHE`, else `~/.cache/promptsmith/models`. */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PROMPTSMITH_CACHE?.trim();
  return fromEnv ? expandHome(fromEnv, env) : path.join(homeOf(env), ".cache", "promptsmith", "models");
}

/** True for refs of the form `hf:…`. */
export function isHuggingFaceRef(ref: string): boolean {
  return ref.startsWith(HF_PREFIX);
}

/** Splits `hf:<user>/<repo>/<file>`; throws a UserError naming the expected shape when it is malformed. */
export function parseHuggingFaceRef(ref: string): HuggingFaceRef {
  const parts = ref.slice(HF_PREFIX.length).split("/");
  const safe = parts.every((part) => part !== "" && part !== "." && part !== ".." && !part.includes("\\"));
  if (parts.length < 3 || !safe) {
    throw new UserError({
      code: "provider-invalid",
      message: `expected a model ref like hf:<user>/<repo>/<file.gguf>, received "${ref}"`,
      hint: "e.g. local:hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf",
    });
  }
  const [user, repo, ...file] = parts;
  return { user, repo, file: file.join("/") };
}

/**
 * Turns a model ref into the path of a GGUF file on disk: a plain path (relative to `cwd`, `~` expanded)
 * is checked; an `hf:` ref is looked up in the cache and downloaded once when absent.
 */
export async function resolveModelPath(ref: string, options: ResolveModelOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (!isHuggingFaceRef(ref)) {
    const file = path.resolve(options.cwd ?? process.cwd(), expandHome(ref, env));
    await assertModelFile(file);
    return file;
  }
  const hf = parseHuggingFaceRef(ref);
  const target = path.join(modelCacheDir(env), hf.user, hf.repo, ...hf.file.split("/"));
  if (await isFile(target)) return target;

  let pending = inFlight.get(target);
  if (!pending) {
    pending = download(hf, target, env, options).finally(() => inFlight.delete(target));
    inFlight.set(target, pending);
  }
  return pending;
}

/** Throws `model-not-found` when the file is missing, and a clear error when it is not a GGUF file. */
export async function assertModelFile(file: string): Promise<void> {
  if (!(await isFile(file))) {
    throw new UserError({
      code: "model-not-found",
      message: `model file not found: ${file}`,
      hint: HINT_PATH,
    });
  }
  if (!(await hasGgufMagic(file))) {
    throw new UserError({
      code: "provider-invalid",
      message: `${file} is not a GGUF model file (it does not start with the bytes "GGUF")`,
      hint: "point local: at a .gguf file; other formats (safetensors, .bin) must be converted to GGUF first",
    });
  }
}

async function download(
  hf: HuggingFaceRef,
  target: string,
  env: NodeJS.ProcessEnv,
  options: ResolveModelOptions,
): Promise<string> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const repoPath = [hf.user, hf.repo, ...hf.file.split("/")].map(encodeURIComponent);
  const url = `https://huggingface.co/${repoPath.slice(0, 2).join("/")}/resolve/main/${repoPath.slice(2).join("/")}`;
  const ref = `hf:${hf.user}/${hf.repo}/${hf.file}`;
  const headers: Record<string, string> = {};
  // Gated repositories need a token; never required for public ones.
  if (env.HF_TOKEN) headers.authorization = `Bearer ${env.HF_TOKEN}`;

  let response: Response;
  try {
    response = await fetchImpl(url, { headers, redirect: "follow" });
  } catch (error) {
    throw unreachable(ref, url, error);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {});
    throw httpFailure(ref, url, response.status);
  }

  await mkdir(path.dirname(target), { recursive: true });
  // A private name per attempt: concurrent downloads (even from other processes) never share a partial file,
  // and the final rename is atomic, so the target is always either absent or complete.
  const partial = `${target}.part-${randomBytes(6).toString("hex")}`;
  const lengthHeader = response.headers.get("content-length");
  // With a content encoding the length counts compressed bytes, not the ones we write.
  const encoded = response.headers.has("content-encoding");
  const total =
    lengthHeader !== null && /^\d+$/.test(lengthHeader) && !encoded ? Number(lengthHeader) : undefined;
  let downloaded = 0;
  const handle = await open(partial, "wx");
  try {
    try {
      const reader = response.body.getReader();
      options.onProgress?.({ downloaded, total });
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await handle.write(value);
        downloaded += value.byteLength;
        options.onProgress?.({ downloaded, total });
      }
      if (total !== undefined && downloaded !== total) {
        throw new Error(`received ${downloaded} of ${total} bytes`);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!(await hasGgufMagic(partial))) {
      throw new UserError({
        code: "provider-invalid",
        message: `${url} did not serve a GGUF file`,
        hint: "check that the file name in the ref ends in .gguf and exists in the repository",
      });
    }
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof UserError) throw error;
    throw unreachable(ref, url, error, downloaded);
  }
  return target;
}

function httpFailure(ref: string, url: string, status: number): UserError {
  if (status === 401 || status === 403) {
    return new UserError({
      code: "provider-auth",
      message: `Hugging Face refused ${url} (HTTP ${status})`,
      hint: "the repository may be gated: accept its licence on huggingface.co and set HF_TOKEN",
    });
  }
  if (status === 404) {
    return new UserError({
      code: "model-not-found",
      message: `no such model file on Hugging Face: ${ref} (${url} answered 404)`,
      hint: "check the user, repository and file name; they are case-sensitive",
    });
  }
  return new UserError({
    code: "provider-unreachable",
    message: `downloading ${ref} failed: ${url} answered HTTP ${status}`,
    hint: "try again later, or download the file yourself and use local:<path/to/file.gguf>",
  });
}

function unreachable(ref: string, url: string, error: unknown, downloaded = 0): UserError {
  const reason = error instanceof Error ? error.message : String(error);
  const after = downloaded > 0 ? ` after ${downloaded} bytes` : "";
  return new UserError({
    code: "provider-unreachable",
    message: `downloading ${ref} from ${url} failed${after}: ${reason}`,
    hint: "check your network, or download the file yourself and use local:<path/to/file.gguf>",
    cause: error,
  });
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function hasGgufMagic(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buffer, 0, 4, 0);
    return bytesRead === 4 && buffer.toString("latin1") === GGUF_MAGIC;
  } finally {
    await handle.close();
  }
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || homedir();
}

function expandHome(file: string, env: NodeJS.ProcessEnv): string {
  if (file === "~") return homeOf(env);
  if (file.startsWith("~/") || file.startsWith("~\\")) return path.join(homeOf(env), file.slice(2));
  return file;
}
