/**
 * The batches a config has submitted and not yet read, in `<runsDir>/batches.ndjson`: run
 * `eval --batch` again after the process was stopped (and the --batch-id it printed forgotten) and
 * it attaches to the batch already paid for instead of submitting the same requests twice.
 */
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Suite } from "../config/types.js";
import type { ProviderSpec } from "../providers/types.js";
import { endpointOf } from "./execute.js";
import { canonicalJson } from "./job-key.js";
import { toRecordConfig } from "./record-config.js";
import { compactSelection, type RunSelection } from "./resume.js";

/** A submission not yet read back. */
export interface PendingBatch {
  batchIds: string[];
  submittedAt: string;
  requests: number;
}

type LedgerLine =
  | { type: "submitted"; key: string; label: string; batchIds: string[]; requests: number; at: string }
  | { type: "read"; batchIds: string[]; at: string };

/** The ledger file of a suite (not `.jsonl`: the runs folder lists those as run journals). */
export function ledgerPath(suite: Suite): string {
  return join(suite.runsDir, "batches.ndjson");
}

/**
 * What makes two `eval --batch` invocations ask for the same requests from one provider: the
 * config as recorded, the seed, the selection, the run being resumed, and the endpoint.
 */
export function submissionKey(
  suite: Suite,
  spec: ProviderSpec,
  selection: RunSelection & { resume?: string },
  env: NodeJS.ProcessEnv,
): string {
  const parts = {
    config: toRecordConfig(suite),
    seed: suite.seed,
    selection: compactSelection(selection),
    resume: selection.resume ?? null,
    provider: spec.label,
    endpoint: endpointOf(spec, env) ?? null,
  };
  return createHash("sha256").update(canonicalJson(parts)).digest("hex");
}

/** The batches of the newest submission under `key` that are not read yet; undefined when all are. */
export function findPending(path: string, key: string): PendingBatch | undefined {
  const lines = readLedger(path);
  const read = new Set(lines.flatMap((line) => (line.type === "read" ? line.batchIds : [])));
  for (const line of lines.reverse()) {
    if (line.type !== "submitted" || line.key !== key) continue;
    const unread = line.batchIds.filter((id) => !read.has(id));
    if (unread.length === 0) return undefined;
    return { batchIds: unread, submittedAt: line.at, requests: line.requests };
  }
  return undefined;
}

export function recordSubmitted(
  path: string,
  entry: { key: string; label: string; batchIds: string[]; requests: number },
  now = new Date(),
): void {
  append(path, { type: "submitted", ...entry, at: now.toISOString() });
}

/** Marks batches as done with: read and scored, or failed. A later `eval --batch` submits anew. */
export function recordRead(path: string, batchIds: string[], now = new Date()): void {
  if (batchIds.length > 0) append(path, { type: "read", batchIds, at: now.toISOString() });
}

function append(path: string, line: LedgerLine): void {
  mkdirSync(join(path, ".."), { recursive: true });
  appendFileSync(path, `${JSON.stringify(line)}\n`);
}

function readLedger(path: string): LedgerLine[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const lines: LedgerLine[] = [];
  for (const raw of text.split("\n")) {
    try {
      const line = JSON.parse(raw) as LedgerLine;
      if (line && Array.isArray(line.batchIds)) lines.push(line);
    } catch {
      // A line cut off by a crash, or blank: the ledger is a convenience, never a reason to stop.
    }
  }
  return lines;
}
