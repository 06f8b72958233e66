import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
// A static import: config loading (config/source.ts) has loaded yaml already whenever a dataset is read.
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { UserError } from "../errors.js";
import { CASES_KEY } from "./json.js";
import { closeStream, type DatasetRow, describeValue, oneLine, stripBom, toObjectRow } from "./source.js";

// Items parsed together: few enough to keep memory flat, enough that yaml's per-document cost is paid rarely.
const BATCH_ITEMS = 256;
const BATCH_CHARS = 1 << 20;

/** Some consecutive items of a block list, as text, and the file line the text starts on. */
interface Batch {
  text: string;
  line: number;
}

/** Said by `blockBatches` when the rest of the file needs yaml's whole-document reading. */
const WHOLE = Symbol("whole");

/**
 * Reads the rows of a YAML file: a top-level sequence of mappings, or `{cases: [...]}`.
 *
 * A block list (`- ` items, at the top or under a first key `cases:`) is streamed: its items are cut apart at
 * their `- ` lines and parsed a batch at a time, so memory does not grow with the file. Whatever that cannot
 * read exactly as yaml reads the whole document (flow style, an alias to an anchor in another batch, other keys,
 * a second document, a syntax error) is handed to a whole-document parse from the first item not yet given out,
 * so rows and error positions are the same either way.
 */
export async function* readYamlRows(file: string): AsyncGenerator<DatasetRow, void, undefined> {
  let index = 0;
  let prefix = "";
  // Unless a list of items ends the file and every batch read cleanly, the whole parse reads what is left,
  // checks the file beyond the list, and settles a file with no item at all (empty, or not a list).
  let whole = false;
  const batches = blockBatches(file);
  try {
    for await (const batch of batches) {
      if (batch === WHOLE) {
        whole = true;
        break;
      }
      if (typeof batch === "string") {
        prefix = batch;
        continue;
      }
      const items = parseBatch(batch);
      if (items === undefined) {
        whole = true;
        break;
      }
      for (const { value, line } of items) {
        yield { row: toObjectRow(value, file, line, `${prefix}[${index}]`), line };
        index++;
      }
    }
  } finally {
    await batches.return(undefined);
  }
  if (whole || index === 0) yield* readWholeYamlRows(file, index);
}

/**
 * The items of a block list in batches. Yields the key the list sits under (`cases`) first if any, then
 * batches, then WHOLE unless the list ended the file.
 */
async function* blockBatches(file: string): AsyncGenerator<Batch | string | typeof WHOLE, void, undefined> {
  const stream = createReadStream(file, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  // The column of the list's dashes once found; -1 while still before the list.
  let indent = -1;
  let underKey = false;
  let pending: string[] = [];
  let pendingLine = 0;
  let pendingItems = 0;
  let pendingChars = 0;
  // Every line but the file's last ended with a line break, which a `|+` block scalar keeps.
  const take = (endsFile = false): Batch => {
    const tail = endsFile && !endsWithLineBreak(file) ? "" : "\n";
    const batch = { text: `${pending.join("\n")}${tail}`, line: pendingLine };
    pending = [];
    pendingItems = 0;
    pendingChars = 0;
    return batch;
  };
  try {
    for await (const raw of lines) {
      lineNumber++;
      const text = lineNumber === 1 ? stripBom(raw) : raw;
      const blank = isBlankOrComment(text);
      if (indent < 0) {
        if (blank || (!underKey && /^---\s*(#.*)?$/.test(text))) continue;
        if (!underKey && /^cases:\s*(#.*)?$/.test(text)) {
          underKey = true;
          yield CASES_KEY;
          continue;
        }
        const dash = /^( *)-(\s|$)/.exec(text);
        if (dash === null || (!underKey && dash[1].length > 0)) {
          yield WHOLE;
          return;
        }
        indent = dash[1].length;
      }
      const isItem = text.length > indent && text[indent] === "-" && leadingSpaces(text) === indent;
      if (isItem && !/^-(\s|$)/.test(text.slice(indent))) {
        // `---` (a second document) or `-foo` (a plain scalar) at the list's column: read whole.
        yield WHOLE;
        return;
      }
      if (isItem) {
        if (pendingItems >= BATCH_ITEMS || pendingChars >= BATCH_CHARS) yield take();
        if (pendingItems === 0) pendingLine = lineNumber;
        pendingItems++;
      } else if (!blank && leadingSpaces(text) <= indent) {
        // The list has ended (another key, `...`, a tab); the whole parse reads the rest.
        if (pendingItems > 0) yield take();
        yield WHOLE;
        return;
      }
      if (pendingItems > 0) {
        pending.push(text);
        pendingChars += text.length + 1;
      }
    }
    if (pendingItems > 0) yield take(true);
  } finally {
    lines.close();
    await closeStream(stream);
  }
}

/** The items of one batch with their file lines, or undefined when the batch alone is not a list yaml reads cleanly. */
function parseBatch(batch: Batch): Array<{ value: unknown; line: number }> | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(batch.text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0 || doc.warnings.length > 0 || !isSeq(doc.contents)) return undefined;
  let values: unknown[];
  try {
    values = doc.contents.toJS(doc) as unknown[];
  } catch {
    return undefined;
  }
  return doc.contents.items.map((node, i) => {
    const start = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    return { value: values[i], line: batch.line + lineCounter.linePos(start).line - 1 };
  });
}

/** The rows from item `from` on, with the whole file parsed as one document (and every error located). */
async function* readWholeYamlRows(file: string, from: number): AsyncGenerator<DatasetRow, void, undefined> {
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
  for (let index = from; index < sequence.items.length; index++) {
    const start = (sequence.items[index] as { range?: [number, number, number] } | null)?.range?.[0];
    const line = start === undefined ? index + 1 : lineCounter.linePos(start).line;
    yield { row: toObjectRow(items[index], file, line, `${prefix}[${index}]`), line };
  }
}

/** Whether the file's last byte is a line break. */
function endsWithLineBreak(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const { size } = fstatSync(fd);
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a || last[0] === 0x0d;
  } finally {
    closeSync(fd);
  }
}

function isBlankOrComment(text: string): boolean {
  const trimmed = text.trimStart();
  return trimmed === "" || trimmed.startsWith("#");
}

function leadingSpaces(text: string): number {
  let count = 0;
  while (text.charCodeAt(count) === 32) count++;
  return count;
}
