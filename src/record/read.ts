import { readFile } from "node:fs/promises";
import { UserError } from "../errors.js";
import { RECORD_VERSION, type RunRecord } from "./types.js";

/** Reads a results file written with `-o results.json`, checking it is a complete record this version understands. */
export async function readRecord(path: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: "no such results file",
      hint: "write one with promptsmith eval -o results.json",
    });
  }
  let record: RunRecord;
  try {
    record = JSON.parse(text) as RunRecord;
  } catch (error) {
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: `not a JSON results file (${(error as Error).message})`,
      hint: path.endsWith(".jsonl")
        ? "a .jsonl results file holds cases only; write the full record with -o results.json"
        : "write results with promptsmith eval -o results.json",
    });
  }
  if (
    record === null ||
    typeof record !== "object" ||
    !Array.isArray(record.cases) ||
    !Array.isArray(record.summary)
  ) {
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: "not a promptsmith results file",
      hint: "write one with promptsmith eval -o results.json",
    });
  }
  if (record.version !== RECORD_VERSION) {
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: `results version ${String(record.version)} is not supported (this promptsmith reads version ${RECORD_VERSION})`,
      hint: "re-render it with the promptsmith version that wrote it",
    });
  }
  return record;
}
