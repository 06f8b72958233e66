import { readFile } from "node:fs/promises";
// A static import: config loading (config/source.ts) has loaded yaml already whenever a dataset is read.
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { UserError } from "../errors.js";
import { CASES_KEY } from "./json.js";
import { type DatasetRow, describeValue, oneLine, stripBom, toObjectRow } from "./source.js";

/** Reads the rows of a YAML file: a top-level sequence of mappings, or `{cases: [...]}`. */
export async function* readYamlRows(file: string): AsyncGenerator<DatasetRow, void, undefined> {
  // yaml 2.9 misreads a leading byte order mark as content; removing it leaves line numbers as they are.
  const text = stripBom(await readFile(file, "utf8"));
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const [syntaxError] = doc.errors;
  if (syntaxError !== undefined) {
    const { line, col } = lineCounter.linePos(syntaxError.pos[0]);
    throw new UserError({
      code: "dataset-parse",
      message: `file is not valid YAML: ${oneLine(syntaxError.message)}`,
      location: { file, line, column: col },
      hint: "check the indentation, and quote values that contain ': ' or start with a special character",
      cause: syntaxError,
    });
  }
  // An empty file is an empty dataset in every format.
  if (doc.contents === null) return;

  let sequence = doc.contents;
  let prefix = "";
  if (isMap(doc.contents) && doc.contents.has(CASES_KEY)) {
    sequence = doc.contents.get(CASES_KEY, true) as typeof sequence;
    prefix = CASES_KEY;
  }
  if (!isSeq(sequence)) {
    const found = prefix ? `"${CASES_KEY}" is not a list` : `found ${describeValue(doc.toJS())}`;
    const start = sequence?.range?.[0] ?? 0;
    throw new UserError({
      code: "dataset-invalid",
      message: `expected a top-level list of mappings or a mapping with a "${CASES_KEY}" list; ${found}`,
      location: { file, line: lineCounter.linePos(start).line },
      hint: "write one '- ' item per row, each with key: value fields",
    });
  }

  let items: unknown[];
  try {
    items = sequence.toJS(doc) as unknown[];
  } catch (error) {
    // e.g. an alias bomb beyond yaml's maxAliasCount
    throw new UserError({
      code: "dataset-parse",
      message: `file cannot be read as data: ${oneLine(error instanceof Error ? error.message : String(error))}`,
      location: { file },
      cause: error,
    });
  }
  for (const [index, node] of sequence.items.entries()) {
    const start = (node as { range?: [number, number, number] } | null)?.range?.[0];
    const line = start === undefined ? index + 1 : lineCounter.linePos(start).line;
    yield { row: toObjectRow(items[index], file, line, `${prefix}[${index}]`), line };
  }
}
