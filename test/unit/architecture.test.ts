import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The house plan (docs/architecture.md) as a check: which rooms of src/ each room may import.
// Every arrow points down; a room that needs one more neighbour changes this table and the doc.
const ALLOWED: Record<string, string[]> = {
  errors: [],
  "key-set": [],
  models: [],
  rng: [],
  scorers: ["errors"],
  providers: ["errors", "key-set", "models"],
  dataset: ["errors", "key-set"],
  templates: ["errors", "providers"],
  config: ["errors", "models", "providers", "scorers"],
  fewshot: ["dataset", "errors", "key-set", "rng"],
  record: ["config", "dataset", "errors", "providers"],
  stats: ["config", "key-set", "record", "rng"],
  store: ["config", "errors", "key-set", "providers", "record"],
  runner: [
    "config",
    "dataset",
    "errors",
    "fewshot",
    "key-set",
    "providers",
    "record",
    "scorers",
    "stats",
    "store",
    "templates",
  ],
  // A batch is judged against --budget on the dry-run estimate before it is submitted.
  batch: ["config", "errors", "estimate", "key-set", "providers", "record", "runner", "store"],
  // A judge's calls are priced from its rubric and its verdict instructions.
  estimate: ["config", "errors", "fewshot", "providers", "record", "runner", "scorers", "store"],
  server: ["errors", "providers"],
  init: ["errors"],
  reporters: ["errors", "estimate", "record", "stats"],
  // The library through index.ts; the Batch API path is loaded on its own, only when asked for.
  cli: ["batch", "errors", "index"],
};

const src = resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** The room of a file: its top folder under src/, or its name for a file directly in src/. */
function roomOf(path: string): string {
  const [first] = relative(src, path).split("/");
  return first.replace(/\.[jt]s$/, "");
}

describe("the rooms of src/", () => {
  const files = sourceFiles(src);

  it("has every room in the table", () => {
    const rooms = new Set(files.map(roomOf));
    rooms.delete("index");
    expect([...rooms].filter((room) => !(room in ALLOWED))).toEqual([]);
  });

  it("imports only the rooms below it", () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = roomOf(file);
      if (from === "index") continue;
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        const to = roomOf(resolve(dirname(file), match[1]));
        if (to !== from && !ALLOWED[from]?.includes(to)) wrong.push(`${relative(src, file)} → ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
