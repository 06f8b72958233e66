import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkDocuments, createPassageRetriever, loadCorpus } from "../../../src/fewshot/context.js";

const LONG_A =
  "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen inside chloroplasts.";
const LONG_B =
  "Mitochondria release energy from glucose through cellular respiration, producing ATP for the cell.";

describe("chunkDocuments", () => {
  it("splits on blank lines, merges a short heading into the next paragraph, and numbers chunks per file", () => {
    const chunks = chunkDocuments([
      { path: "bio.md", text: `# Plants\n\n${LONG_A}\n \n\n${LONG_B}\n` },
      { path: "z.txt", text: LONG_B },
    ]);
    expect(chunks).toEqual([
      { id: "bio.md#0", source: "bio.md", index: 0, line: 1, text: `# Plants\n\n${LONG_A}` },
      { id: "bio.md#1", source: "bio.md", index: 1, line: 6, text: LONG_B },
      { id: "z.txt#0", source: "z.txt", index: 0, line: 1, text: LONG_B },
    ]);
  });

  it("handles CRLF, keeps single newlines inside a paragraph, and folds a short tail into the previous chunk", () => {
    const chunks = chunkDocuments([{ path: "w.md", text: `${LONG_A}\r\nsame paragraph\r\n\r\nThe end.` }]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].text).toBe(`${LONG_A}\nsame paragraph\n\nThe end.`);
  });

  it("keeps a file made only of short paragraphs as one chunk and skips empty files", () => {
    const chunks = chunkDocuments([
      { path: "e.md", text: "\n\n  \n" },
      { path: "s.md", text: "one\n\ntwo" },
    ]);
    expect(chunks).toEqual([{ id: "s.md#0", source: "s.md", index: 0, line: 1, text: "one\n\ntwo" }]);
  });

  it("gives each chunk the line its first paragraph starts on, after blank lines, indents and CRLF", () => {
    const text = `\r\n\r\n  ${LONG_A}\r\n\r\n \t\r\n\r\nshort\r\nheading\r\n\r\n${LONG_B}`;
    expect(chunkDocuments([{ path: "c.md", text }]).map((c) => c.line)).toEqual([3, 7]);
  });

  it("honours minChars", () => {
    expect(chunkDocuments([{ path: "s.md", text: "one\n\ntwo" }], { minChars: 1 })).toHaveLength(2);
  });
});

describe("createPassageRetriever", () => {
  const chunks = chunkDocuments([
    { path: "plants.md", text: LONG_A },
    { path: "cells.md", text: LONG_B },
    {
      path: "trains.md",
      text: "Steam locomotives burn coal to boil water; the steam drives pistons that turn the wheels.",
    },
  ]);
  const retriever = createPassageRetriever(chunks);

  it("puts the relevant passage first", () => {
    expect(retriever.retrieve("How do chloroplasts make oxygen?", 3)[0].source).toBe("plants.md");
    expect(retriever.retrieve("what produces ATP in a cell", 3)[0].source).toBe("cells.md");
    const [top] = retriever.retrieve("coal pistons wheels", 1);
    expect(top).toMatchObject({ source: "trains.md", index: 0 });
    expect(top.score).toBeGreaterThan(0);
  });

  it("returns only passages sharing a term, at most k, best first", () => {
    const hits = retriever.retrieve("glucose water", 5);
    expect(hits.length).toBe(3);
    expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score);
    expect(retriever.retrieve("glucose", 1)).toHaveLength(1);
    expect(retriever.retrieve("quantum chromodynamics", 3)).toEqual([]);
  });
});

describe("loadCorpus", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "promptsmith-corpus-"));
    await mkdir(path.join(dir, "b", "deep"), { recursive: true });
    await mkdir(path.join(dir, ".git"));
    await writeFile(path.join(dir, "b", "deep", "x.txt"), "deep");
    await writeFile(path.join(dir, "b", "a.MD"), "\uFEFFwith bom");
    await writeFile(path.join(dir, "a.md"), "top");
    await writeFile(path.join(dir, "Z.txt"), "upper");
    await writeFile(path.join(dir, "data.json"), "{}");
    await writeFile(path.join(dir, ".hidden.md"), "hidden");
    await writeFile(path.join(dir, ".git", "notes.md"), "git");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads .md and .txt files recursively, sorted by relative path, without hidden entries or BOMs", async () => {
    expect(await loadCorpus(dir)).toEqual([
      { path: "Z.txt", text: "upper" },
      { path: "a.md", text: "top" },
      { path: "b/a.MD", text: "with bom" },
      { path: "b/deep/x.txt", text: "deep" },
    ]);
  });

  it("reports a missing folder, or a file given as the folder, as a user error", async () => {
    await expect(loadCorpus(path.join(dir, "nope"))).rejects.toMatchObject({ code: "dataset-not-found" });
    await expect(loadCorpus(path.join(dir, "a.md"))).rejects.toMatchObject({ code: "dataset-not-found" });
  });
});
