import type { ProviderSpec } from "../providers/types.js";
import type { ScorerSpec } from "../scorers/types.js";

/** Where the few-shot examples of a prompt come from and how many to take. */
export interface ShotsSpec {
  /** Absolute path of the examples file (or `builtin:<name>`). */
  from: string;
  /** Number of examples. */
  k: number;
}

/** One prompt variant under comparison. */
export interface PromptSpec {
  id: string;
  /** Absolute path of the template file; undefined when the template is inline. */
  templatePath?: string;
  /** The template source (read from templatePath, or the inline `text:`). */
  template: string;
  shots?: ShotsSpec;
}

/** Where the test cases come from. */
export interface TestsSpec {
  /** Absolute path of the dataset (.jsonl .json .csv .yaml/.yml). */
  path: string;
  /** The field holding the gold answer; default `expected`. */
  expected: string;
}

/** A loaded, validated and normalized config: every path absolute, every default filled in. */
export interface Suite {
  description?: string;
  /** Absolute path of the config file ("<inline>" for configs built in code). */
  configPath: string;
  /** Directory relative paths in the config were resolved against. */
  baseDir: string;
  providers: ProviderSpec[];
  prompts: PromptSpec[];
  tests: TestsSpec;
  scorers: ScorerSpec[];
  /** Directory of partials (`templates/partials` beside the config), when it exists. */
  partialsDir?: string;
}
