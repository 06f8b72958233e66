/** What `check-leaks` reports: test cases found in the example pools and corpora of a config. */

/** Where one side of a finding is. */
export interface LeakPlace {
  /** The case's or example's id, or the passage as `<file>#<chunk>`. */
  id: string;
  /** Absolute path of its file, or `builtin:<name>`. */
  file: string;
  /** 1-based line, where the file has lines. */
  line?: number;
}

/** A test case found in a pool or corpus. */
export interface LeakFinding {
  case: LeakPlace;
  /** `shots`: in an example pool; `context`: in a corpus passage. */
  in: "shots" | "context";
  copy: LeakPlace;
  kind: "exact" | "near";
  /** 1 for an exact copy; else the share of word 3-grams in common (4 decimals). */
  similarity: number;
}

/** What check-leaks found. */
export interface LeakReport {
  /** Test cases checked. */
  cases: number;
  pools: { file: string; examples: number }[];
  corpora: { dir: string; passages: number }[];
  /** Findings of each kind. */
  exact: number;
  near: number;
  /** Every finding in test-case order; empty when `onFinding` took them. */
  findings: LeakFinding[];
}
