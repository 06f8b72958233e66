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

function plainItems(n: number): string {
  return Array.from({ length: n }, (_, i) => `- id: ${i}\n`).join("");
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
    // A kept block scalar owns the blank lines after it, up to the next item: here at a batch's end.
    ["a |+ block scalar ending a batch", `${plainItems(255)}- keep: |+\n    text\n\n\n${plainItems(10)}`],
    [
      "a |+ block scalar ending the file, with no last line break",
      `${plainItems(300)}- keep: |+\n    text\n`.slice(0, -1),
    ],
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

/** Random block lists of the shapes above and more, from a fixed seed: each must read as yaml reads it whole. */
describe("YAML lists read in batches, on generated files", () => {
  let state = 20261130;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const value = (pad: string, depth: number): string => {
    const r = random();
    if (depth > 2 || r < 0.4)
      return ` ${pick(["plain", "'single'", '"dou\\nble"', "42", "-3.5", "true", "~", "'- item?'", '"# no"'])}`;
    if (r < 0.55)
      return ` |${pick(["", "-", "+"])}\n${pad}  line one\n\n${pad}  - dash line\n${pad}  # hash line\n`;
    if (r < 0.65) return ` >\n${pad}  folded\n${pad}  more\n`;
    if (r < 0.75) return ' [a, {b: c}, "d"]';
    if (r < 0.85) return `\n${pad}  k1:${value(`${pad}  `, depth + 1)}\n${pad}  k2: v`;
    return `\n${pad}  - x\n${pad}  -${value(`${pad}  `, depth + 1)}`;
  };
  const file = (): string => {
    const under = random() < 0.3;
    const pad = under ? pick(["", "  ", "    "]) : "";
    let text = `${random() < 0.2 ? "# header\n" : ""}${under ? "cases:\n" : ""}`;
    const items = 260 + Math.floor(random() * 300);
    for (let i = 0; i < items; i++) {
      if (random() < 0.2) text += `${pick(["", "# comment", "  # indented", "   "])}\n`;
      text += `${pad}- id: ${i}`;
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++)
        text += `\n${pad}  f${k}:${value(`${pad}  `, 0)}`;
      text = `${text.replace(/\n+$/, "")}\n`;
    }
    if (under && random() < 0.2) text += "other: 1\n";
    return random() < 0.1 ? text.replaceAll("\n", "\r\n") : text;
  };

  it("gives yaml's rows and lines, or its syntax error, for 15 generated files", async () => {
    let valid = 0;
    for (let n = 0; n < 15; n++) {
      const text = file();
      const path = await temp(`generated-${n}.yaml`, text);
      if (parseDocument(text).errors.length > 0) {
        await expect(collect(readRows(path)), `generated file ${n}`).rejects.toMatchObject({
          code: "dataset-parse",
        });
        continue;
      }
      valid++;
      expect(await collect(readRows(path)), `generated file ${n}`).toEqual(wholeDocumentRows(text));
    }
    expect(valid).toBeGreaterThan(8);
  });
});
