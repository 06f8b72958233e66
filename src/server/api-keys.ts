/**
 * The API keys a server accepts: gathered from flags, a file and the environment, and checked
 * against a request's `Authorization: Bearer` header in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import { UserError } from "../errors.js";

/** The environment variable holding keys, comma-separated. */
export const API_KEYS_ENV = "PROMPTSMITH_SERVE_API_KEYS";

/** Where keys come from; every source adds to the set. */
export interface ApiKeySources {
  /** Keys given one by one (`--api-key`). */
  keys?: readonly string[];
  /** A file of keys, one a line; blank lines and lines starting with `#` are skipped (`--api-key-file`). */
  file?: string;
  /** Read for `PROMPTSMITH_SERVE_API_KEYS`. */
  env?: NodeJS.ProcessEnv;
  /** Base of a relative `file`; default `process.cwd()`. */
  cwd?: string;
}

/**
 * Every key of every source, checked: a key must be non-empty and hold no spaces or control characters,
 * which a `Bearer` header cannot carry. Errors never quote a key.
 */
export async function resolveApiKeys(sources: ApiKeySources): Promise<string[]> {
  const keys: string[] = [];
  for (const key of sources.keys ?? []) keys.push(checkKey(key.trim(), { field: "--api-key" }));

  const fromEnv = sources.env?.[API_KEYS_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    for (const key of fromEnv.split(",")) {
      // "a,,b" or a trailing comma is a slip of the pen, not a key.
      if (key.trim() !== "") keys.push(checkKey(key.trim(), { field: API_KEYS_ENV }));
    }
  }

  if (sources.file !== undefined) {
    const file = path.resolve(sources.cwd ?? process.cwd(), sources.file);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new UserError({
        code: "usage",
        field: "--api-key-file",
        message: `cannot read the API key file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        hint: "give a readable file with one key a line",
        cause: error,
      });
    }
    const before = keys.length;
    text.split(/\r?\n/).forEach((line, index) => {
      const key = line.trim();
      if (key === "" || key.startsWith("#")) return;
      keys.push(checkKey(key, { location: { file, line: index + 1 } }));
    });
    if (keys.length === before) {
      throw new UserError({
        code: "usage",
        location: { file },
        message: "the API key file holds no key",
        hint: "write one key a line (lines starting with # are comments)",
      });
    }
  }
  return [...new Set(keys)];
}

function checkKey(key: string, where: { field?: string; location?: { file: string; line: number } }): string {
  if (key === "" || /[\s\p{Cc}]/u.test(key)) {
    throw new UserError({
      code: "usage",
      ...where,
      message:
        key === ""
          ? "an API key is empty"
          : "an API key holds a space or a control character, which an Authorization header cannot carry",
      hint: "use a key of visible characters only, e.g. from `openssl rand -hex 24`",
    });
  }
  return key;
}

/** What a request's credentials are worth. */
export type KeyVerdict = "ok" | "missing" | "wrong";

/**
 * A checker of `Authorization` headers against `keys`. Keys and the presented token are compared as
 * SHA-256 digests with `timingSafeEqual`, against every key each time, so neither the time taken
 * nor an early exit tells a caller how much of a key it guessed, or how long the keys are.
 */
export function createKeyCheck(keys: readonly string[]): (authorization: string | undefined) => KeyVerdict {
  const digests = keys.map(digest);
  return (authorization) => {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) return "missing";
    const presented = digest(match[1]);
    let found = false;
    for (const known of digests) found = timingSafeEqual(presented, known) || found;
    return found ? "ok" : "wrong";
  };
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** True when `host` only takes connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^::ffff:127\./.test(bare);
  return false;
}
