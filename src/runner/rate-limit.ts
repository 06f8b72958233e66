/**
 * Pacing calls to an endpoint: a token bucket for requests/tokens per minute, an AIMD
 * concurrency limit that backs off on 429s, and Retry-After parsing.
 */
import { setTimeout as delay } from "node:timers/promises";

/** Options for `createTokenBucket`. Omit a rate to leave it unlimited. */
export interface TokenBucketOptions {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens (prompt + expected completion) per minute. */
  tpm?: number;
  /**
   * The most that goes out at once, as time's worth of each rate (default 1000 ms). OpenAI
   * enforces per-minute limits over shorter windows ("60,000 rpm may be enforced as 1,000 per
   * second"), so a bucket that starts a run with a whole minute's worth in one burst earns 429s.
   */
  burstMs?: number;
  /** Monotonic clock in milliseconds; defaults to `performance.now`. */
  now?: () => number;
  /** Waits `ms`; defaults to a timer. Aborting is handled around it, so it may ignore `signal`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Hands out permission to send a request of a given size, in arrival order. */
export interface TokenBucket {
  /** Resolves when a request of `tokens` tokens may be sent; rejects with the signal's reason on abort. */
  acquire(tokens: number, signal?: AbortSignal): Promise<void>;
}

// Float refill can land a hair under a whole request; don't sleep 1 ms for 1e-12 of a token.
const EPSILON = 1e-9;
const MINUTE_MS = 60_000;
const DEFAULT_BURST_MS = 1000;

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, { signal });

function assertRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
}

/** Rejects as soon as `signal` aborts, whatever `promise` does. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A bucket per limit, refilled continuously, each holding `burstMs`' worth (at least one request)
 * and starting full. Callers are served first come, first served, so a large request is not
 * starved by small ones. A request larger than the bucket waits for a full bucket and then goes
 * alone; the bucket goes negative, so the overdraft is paid back before anything else is sent.
 */
export function createTokenBucket(options: TokenBucketOptions = {}): TokenBucket {
  const { rpm, tpm } = options;
  assertRate("rpm", rpm);
  assertRate("tpm", tpm);
  const burstMs = options.burstMs ?? DEFAULT_BURST_MS;
  assertRate("burstMs", burstMs);
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const requestCapacity = rpm === undefined ? 0 : Math.max(1, (rpm * burstMs) / MINUTE_MS);
  const tokenCapacity = tpm === undefined ? 0 : (tpm * burstMs) / MINUTE_MS;
  let requests = requestCapacity;
  let tokensLeft = tokenCapacity;
  let last = now();
  // The promise the next caller waits on: resolved when the caller before it has been served.
  let tail: Promise<void> = Promise.resolve();

  const refill = (): void => {
    const t = now();
    const elapsed = Math.max(0, t - last);
    last = t;
    if (rpm !== undefined) requests = Math.min(requestCapacity, requests + (elapsed * rpm) / MINUTE_MS);
    if (tpm !== undefined) tokensLeft = Math.min(tokenCapacity, tokensLeft + (elapsed * tpm) / MINUTE_MS);
  };

  const take = async (tokens: number, signal: AbortSignal | undefined): Promise<void> => {
    const needed = tpm === undefined ? 0 : Math.min(tokens, tokenCapacity);
    for (;;) {
      signal?.throwIfAborted();
      refill();
      const requestWait =
        rpm === undefined || requests >= 1 - EPSILON ? 0 : ((1 - requests) * MINUTE_MS) / rpm;
      const tokenWait =
        tpm === undefined || tokensLeft >= needed - EPSILON ? 0 : ((needed - tokensLeft) * MINUTE_MS) / tpm;
      const wait = Math.max(requestWait, tokenWait);
      if (wait === 0) {
        if (rpm !== undefined) requests -= 1;
        if (tpm !== undefined) tokensLeft -= tokens;
        return;
      }
      await raceAbort(sleep(Math.ceil(wait), signal), signal);
    }
  };

  return {
    async acquire(tokens, signal) {
      if (!(Number.isFinite(tokens) && tokens >= 0)) {
        throw new RangeError(`acquire: tokens must be a non-negative number, got ${tokens}`);
      }
      signal?.throwIfAborted();
      if (rpm === undefined && tpm === undefined) return;
      const previous = tail;
      let done!: () => void;
      tail = new Promise<void>((resolve) => {
        done = resolve;
      });
      let reachedFront = false;
      try {
        await raceAbort(previous, signal);
        reachedFront = true;
        await take(tokens, signal);
      } finally {
        // Giving up early must not let the caller behind us overtake the one in front of us.
        if (reachedFront) done();
        else void previous.then(done);
      }
    },
  };
}

/** Options for `createAdaptiveLimit`. */
export interface AdaptiveLimitOptions {
  /** The configured concurrency; the limit starts here and never goes above it. */
  max: number;
  /** Floor for the limit; default 1. */
  min?: number;
  /** Consecutive successes needed to raise the limit by one; default 10. */
  successesToGrow?: number;
}

/** A concurrency limit that halves on rate limiting and creeps back up on success (AIMD). */
export interface AdaptiveLimit {
  /** The current limit. */
  readonly limit: number;
  /** Slots handed out and not yet released. */
  readonly inFlight: number;
  /** A call was rate limited (429): halve the limit, not below `min`. */
  onRateLimited(): void;
  /** A call succeeded: after `successesToGrow` in a row, raise the limit by one, not above `max`. */
  onSuccess(): void;
  /** Waits for a slot under the current limit; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Returns a slot taken by `acquire`. */
  release(): void;
}

/**
 * AIMD concurrency control with semaphore semantics. When the limit shrinks below the number in
 * flight, nothing new starts until enough calls finish to get under the new limit.
 */
export function createAdaptiveLimit(options: AdaptiveLimitOptions): AdaptiveLimit {
  const max = options.max;
  const min = options.min ?? 1;
  const successesToGrow = options.successesToGrow ?? 10;
  if (!Number.isInteger(min) || min < 1) throw new RangeError(`min must be an integer ≥ 1, got ${min}`);
  if (!Number.isInteger(max) || max < min)
    throw new RangeError(`max must be an integer ≥ min (${min}), got ${max}`);
  if (!Number.isInteger(successesToGrow) || successesToGrow < 1) {
    throw new RangeError(`successesToGrow must be an integer ≥ 1, got ${successesToGrow}`);
  }

  let limit = max;
  let inFlight = 0;
  let streak = 0;
  const waiters: { grant: () => void }[] = [];

  const pump = (): void => {
    while (waiters.length > 0 && inFlight < limit) {
      const waiter = waiters.shift();
      inFlight += 1;
      waiter?.grant();
    }
  };

  return {
    get limit() {
      return limit;
    },
    get inFlight() {
      return inFlight;
    },
    onRateLimited() {
      limit = Math.max(min, Math.floor(limit / 2));
      streak = 0;
    },
    onSuccess() {
      streak += 1;
      if (streak >= successesToGrow) {
        streak = 0;
        if (limit < max) {
          limit += 1;
          pump();
        }
      }
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (waiters.length === 0 && inFlight < limit) {
        inFlight += 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          grant: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          const index = waiters.indexOf(waiter);
          if (index !== -1) waiters.splice(index, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    release() {
      if (inFlight === 0) throw new Error("release() called more often than acquire()");
      inFlight -= 1;
      pump();
    },
  };
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds: either delay-seconds (`"120"`) or an
 * HTTP date, measured from `now`. Undefined when the header is missing or unreadable; a date in
 * the past gives 0.
 */
export function parseRetryAfter(headerValue: string | null | undefined, now: Date): number | undefined {
  if (headerValue === null || headerValue === undefined) return undefined;
  const text = headerValue.trim();
  if (text === "") return undefined;
  // RFC 9110 says whole seconds; some servers send fractions, which cost nothing to honour.
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Only a date with letters in it: Date.parse would read "-5" or "1e3" as years.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
