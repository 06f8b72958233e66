/**
 * The batches a config has submitted and not yet read, in `<runsDir>/batches.ndjson`: run
 * `eval --batch` again after the process was stopped (and the --batch-id it printed forgotten) and
 * it attaches to the batch already paid for instead of submitting the same requests twice.
 */
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Suite } from "../config/types.js";
import type { ProviderSpec } from "../providers/types.js";
import { toRecordConfig } from "../record/record-config.js";
import { endpointOf } from "../runner/execute.js";
import { matchesAny } from "../runner/select.js";
import { canonicalJson } from "../store/job-key.js";
import { compactSelection, type RunSelection } from "../store/resume.js";

/** A submission not yet read back. */
export interface PendingBatch {
  /** Its batches not read yet. */
  batchIds: string[];
  submittedAt: string;
  /** Requests in the whole submission (read batches too); for a cut-off one, in its batches so far. */
  requests: number;
  /**
   * False when the process stopped part-way through submitting (its batches were recorded one by
   * one as they were made): the requests of the files it never sent are in none of them.
   */
  complete: boolean;
}

/**
 * `created` is written as each batch is made, `submitted` once a submit has made them all, both
 * with the submission's id; `read` when batches are done with. Lines of older versions have no
 * submission id: each `submitted` line is then a whole submission of its own.
 */
type LedgerLine =
  | {
      type: "submitted";
      key: string;
      label: string;
      batchIds: string[];
      requests: number;
      at: string;
      submission?: string;
    }
  | { type: "created"; key: string; submission: string; batchIds: string[]; requests: number; at: string }
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
  const newest = lines.findLast((line) => line.type !== "read" && line.key === key);
  if (newest === undefined || newest.type === "read") return undefined;
  let pending: PendingBatch;
  if (newest.type === "submitted") {
    pending = {
      batchIds: newest.batchIds,
      submittedAt: newest.at,
      requests: newest.requests,
      complete: true,
    };
  } else {
    // Cut off while submitting: the batches it made, from the lines written as each was made.
    const made = lines.filter(
      (line): line is Extract<LedgerLine, { type: "created" }> =>
        line.type === "created" && line.submission === newest.submission,
    );
    pending = {
      batchIds: made.flatMap((line) => line.batchIds),
      submittedAt: made[0].at,
      requests: made.reduce((n, line) => n + line.requests, 0),
      complete: false,
    };
  }
  const unread = pending.batchIds.filter((id) => !read.has(id));
  return unread.length === 0 ? undefined : { ...pending, batchIds: unread };
}

/**
 * Batches that an earlier `eval --batch` with this config and selection submitted and has not
 * read: answers already paid for, which an online run of the same jobs would pay for again.
 */
export function unreadBatches(suite: Suite, selection: RunSelection, env: NodeJS.ProcessEnv): string[] {
  const path = ledgerPath(suite);
  if (!existsSync(path)) return [];
  return suite.providers
    .filter((spec) => matchesAny(selection.filterProvider, [spec.id, spec.label]))
    .flatMap((spec) => findPending(path, submissionKey(suite, spec, selection, env))?.batchIds ?? []);
}

/** A new submission's id, for its ledger lines. */
export function newSubmissionId(): string {
  return randomBytes(6).toString("hex");
}

/** Records batches of a submission under way, as each is made (or taken over from a cut-off one). */
export function recordCreated(
  path: string,
  entry: { key: string; submission: string; batchIds: string[]; requests: number },
  now = new Date(),
): void {
  append(path, { type: "created", ...entry, at: now.toISOString() });
}

/** Records a submission whose every batch was made. */
export function recordSubmitted(
  path: string,
  entry: { key: string; label: string; batchIds: string[]; requests: number; submission: string },
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
