import { UserError } from "../errors.js";
import { createKeySet } from "../key-set.js";
import { readRows } from "./read-rows.js";
import type { Case } from "./types.js";

/** Which row fields hold a case's id and its gold answer. */
export interface ReadCasesOptions {
  /** The field holding the gold answer; default "expected". */
  expectedField?: string;
  /** The field holding the case id; default "id". Rows without one are numbered from 0. */
  idField?: string;
}

/** The cases of a data file, streamed: one per row, with unique ids. */
export async function* readCases(
  path: string,
  options: ReadCasesOptions = {},
): AsyncGenerator<Case, void, undefined> {
  const expectedField = options.expectedField ?? "expected";
  const idField = options.idField ?? "id";
  // The one piece of per-row state: a 64-bit hash of each id (16 bytes a case at most, where a Map
  // of ids to lines took about 100 and was most of a million-case run's memory).
  const ids = createKeySet();
  let index = 0;
  for await (const { row, line } of readRows(path)) {
    const id = caseId(row, idField, index, path, line);
    if (!ids.add(id)) {
      // Seen before, or two ids whose hashes collide: the file says which, and where.
      const firstLine = await findFirstLine(path, id, idField, index);
      if (firstLine !== undefined) {
        throw new UserError({
          code: "dataset-invalid",
          message: `id ${JSON.stringify(id)} already used on line ${firstLine}`,
          location: { file: path, line },
          field: idField,
          hint: `ids must be unique; remove the ${idField} field to use row numbers`,
        });
      }
    }
    yield {
      id,
      vars: row,
      expected: Object.hasOwn(row, expectedField) ? row[expectedField] : undefined,
      line,
    };
    index++;
  }
}

/** The line of the first of the file's first `rows` rows whose id is `id`, read again from the file. */
async function findFirstLine(
  path: string,
  id: string,
  idField: string,
  rows: number,
): Promise<number | undefined> {
  let index = 0;
  for await (const { row, line } of readRows(path)) {
    if (index >= rows) return undefined;
    if (caseId(row, idField, index, path, line) === id) return line;
    index++;
  }
  return undefined;
}

function caseId(
  row: Record<string, unknown>,
  idField: string,
  index: number,
  file: string,
  line: number,
): string {
  const value = Object.hasOwn(row, idField) ? row[idField] : undefined;
  if (value === undefined || value === null || value === "") return String(index);
  if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value)))
    return String(value);
  throw new UserError({
    code: "dataset-invalid",
    message: `id is ${Array.isArray(value) ? "an array" : `a ${typeof value}`}, expected a string or a number`,
    location: { file, line },
    field: idField,
    hint: `write the ${idField} as text or a number, or remove it to use row numbers`,
  });
}
