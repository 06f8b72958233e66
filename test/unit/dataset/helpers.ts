import { readdirSync, readlinkSync, realpathSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";

/** Path of a file under test/fixtures/datasets. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/datasets/${name}`, import.meta.url));
}

/**
 * A temp folder for one test file, made before its tests and removed after; returns a function
 * that writes a file there with exact bytes (CRLF, a BOM) a checked-in fixture could lose.
 */
export function useTempFiles(prefix: string): (name: string, content: string) => Promise<string> {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return async (name, content) => {
    const path = join(dir, name);
    await writeFile(path, content, "utf8");
    return path;
  };
}

/** Consumes an async iterable, collecting everything it yields. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Consumes an async iterable that must fail with a UserError, and returns the error. */
export async function userErrorFrom(items: AsyncIterable<unknown>): Promise<UserError> {
  try {
    for await (const _ of items) {
      // drain
    }
  } catch (error) {
    expect(isUserError(error), `expected a UserError, got ${String(error)}`).toBe(true);
    return error as UserError;
  }
  throw new Error("expected the dataset to fail, but it was read to the end");
}

/** True where /proc/self/fd lists this process's open files (Linux). */
export const canListDescriptors = (() => {
  try {
    readdirSync("/proc/self/fd");
    return true;
  } catch {
    return false;
  }
})();

/** How many of this process's file descriptors are open on `file`. */
export function openDescriptorsOn(file: string): number {
  const target = realpathSync(file);
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) count++;
    } catch {
      // the descriptor closed while we looked
    }
  }
  return count;
}
