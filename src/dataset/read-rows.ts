import { readCsvRows } from "./csv.js";
import { readJsonRows } from "./json.js";
import { readJsonlRows } from "./jsonl.js";
import { assertReadableFile, type DatasetFormat, type DatasetRow, formatOfPath } from "./source.js";
import { readYamlRows } from "./yaml.js";

const READERS: Record<DatasetFormat, (file: string) => AsyncGenerator<DatasetRow, void, undefined>> = {
  jsonl: readJsonlRows,
  json: readJsonRows,
  csv: readCsvRows,
  yaml: readYamlRows,
};

/**
 * The raw rows of a data file, in order, with the line each starts on; the format comes from
 * the extension. Every format is streamed; a YAML file that is not a plain block list is parsed whole.
 */
export async function* readRows(path: string): AsyncGenerator<DatasetRow, void, undefined> {
  const format = formatOfPath(path);
  await assertReadableFile(path);
  // yield* forwards an early return() to the reader, so its finally block closes the file.
  yield* READERS[format](path);
}

/** Every row of a small data file (a few-shot pool, say) as an array. */
export async function loadRows(path: string): Promise<DatasetRow[]> {
  const rows: DatasetRow[] = [];
  for await (const row of readRows(path)) rows.push(row);
  return rows;
}
