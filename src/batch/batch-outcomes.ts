/**
 * Where a batch's answers wait to be scored: a temporary SQLite file, so a batch of a million
 * requests is read back one answer at a time instead of held in memory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BatchOutcome } from "../providers/openai-batch.js";
import { loadSqlite, type SqliteDatabase, type SqliteStatement } from "../store/cache.js";

/** A batch's outcomes by custom id; `close` deletes the file. */
export interface OutcomeStore {
  /** The temporary database file. */
  readonly path: string;
  /** Stores an outcome; a second one for the same custom id replaces the first. */
  put(outcome: BatchOutcome): void;
  get(customId: string): BatchOutcome | undefined;
  readonly size: number;
  close(): void;
}

/** Rows written per transaction: one commit per row would make storing the slow part. */
const ROWS_PER_COMMIT = 1000;

export function openOutcomeStore(): OutcomeStore {
  const dir = mkdtempSync(join(tmpdir(), "promptsmith-batch-"));
  const Database = loadSqlite();
  const path = join(dir, "outcomes.db");
  let db: SqliteDatabase;
  try {
    db = new Database(path);
    // Scratch data that the batch's result files can always give again: no journal, no fsync.
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.exec("CREATE TABLE outcomes (custom_id TEXT PRIMARY KEY, outcome TEXT NOT NULL)");
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const insert: SqliteStatement = db.prepare(
    "INSERT OR REPLACE INTO outcomes (custom_id, outcome) VALUES (?, ?)",
  );
  const select: SqliteStatement = db.prepare("SELECT outcome FROM outcomes WHERE custom_id = ?");
  const count: SqliteStatement = db.prepare("SELECT count(*) AS n FROM outcomes");
  let open = false;
  let pending = 0;
  const commit = () => {
    if (!open) return;
    db.exec("COMMIT");
    open = false;
    pending = 0;
  };
  return {
    path,
    put(outcome) {
      if (!open) {
        db.exec("BEGIN");
        open = true;
      }
      insert.run(outcome.customId, JSON.stringify(outcome));
      if (++pending >= ROWS_PER_COMMIT) commit();
    },
    get(customId) {
      commit();
      const row = select.get(customId) as { outcome: string } | undefined;
      return row ? (JSON.parse(row.outcome) as BatchOutcome) : undefined;
    },
    get size() {
      commit();
      return (count.get() as { n: number }).n;
    },
    close() {
      try {
        commit();
        db.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
