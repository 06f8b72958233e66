import { describe, expect, it } from "vitest";
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { readRows } from "../../../src/dataset/read-rows.js";
import { collect, useTempFiles } from "./helpers.js";

const temp = useTempFiles("promptsmith-yaml-stream-");

/** What yaml makes of the whole document: each list item's value and the line it starts on. */
function wholeDocumentRows(text: string): Array<{ row: unknown; line: number }> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\ufeff/, ""), { lineCounter });
  expect(doc.errors).toEqual([]);
  const list = isMap(doc.contents) ? doc.contents.get("cases", true) : doc.contents;
  if (!isSeq(list)) throw new Error("the test text is not a list");
  const values = list.toJS(doc) as unknown[];
  return list.items.map((node, i) => ({
    row: values[i],
    line: lineCounter.linePos((node as { range: [number, number, number] }).range[0]).line,
  }));
}

/** n items in the shapes a dataset uses, enough of them to cross the reader's batches of 256. */
function manyItems(n: number, indent = ""): string {
  const shapes = [
    (i: number) => `- id: ${i}\n  question: plain ${i}\n`,
    (i: number) => `- id: ${i}\n  question: |\n    line one of ${i}\n\n    - not an item, inside a block\n`,
    (i: number) => `-\n  id: ${i}\n  question: "quoted, over\n    two lines"\n`,
    (i: number) => `# a comment before ${i}\n- { id: ${i}, question: flow map }\n\n`,
    (i: number) => `- id: ${i}\n  expected: [a, b]\n  meta:\n    - x: 1\n    - y: 2\n`,
    (i: number) => `- id: ${i}\n  question: >-\n    folded\n    text\n# a comment after ${i}\n`,
  ];
  let text = "";
  for (let i = 0; i < n; i++) {
    text += shapes[i % shapes.length](i)
      .split("\n")
      .map((line) => (line === "" ? line : indent + line))
      .join("\n");
  }
  return text;
}

describe("YAML lists read in batches match yaml's whole-document reading", () => {
  it.each([
    ["a top-level list", manyItems(700)],
    ["a list under cases:", `cases:\n${manyItems(600, "  ")}`],
    ["a list under cases: at the key's own column", `cases:\n${manyItems(600)}`],
    ["a list under cases: with other keys after it", `cases:\n${manyItems(300, "  ")}description: after\n`],
    ["document markers around the list", `# header\n---\n${manyItems(300)}...\n`],
    [
      "an alias to an anchor hundreds of items back",
      `- &first { id: a, q: shared }\n${manyItems(400)}- *first\n`,
    ],
    ["a flow list", `[${Array.from({ length: 300 }, (_, i) => `{id: ${i}}`).join(", ")}]\n`],
    ["CRLF line endings", manyItems(300).replaceAll("\n", "\r\n")],
    ["a byte order mark", `\ufeff${manyItems(300)}`],
    ["a mapping with cases: second", `description: first\ncases:\n${manyItems(300, "  ")}`],
  ])("%s", async (_name, text) => {
    const path = await temp("list.yaml", text);
    const expected = wholeDocumentRows(text);
    expect(expected.length).toBeGreaterThan(256);
    expect(await collect(readRows(path))).toEqual(expected);
  });

  it("names the cases: list in a bad item's path, past the first batch", async () => {
    const text = `cases:\n${manyItems(300, "  ")}  - just text\n`;
    const path = await temp("bad-item.yaml", text);
    await expect(collect(readRows(path))).rejects.toMatchObject({
      code: "dataset-invalid",
      location: { line: text.split("\n").length - 1 },
      field: "cases[300]",
    });
  });

  // Without streaming, the broken tail would stop the read before any row came out.
  it.each([
    ["a top-level list", manyItems(700)],
    ["a list under cases:", `cases:\n${manyItems(700, "  ")}`],
  ])("hands out the rows of %s before a broken tail", async (_name, text) => {
    const path = await temp("broken-tail.yaml", `${text}- id: last\n  id: again\n`);
    let count = 0;
    await expect(
      (async () => {
        for await (const _ of readRows(path)) count++;
      })(),
    ).rejects.toMatchObject({ code: "dataset-parse" });
    expect(count).toBeGreaterThanOrEqual(512);
  });

  it("reports a duplicate cases: key after the list, where yaml finds it", async () => {
    const path = await temp("twice.yaml", `cases:\n${manyItems(300, "  ")}cases:\n  - id: again\n`);
    await expect(collect(readRows(path))).rejects.toMatchObject({ code: "dataset-parse" });
  });
});
