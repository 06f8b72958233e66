import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI entry (npm test builds before running the tests). */
export const CLI = fileURLToPath(new URL("../../bin/promptsmith.js", import.meta.url));
/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** What a CLI run printed and how it ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of runCli. */
export interface RunCliOptions {
  cwd?: string;
  /** Added to a minimal environment (PATH, HOME, NO_COLOR=1); nothing leaks in from the test process. */
  env?: Record<string, string | undefined>;
  /** Kill the child after this long (a hung CLI fails the test instead of hanging it). */
  timeoutMs?: number;
  /** Called with each stdout chunk, e.g. to send a signal once some output appeared. */
  onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void;
  onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void;
  /** Called once the child is started, e.g. to signal it later. */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
}

/** Spawns the built CLI as a user would, and collects its output. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    NO_COLOR: "1",
  };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    options.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk, child);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk, child);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A fresh copy of fixtures/<name> in a temp dir, so each test gets its own cache and run journals
 * (`.promptsmith/` beside the config) and never sees another test's answers.
 */
/** Gives a copied fixture's provider a price ($1000 per 1M tokens each way), so spend is counted. */
export function priced(dir: string): string {
  const config = join(dir, "promptsmith.yaml");
  writeFileSync(
    config,
    readFileSync(config, "utf8").replace(
      "maxRetries: 0",
      "maxRetries: 0\n    price: { input: 1000, output: 1000 }",
    ),
  );
  return dir;
}

export function copyFixture(name: string): string {
  const dir = join(
    mkdtempSync(join(tmpdir(), `promptsmith-${name.replace(/\W/g, "-")}-`)),
    name.split("/").at(-1)!,
  );
  cpSync(join(ROOT, "fixtures", name), dir, {
    recursive: true,
    filter: (source) => !source.includes(".promptsmith"),
  });
  return dir;
}
