import type { RunRecord } from "../record/types.js";

/** The summary for scripts (`eval --json`): stable field names, one JSON document. */
export function renderJsonSummary(record: RunRecord): string {
  const { version, runId, startedAt, finishedAt, status, stopReason, summary, comparisons, gates } = record;
  return `${JSON.stringify({ version, runId, startedAt, finishedAt, status, stopReason, summary, comparisons, gates }, null, 2)}\n`;
}
