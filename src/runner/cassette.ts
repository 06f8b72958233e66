/**
 * Writing a cassette (`eval --record`): every request sample of a run with its answer, in job
 * order, each key once. The header names the providers, so a `replay:` provider of another config
 * can stand in for one of them. Written under a temporary name and moved into place at the end,
 * like a results file.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { unwritableFileError } from "../errors.js";
import { createKeySet } from "../key-set.js";
import type { CassetteEntry, CassetteHeader, CassetteProvider } from "../providers/replay.js";
import type { ProviderSpec } from "../providers/types.js";

/**
 * One sample as a job records it; the job's ids are added when it is written, and its provider's
 * label unless the sample names the provider that answered it (a judge's call).
 */
export type TapeEntry = Omit<CassetteEntry, "case" | "prompt" | "provider" | "draw"> & { provider?: string };

/** How a cassette knows a provider: its label, its model (OpenAI-compatible ones), its params. */
export function cassetteProviderOf(spec: ProviderSpec): CassetteProvider {
  return {
    label: spec.label,
    // A local model's id is a path on this machine; its label names it the same on every machine.
    ...(spec.id.startsWith("openai:") ? { model: spec.id.slice("openai:".length) } : {}),
    params: spec.params,
    ...(spec.completions ? { completions: true } : {}),
  };
}

/** A cassette being written as jobs finish. */
export interface CassetteWriter {
  readonly path: string;
  /** Adds the samples one job recorded (each job's own, even when another sent the same request). */
  write(job: { id: string; prompt: string; provider: string; draw?: number }, tape: TapeEntry[]): void;
  /** Moves the file into place. */
  finish(): void;
  /** Removes the partial file. */
  abort(): void;
}

/** Starts a cassette at `path` for these providers. */
export function createCassetteWriter(path: string, providers: CassetteProvider[]): CassetteWriter {
  const partial = `${path}.partial-${process.pid}`;
  const refused = (error: unknown) =>
    unwritableFileError(error, {
      file: path,
      what: "write the cassette here",
      field: "--record",
      hint: "choose a path you can write to for --record",
    });
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(partial, "w");
  } catch (error) {
    throw refused(error);
  }
  const header: CassetteHeader = { promptsmith: "cassette", version: 1, providers };
  let buffer = `${JSON.stringify(header)}\n`;
  const written = createKeySet();
  let closed = false;
  const flush = () => {
    try {
      if (buffer) writeSync(fd, buffer);
    } catch (error) {
      throw refused(error);
    }
    buffer = "";
  };
  return {
    path,
    write(job, tape) {
      for (const sample of tape) {
        // Two jobs sending one request (a cache off, two prompts that render alike) may get two
        // answers: each keeps its own. The same job's sample twice is written once.
        if (!written.add(`${sample.key}\u0000${job.id}\u0000${job.prompt}\u0000${job.draw ?? ""}`)) continue;
        const { key, provider, ...rest } = sample;
        const entry: CassetteEntry = {
          key,
          case: job.id,
          prompt: job.prompt,
          provider: provider ?? job.provider,
          ...(job.draw !== undefined ? { draw: job.draw } : {}),
          ...rest,
        };
        buffer += `${JSON.stringify(entry)}\n`;
      }
      if (buffer.length >= 64 * 1024) flush();
    },
    finish() {
      if (closed) return;
      flush();
      closeSync(fd);
      closed = true;
      try {
        renameSync(partial, path);
      } catch (error) {
        rmSync(partial, { force: true });
        throw refused(error);
      }
    },
    abort() {
      if (closed) return;
      closed = true;
      closeSync(fd);
      rmSync(partial, { force: true });
    },
  };
}
