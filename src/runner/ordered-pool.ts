/** Options of runOrdered. */
export interface OrderedPoolOptions<R> {
  /** Current concurrency limit; read before each start so an adaptive limit can change it mid-run. */
  concurrency: () => number;
  /**
   * How far ahead of the oldest unfinished job new jobs may start. Results are emitted in job order,
   * so this bounds the reorder buffer: one slow call can hold back at most `window` results.
   */
  window: number;
  signal?: AbortSignal;
  /** Checked before each new start: true stops starting work but lets what is in flight finish. */
  shouldStop?: () => boolean;
  /** Called in job order for every job whose worker returned a value. */
  onResult: (result: R, index: number) => void;
  /** Called once, as soon as a worker, the source or onResult throws, so the caller can abort in-flight work. */
  onFailure?: (error: unknown) => void;
}

/**
 * Runs `worker` over a (possibly endless) async source with bounded concurrency, pulling items only
 * as slots free up so the source is never read far ahead, and emits results in source order so a
 * run's output is the same whatever the timing. A worker returning undefined emits nothing.
 * Stops starting work when the signal aborts; waits for what is in flight either way.
 */
export async function runOrdered<T, R>(
  source: AsyncIterable<T>,
  worker: (item: T, index: number) => Promise<R | undefined>,
  options: OrderedPoolOptions<R>,
): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  const finished = new Map<number, R | undefined>();
  let nextIndex = 0;
  let emitIndex = 0;
  let running = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const fail = (error: unknown) => {
    if (failure) return;
    failure = { error };
    options.onFailure?.(error);
  };

  const settle = (index: number, result: R | undefined) => {
    finished.set(index, result);
    while (finished.has(emitIndex)) {
      const value = finished.get(emitIndex);
      finished.delete(emitIndex);
      if (value !== undefined) {
        try {
          options.onResult(value, emitIndex);
        } catch (error) {
          fail(error);
        }
      }
      emitIndex++;
    }
  };

  try {
    for (;;) {
      while (
        !failure &&
        !exhausted &&
        !options.signal?.aborted &&
        !options.shouldStop?.() &&
        running < Math.max(1, options.concurrency()) &&
        nextIndex - emitIndex < options.window
      ) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const index = nextIndex++;
        running++;
        worker(next.value, index)
          .then(
            (result) => settle(index, result),
            (error) => {
              fail(error);
              settle(index, undefined);
            },
          )
          .finally(() => {
            running--;
            wake?.();
          });
      }
      if (running === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } catch (error) {
    // The source itself failed (a broken dataset line): let in-flight work drain, then report it.
    fail(error);
    while (running > 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
  if (failure) throw failure.error;
}
