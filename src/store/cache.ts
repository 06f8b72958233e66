/**
 * The response cache: one SQLite file mapping a cache key (see `cacheKey` in job-key.ts) to the
 * answer a provider gave, and an embedding key (`embeddingKey` in embed.ts) to the vector an
 * endpoint gave. better-sqlite3 is loaded only when a cache is opened, so runs without a cache
 * never pay for the native module.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { UserError } from "../errors.js";
import type { TokenUsage } from "../providers/types.js";

/** What is stored for one successful sample. */
export interface CacheValue {
  output: string;
  usage: TokenUsage;
  latencyMs: number;
  providerId: string;
  model?: string;
}

/** A cache hit: the stored value and when it was stored (ISO 8601). */
export interface CachedResponse extends CacheValue {
  createdAt: string;
}

/** Size of a cache, overall and per provider (largest first). */
export interface CacheStats {
  entries: number;
  /** Size of the database in bytes (pages in use, including pages still in the WAL). */
  bytes: number;
  byProvider: { provider: string; entries: number }[];
  /** Cached embedding vectors (not counted in `entries`). */
  embeddings: number;
}

/** An open response cache. Safe to share a file between processes (WAL, busy timeout). */
export interface ResponseCache {
  readonly path: string;
  get(key: string): CachedResponse | undefined;
  /**
   * Stores a successful answer. Failed calls must never reach here; the value is checked. Visible
   * to this connection's `get` at once; written (and seen by other processes) with its batch.
   */
  set(key: string, value: CacheValue): void;
  /** Writes the queued answers now (close does too). */
  flush(): void;
  /** The vector stored under an `embeddingKey`, or undefined. */
  getEmbedding(key: string): Float32Array | undefined;
  /** Stores a vector (as float32) under an `embeddingKey`. */
  setEmbedding(key: string, vector: ArrayLike<number>): void;
  stats(): CacheStats;
  /** Removes every entry, responses and embeddings; returns how many were removed. */
  clear(): number;
  close(): void;
}

/** Options for `openCache`. */
export interface OpenCacheOptions {
  /** Clock for `created_at`; defaults to the system clock. */
  now?: () => Date;
}

// The slice of better-sqlite3 used here; the package ships no types and this keeps us honest.
export interface SqliteRunResult {
  changes: number;
}
export interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
export interface SqliteDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  prepare(source: string): SqliteStatement;
  close(): unknown;
  /** Whether a transaction is open (SQLite ends one itself after some errors). */
  readonly inTransaction: boolean;
}
type SqliteConstructor = new (path: string, options?: { timeout?: number }) => SqliteDatabase;

/** How long a connection waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS responses (
  key TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  model TEXT,
  response TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
  key TEXT PRIMARY KEY,
  vector BLOB NOT NULL,
  created_at TEXT NOT NULL
)`;

/** better-sqlite3's Database class, loaded on first use. */
export function loadSqlite(): SqliteConstructor {
  // createRequire rather than a top-level import: the CLI must start without the native module.
  const require = createRequire(import.meta.url);
  return require("better-sqlite3") as SqliteConstructor;
}

function isSqliteError(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && codes.includes(code);
}

/**
 * A write the disk refused (full, read-only, failing) as a user error: the run stops, and what it
 * finished is in its journal. Anything else stays as it is.
 */
export function refusedWrite(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return error;
  const reason =
    code === "SQLITE_FULL"
      ? "no space left on the device"
      : code.startsWith("SQLITE_READONLY")
        ? "the file or its folder is read-only"
        : code.startsWith("SQLITE_IOERR")
          ? `the disk failed a write (${code})`
          : undefined;
  if (reason === undefined) return error;
  return new UserError({
    code: "file-unwritable",
    location: { file: path },
    message: `cannot write to the response cache: ${reason}`,
    hint: "free some space, set cache.path: elsewhere or run with --no-cache, then finish the run with promptsmith eval --resume",
    cause: error,
  });
}

/** Answers queued before they are written in one transaction. */
const WRITE_BATCH_ROWS = 256;
/** Longest an answer waits in the queue: a crash loses at most this much (the journal has it). */
const WRITE_DELAY_MS = 250;

/**
 * Opens (creating it and its folder when missing) the cache at `path`.
 * Answers are written in batches (256 rows, or after 250 ms, and on close), one transaction
 * each: a commit per answer cost 55 µs of CPU and a WAL frame apiece, 40% of a cached run's
 * CPU at 0 ms latency. Queued answers are visible to `get` at once; a crash loses at most the
 * last 250 ms of them, which the run journal holds anyway.
 */
export function openCache(path: string, options: OpenCacheOptions = {}): ResponseCache {
  const now = options.now ?? (() => new Date());
  const Database = loadSqlite();
  let db: SqliteDatabase;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // WAL lets a reader and a writer (or two runs sharing the cache) work at once;
    // NORMAL keeps the database consistent after a crash and may lose only the last commits.
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(SCHEMA);
  } catch (error) {
    if (
      isSqliteError(
        error,
        "SQLITE_NOTADB",
        "SQLITE_CANTOPEN",
        "SQLITE_CORRUPT",
        "EACCES",
        "ENOTDIR",
        "EEXIST",
      )
    ) {
      throw new UserError({
        code: "usage",
        message: `cannot open the response cache: ${(error as Error).message}`,
        location: { file: path },
        hint: "set cache.path: in the config to a file you can write (or run with --no-cache); delete the file if it is not a promptsmith cache",
        cause: error,
      });
    }
    throw error;
  }

  const selectOne = db.prepare("SELECT provider, model, response, created_at FROM responses WHERE key = ?");
  const upsert = db.prepare(
    "INSERT OR REPLACE INTO responses (key, provider, model, response, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  const countAll = db.prepare("SELECT COUNT(*) AS n FROM responses");
  const countByProvider = db.prepare(
    "SELECT provider, COUNT(*) AS n FROM responses GROUP BY provider ORDER BY n DESC, provider ASC",
  );
  const deleteAll = db.prepare("DELETE FROM responses");
  const selectVector = db.prepare("SELECT vector FROM embeddings WHERE key = ?");
  const upsertVector = db.prepare(
    "INSERT OR REPLACE INTO embeddings (key, vector, created_at) VALUES (?, ?, ?)",
  );
  const countVectors = db.prepare("SELECT COUNT(*) AS n FROM embeddings");
  const deleteVectors = db.prepare("DELETE FROM embeddings");
  let closed = false;
  const queue = new Map<
    string,
    [provider: string, model: string | null, response: string, createdAt: string]
  >();
  let timer: NodeJS.Timeout | undefined;
  // A write that failed inside the timer cannot throw anywhere useful; it surfaces on the next call.
  let failure: unknown;

  const assertOpen = (): void => {
    if (closed) throw new Error(`response cache ${path} is closed`);
    if (failure !== undefined) throw failure;
  };
  const flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.size === 0) return;
    const rows = [...queue];
    queue.clear();
    try {
      db.exec("BEGIN IMMEDIATE");
      try {
        for (const [key, row] of rows) upsert.run(key, ...row);
        db.exec("COMMIT");
      } catch (error) {
        // SQLite has rolled back already after some errors (a full disk); a second ROLLBACK would
        // hide the first error behind "no transaction is active".
        if (db.inTransaction) db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      throw refusedWrite(error, path);
    }
  };
  const flushLater = (): void => {
    try {
      flush();
    } catch (error) {
      failure = error;
    }
  };

  return {
    path,
    get(key) {
      assertOpen();
      const queued = queue.get(key);
      const row = queued
        ? { provider: queued[0], model: queued[1], response: queued[2], created_at: queued[3] }
        : (selectOne.get(key) as
            | { provider: string; model: string | null; response: string; created_at: string }
            | undefined);
      if (!row) return undefined;
      const stored = parseStored(row.response);
      // A row we cannot read (hand-edited, older layout) is a miss: calling the model again is safe.
      if (!stored) return undefined;
      const hit: CachedResponse = { ...stored, providerId: row.provider, createdAt: row.created_at };
      if (row.model !== null) hit.model = row.model;
      return hit;
    },
    set(key, value) {
      assertOpen();
      assertCacheable(value);
      const response = JSON.stringify({
        output: value.output,
        usage: { prompt: value.usage.prompt, completion: value.usage.completion },
        latencyMs: value.latencyMs,
      });
      queue.delete(key); // re-inserted last, as a newer write of the same key
      queue.set(key, [value.providerId, value.model ?? null, response, now().toISOString()]);
      if (queue.size >= WRITE_BATCH_ROWS) flush();
      else if (timer === undefined) {
        timer = setTimeout(flushLater, WRITE_DELAY_MS);
        // A pending write must not keep a finished process alive; close() writes it.
        timer.unref();
      }
    },
    flush() {
      assertOpen();
      flush();
    },
    getEmbedding(key) {
      assertOpen();
      const row = selectVector.get(key) as { vector: Uint8Array } | undefined;
      // A blob that is not whole float32s was not written here: a miss, embedded again.
      if (!row || row.vector.byteLength === 0 || row.vector.byteLength % 4 !== 0) return undefined;
      // Copied: the blob's offset need not be a multiple of 4, which Float32Array requires.
      return new Float32Array(new Uint8Array(row.vector).buffer);
    },
    setEmbedding(key, vector) {
      assertOpen();
      const floats = Float32Array.from(vector);
      if (floats.length === 0 || !floats.every(Number.isFinite)) {
        throw new TypeError("response cache: an embedding must be a non-empty vector of finite numbers");
      }
      upsertVector.run(
        key,
        Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength),
        now().toISOString(),
      );
    },
    stats() {
      assertOpen();
      flush();
      const entries = (countAll.get() as { n: number }).n;
      const pageCount = Number(db.pragma("page_count", { simple: true }));
      const pageSize = Number(db.pragma("page_size", { simple: true }));
      const byProvider = (countByProvider.all() as { provider: string; n: number }[]).map((row) => ({
        provider: row.provider,
        entries: row.n,
      }));
      const embeddings = (countVectors.get() as { n: number }).n;
      return { entries, bytes: pageCount * pageSize, byProvider, embeddings };
    },
    clear() {
      assertOpen();
      flush();
      return deleteAll.run().changes + deleteVectors.run().changes;
    },
    close() {
      if (closed) return;
      try {
        flush();
      } finally {
        closed = true;
        db.close();
      }
    },
  };
}

function parseStored(text: string): Omit<CacheValue, "providerId" | "model"> | undefined {
  try {
    const value = JSON.parse(text) as {
      output?: unknown;
      usage?: { prompt?: unknown; completion?: unknown };
      latencyMs?: unknown;
    };
    if (
      typeof value?.output !== "string" ||
      typeof value.usage?.prompt !== "number" ||
      typeof value.usage.completion !== "number" ||
      typeof value.latencyMs !== "number"
    ) {
      return undefined;
    }
    return {
      output: value.output,
      usage: { prompt: value.usage.prompt, completion: value.usage.completion },
      latencyMs: value.latencyMs,
    };
  } catch {
    return undefined;
  }
}

// Only answers are cached: anything that does not look like one is a bug in the caller.
function assertCacheable(value: CacheValue): void {
  const isCount = (n: unknown): boolean => typeof n === "number" && Number.isFinite(n) && n >= 0;
  if (
    typeof value?.output !== "string" ||
    typeof value.providerId !== "string" ||
    !isCount(value.usage?.prompt) ||
    !isCount(value.usage?.completion) ||
    !isCount(value.latencyMs)
  ) {
    throw new TypeError(
      "response cache: only successful responses (output, usage, latencyMs, providerId) can be stored",
    );
  }
}
