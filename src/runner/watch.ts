/**
 * `eval --watch`: run a config, then run it again whenever one of its files changes (the config,
 * a template, a partial, the dataset, an example pool, a corpus, a JS scorer), and say what changed
 * against the previous run. Each run goes through the response cache, so only the requests whose
 * rendered prompt changed reach the model. A config that does not load is reported and the watch
 * goes on; the files it last named stay watched, and the config file always is.
 */
import { type FSWatcher, statSync, watch } from "node:fs";
import path from "node:path";
import { findConfigFile, loadConfig } from "../config/index.js";
import type { Suite } from "../config/types.js";
import { isUserError } from "../errors.js";
import { type DiffCase, type DiffInput, diffRuns, type RunDiff } from "../stats/run-diff.js";
import { type EvaluateOptions, type EvaluateResult, evaluate } from "./evaluate.js";

/** Options of {@link watchEvaluate}: evaluate's, less what a watch decides itself. */
export interface WatchOptions
  extends Omit<EvaluateOptions, "suite" | "signal" | "resume" | "retryErrors" | "journal" | "onStart"> {
  /** The config file or directory, as loadConfig takes it (default: the working directory's). */
  configPath?: string;
  /** Directory a relative configPath is resolved against (default process.cwd()). */
  cwd?: string;
  /** Ends the watch (Ctrl-C); a run under way is interrupted. */
  signal: AbortSignal;
  /** Quiet time after the last change before running again, in ms (default 200): an editor's save is several events. */
  debounceMs?: number;
  /** Each finished run, with what changed since the previous one. */
  onRun: (run: WatchRun) => void | Promise<void>;
  /** A run that could not start or finish (a config or template error, no endpoint); the watch goes on. */
  onError: (error: unknown) => void;
  /** A run starts again because these files changed. */
  onChange?: (files: string[]) => void;
  /** The config was loaded (before each run); e.g. to print its provider note once. */
  onSuite?: (suite: Suite) => void;
}

/** One finished run of a watch. */
export interface WatchRun {
  /** 1 for the first run. */
  number: number;
  result: EvaluateResult;
  /** What changed against the previous finished run (absent on the first). */
  diff?: RunDiff;
  /** The files being watched. */
  watching: string[];
}

/**
 * Runs the suite, then again after each change, until `signal` aborts. Resolves when it does;
 * rejects only on a bug (user errors go to onError).
 */
export async function watchEvaluate(options: WatchOptions): Promise<void> {
  const { configPath, cwd: given, signal, debounceMs, onRun, onError, onChange, onSuite, ...rest } = options;
  const cwd = path.resolve(given ?? process.cwd());
  const debounce = debounceMs ?? 200;
  const configFile = await findConfigFile(path.resolve(cwd, configPath ?? "."));
  if (!configFile) {
    // Nothing to watch: the same error a plain eval gives.
    await loadConfig(configPath, { env: options.env, cwd });
    return;
  }
  /** Changed files not run yet, and when the last change came. */
  const pending = { at: 0, files: new Set<string>() };
  let dirty = true;
  let wake: () => void = () => undefined;
  const watcher = createFileWatcher((file) => {
    dirty = true;
    pending.at = Date.now();
    pending.files.add(file);
    wake();
  });
  const onAbort = () => wake();
  signal.addEventListener("abort", onAbort);

  // Every case's verdict (not its text) of the previous run, for the flips.
  let previous: DiffInput | undefined;
  let number = 0;
  try {
    while (!signal.aborted) {
      if (!dirty) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      // Quiet for `debounce` since the last change: one save is several events.
      const quiet = pending.at + debounce - Date.now();
      if (quiet > 0) {
        await sleep(quiet, signal);
        continue;
      }
      dirty = false;
      if (number > 0) onChange?.([...pending.files].sort());
      pending.files.clear();

      let suite: Suite | undefined;
      try {
        suite = await loadConfig(configFile, { env: options.env, cwd });
      } catch (error) {
        if (!isUserError(error)) throw error;
        onError(error);
      }
      watcher.set(suite ? watchedFiles(suite) : [configFile], configFile);
      if (!suite) continue;
      onSuite?.(suite);

      const verdicts: DiffCase[] = [];
      let result: EvaluateResult;
      try {
        result = await evaluate({
          ...rest,
          suite,
          signal,
          // The cache is what makes a re-run cheap: only changed requests reach the model.
          cache: rest.cache ?? "use",
          // A watch's runs are not resumed: each one's answers are in the cache.
          journal: false,
          onResult: (r) => {
            verdicts.push({
              id: r.id,
              prompt: r.prompt,
              provider: r.provider,
              ...(r.draw !== undefined ? { draw: r.draw } : {}),
              pass: r.pass,
              unparsed: r.unparsed,
              error: r.error,
              expected: r.expected,
              extracted: r.extracted,
              output: null,
            });
            rest.onResult?.(r);
          },
        });
      } catch (error) {
        if (!isUserError(error)) throw error;
        onError(error);
        continue;
      }
      if (signal.aborted) break;
      number++;
      const current = { summary: result.record.summary, cases: verdicts, config: result.record.config };
      await onRun({
        number,
        result,
        ...(previous ? { diff: diffRuns(previous, current) } : {}),
        watching: watcher.files(),
      });
      previous = current;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    watcher.close();
  }
}

/** Every file a suite reads, and the folders read whole (partials, corpus). */
export function watchedFiles(suite: Suite): string[] {
  const files = new Set<string>([suite.configPath, suite.tests.path]);
  if (suite.partialsDir) files.add(suite.partialsDir);
  for (const prompt of suite.prompts) {
    if (prompt.templatePath) files.add(prompt.templatePath);
    if (prompt.extract?.templatePath) files.add(prompt.extract.templatePath);
    if (prompt.shots && !prompt.shots.from.startsWith("builtin:")) files.add(prompt.shots.from);
    if (prompt.context) files.add(prompt.context.corpus);
  }
  for (const scorer of suite.scorers) if (typeof scorer.path === "string") files.add(scorer.path);
  return [...files].filter((file) => path.isAbsolute(file)).sort();
}

/**
 * Watches files through their folders (an editor that saves by writing a new file and renaming it
 * over the old one would end a watch on the file itself); a watched folder counts as changed when
 * anything in it does.
 */
function createFileWatcher(onChange: (file: string) => void) {
  const watchers = new Map<string, FSWatcher>();
  let wanted = new Set<string>();
  let folders = new Set<string>();
  return {
    /** Watch these (files or folders) from now on; `always` (the config) even when it vanishes. */
    set(paths: string[], always: string) {
      wanted = new Set([...paths, always]);
      folders = new Set(paths.filter((p) => isFolder(p)));
      const needed = new Set([...wanted].map((p) => (folders.has(p) ? p : path.dirname(p))));
      for (const [dir, w] of watchers) {
        if (needed.has(dir)) continue;
        w.close();
        watchers.delete(dir);
      }
      for (const dir of needed) {
        if (watchers.has(dir)) continue;
        try {
          const w = watch(dir, (_event, name) => {
            const file = name === null ? dir : path.join(dir, name.toString());
            const hit = folders.has(dir) ? dir : wanted.has(file) ? file : undefined;
            if (hit !== undefined) onChange(hit);
          });
          // A folder that goes away stops its watcher; the next run's set() watches it again.
          w.on("error", () => {
            w.close();
            watchers.delete(dir);
          });
          watchers.set(dir, w);
        } catch {
          // A folder that does not exist (yet): the run that needs it reports it.
        }
      }
    },
    files: () => [...wanted].sort(),
    close() {
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
