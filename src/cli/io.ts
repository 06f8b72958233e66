import { fstatSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import type { OutputConfiguration } from "commander";

/** What a command may touch of the outside world; injected so commands run in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The ios processIo() made: their commander output may go straight to the file descriptors. */
const processIos = new WeakSet<CliIo>();

/**
 * The real process's streams, environment and directory. The streams are made when first used:
 * Node builds `process.stdout` on first access (a socket for a pipe, some 3 ms at start-up), and
 * `--version` or `--help` need none (see writeCommanderOutput).
 */
export function processIo(): CliIo {
  const io: CliIo = {
    get stdout() {
      ignoreClosedReader(process.stdout);
      return process.stdout;
    },
    get stderr() {
      ignoreClosedReader(process.stderr);
      return process.stderr;
    },
    env: process.env,
    cwd: process.cwd(),
  };
  processIos.add(io);
  return io;
}

/**
 * Commander's output settings. Its help, version and usage errors are a few KB written once: for
 * the process's own io they go straight to the file descriptor, and the terminal's width and
 * colours are asked of a stream only on a terminal, so that `--help` into a pipe builds no stream.
 * (Commander's defaults read `process.stdout.isTTY`, which builds one.)
 */
export function commanderOutput(io: CliIo): OutputConfiguration {
  const terminal = (fd: 1 | 2) => processIos.has(io) && isTerminal(fd);
  return {
    writeOut: (text: string) => writeCommanderOutput(io, "stdout", text),
    writeErr: (text: string) => writeCommanderOutput(io, "stderr", text),
    // 80 off a terminal, as commander has it.
    getOutHelpWidth: () => (terminal(1) ? process.stdout.columns : 80),
    getErrHelpWidth: () => (terminal(2) ? process.stderr.columns : 80),
    // Nothing promptsmith prints through commander is coloured: this only decides whether commander
    // strips colour codes that are not there.
    getOutHasColors: () => terminal(1) && process.stdout.hasColors?.() === true,
    getErrHasColors: () => terminal(2) && process.stderr.hasColors?.() === true,
  };
}

/**
 * Whether a file descriptor is a terminal. node:tty loads net and the streams (some 4 ms), so a
 * pipe or a file, which is no character device, is told apart without it.
 */
function isTerminal(fd: number): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return (createRequire(import.meta.url)("node:tty") as typeof import("node:tty")).isatty(fd);
}

function writeCommanderOutput(io: CliIo, to: "stdout" | "stderr", text: string): void {
  if (processIos.has(io)) {
    const bytes = Buffer.from(text);
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(to === "stdout" ? 1 : 2, bytes, written);
      return;
    } catch (error) {
      // `promptsmith --help | head -1`: the reader is gone, the rest is dropped (as ignoreClosedReader).
      if ((error as NodeJS.ErrnoException).code === "EPIPE") return;
      // A non-blocking pipe that is full: the stream waits for it.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      io[to].write(bytes.subarray(written));
      return;
    }
  }
  io[to].write(text);
}

const guarded = new WeakSet<NodeJS.WritableStream>();

/**
 * `promptsmith … | head` closes the pipe while we still write: the rest of the output is dropped
 * and the command finishes its work (an eval still writes its journal and results files), instead
 * of dying on an unhandled EPIPE with a stack trace.
 */
function ignoreClosedReader(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") return;
    throw error;
  });
}

/** Colours only on a terminal, never with NO_COLOR set (https://no-color.org), always with FORCE_COLOR. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}
