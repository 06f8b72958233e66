import { createReadStream } from "node:fs";
import { pipeline, Transform, type TransformCallback } from "node:stream";
import type { CsvError as CsvParseError } from "csv-parse";
import { UserError } from "../errors.js";
import { closeStream, type DatasetRow } from "./source.js";

const QUOTING_HINT =
  'wrap a field that holds commas, quotes or line breaks in double quotes, and double each quote inside it ("")';

/**
 * Streams the rows of an RFC 4180 CSV file: the header row names the fields, values stay
 * strings, blank lines are skipped, and each row's `line` is the line where its record starts.
 */
export async function* readCsvRows(file: string): AsyncGenerator<DatasetRow, void, undefined> {
  const { parse, CsvError } = await import("csv-parse");
  const input = createReadStream(file);
  const starts = new RecordStartTracker();
  // Fields are checked against the header here, not by csv-parse, to say which row is off.
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true });
  // pipeline destroys every stage when one fails or the consumer stops; its own error is the parser's.
  pipeline(input, starts, parser, () => {});

  let header: string[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const line = starts.next();
      if (header === undefined) {
        header = checkHeader(record, file, line);
        continue;
      }
      // A line of only spaces is a blank line to a person, though csv-parse sees one field.
      if (record.length === 1 && header.length > 1 && record[0].trim() === "") continue;
      if (record.length !== header.length) {
        throw new UserError({
          code: "dataset-parse",
          message: `row has ${record.length} field${record.length === 1 ? "" : "s"} but the header has ${header.length}`,
          location: { file, line },
          hint: QUOTING_HINT,
        });
      }
      yield { row: Object.fromEntries(header.map((name, index) => [name, record[index]])), line };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const failed = typeof error.records === "number" ? starts.startOf(error.records) : undefined;
      throw toParseError(error, file, failed ?? starts.currentLine, header);
    }
    throw error;
  } finally {
    parser.destroy();
    await closeStream(input);
  }
}

/**
 * Notes the line each CSV record starts on as the bytes pass to csv-parse. csv-parse's own
 * `info.lines` counts a CRLF inside a quoted field as two lines, and a parse error can come
 * before the records ahead of it were read, so lines are counted here, where both are known.
 */
class RecordStartTracker extends Transform {
  /** Start lines of the records not yet taken, the oldest at `head`. */
  private readonly pending: number[] = [];
  private head = 0;
  private taken = 0;
  private line = 1;
  private inQuotes = false;
  private atRecordStart = true;
  private afterCarriageReturn = false;

  /** The line the scan has reached. */
  get currentLine(): number {
    return this.line;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    for (const byte of chunk) {
      if (this.afterCarriageReturn) {
        this.afterCarriageReturn = false;
        if (byte === LF) continue;
      }
      if (byte === CR || byte === LF) {
        this.afterCarriageReturn = byte === CR;
        if (!this.inQuotes) this.atRecordStart = true;
        this.line++;
        continue;
      }
      // Empty lines start nothing, as csv-parse skips them too.
      if (this.atRecordStart) {
        this.pending.push(this.line);
        this.atRecordStart = false;
      }
      // A doubled quote toggles twice, so a plain toggle tracks well-formed quoting.
      if (byte === QUOTE) this.inQuotes = !this.inQuotes;
    }
    done(null, chunk);
  }

  /** The start line of the next record csv-parse hands over. */
  next(): number {
    const line = this.pending[this.head] ?? this.line;
    this.head++;
    this.taken++;
    // Drop taken entries now and then, so the queue holds only the records in flight.
    if (this.head > 1024) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return line;
  }

  /** The start line of the record with this 0-based index (the header is record 0). */
  startOf(recordIndex: number): number | undefined {
    return this.pending[this.head + recordIndex - this.taken];
  }
}

const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;

function checkHeader(record: string[], file: string, line: number): string[] {
  // Header names become template variables, where stray spaces would only confuse.
  const names = record.map((name) => name.trim());
  const seen = new Set<string>();
  for (const [index, name] of names.entries()) {
    const problem =
      name === ""
        ? `column ${index + 1} has no name`
        : seen.has(name)
          ? `column "${name}" appears twice`
          : "";
    if (problem) {
      throw new UserError({
        code: "dataset-invalid",
        message: `header row: ${problem}`,
        location: { file, line },
        hint: "the first row must name every column once, e.g. id,question,expected",
      });
    }
    seen.add(name);
  }
  return names;
}

function toParseError(
  error: CsvParseError,
  file: string,
  line: number,
  header: string[] | undefined,
): UserError {
  const fieldIndex = typeof error.column === "number" ? error.column : undefined;
  const name = fieldIndex === undefined ? undefined : header?.[fieldIndex];
  const where =
    name !== undefined
      ? ` in field "${name}"`
      : fieldIndex !== undefined
        ? ` in field ${fieldIndex + 1}`
        : "";
  let message: string;
  switch (error.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      message = "a quoted field in the record starting here is never closed";
      break;
    case "CSV_INVALID_CLOSING_QUOTE":
      message = `a closing quote${where} must be followed by a comma or the end of the line`;
      break;
    case "INVALID_OPENING_QUOTE":
      message = `a quote appears inside an unquoted field${where}`;
      break;
    default:
      message = error.message.split("\n")[0];
  }
  return new UserError({
    code: "dataset-parse",
    message: `malformed CSV: ${message}`,
    location: { file, line },
    hint: QUOTING_HINT,
    cause: error,
  });
}
