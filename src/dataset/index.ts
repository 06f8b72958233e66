export { type ReadCasesOptions, readCases } from "./read-cases.js";
export { loadRows, readRows } from "./read-rows.js";
export { DATASET_EXTENSIONS, type DatasetFormat, type DatasetRow, formatOfPath } from "./source.js";
export type { Case } from "./types.js";
