import { createRequire } from "node:module";

/**
 * V8 settings of the command line. CLI settings, not library ones: importing promptsmith never
 * changes the host process's V8 flags. A value given in NODE_OPTIONS or on the command line wins.
 */

/**
 * Keeps a long evaluation's memory flat. V8 lets the old generation grow to about 4× its live size
 * before a full collection, so a 100,000-case run (live heap ~40 MB) peaked at 284 MB RSS against
 * 178 MB for 1,000 cases. Growing it by 50% at a time instead kept 40,000 jobs at 154 MB against
 * 140 MB for 1,000, for no measurable CPU (bench/RESULTS.md). V8 reads this flag at every
 * collection, so setting it at run time works.
 */
export function tuneHeapForLongRuns(): void {
  setUnlessGiven("--heap-growing-percent", "50");
}

/**
 * undici parses HTTP with llhttp compiled to WebAssembly, and V8 soon recompiles its 33 KB parse
 * function with its optimizing compiler: 86 ms on a background thread and some 40 MB, which a
 * short command then waits for at exit (a one-case eval took 0.33 s instead of 0.26 s). The
 * baseline compiler's code parses fast enough (no difference at 40,000 jobs); a budget 50 times
 * the default leaves the optimizing compile to long runs. Set before undici's module is compiled.
 */
export function keepShortCommandsShort(): void {
  setUnlessGiven("--wasm-tiering-budget", "100000000");
}

function setUnlessGiven(flag: string, value: string): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  if (given.some((arg) => arg.startsWith(flag))) return;
  // Loaded here, not at the top: node:v8 brings Node's stream modules, some 2 ms the command
  // line's front (--version, --help) does without.
  const v8 = createRequire(import.meta.url)("node:v8") as typeof import("node:v8");
  v8.setFlagsFromString(`${flag}=${value}`);
}
