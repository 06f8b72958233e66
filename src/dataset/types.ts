/** One test case: a row of the dataset. */
export interface Case {
  /** Stable id: the row's `id` field, else its 0-based row index, as a string. */
  id: string;
  /** The row's fields, given to the template as variables. */
  vars: Record<string, unknown>;
  /** The gold answer (the `expected` field of the row, or the field the config names). */
  expected: unknown;
  /** 1-based line the row starts on (for JSON, where its element starts), for error messages. */
  line?: number;
}
