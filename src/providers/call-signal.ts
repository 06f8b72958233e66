/** Per-call abort signals tied to a longer-lived one, without leaving listeners behind on it. */

/** Per long-lived signal: the controllers of the calls in flight, aborted together by one listener. */
const inFlightCalls = new WeakMap<AbortSignal, Set<AbortController>>();

/**
 * A signal of the call's own, aborted when `outer` is; `release()` unties it once the call is over.
 *
 * The openai SDK adds an abort listener to the signal of every request and never removes it. On a
 * run-wide signal those pile up: CPU grew with the square of the job count (Node scans the list on
 * every add), and a batch polled for a day would leave thousands. Even one listener per call in
 * flight costs a scan of up to -j listeners per add, so `outer` gets a single listener that fans out.
 */
export function callSignal(outer: AbortSignal): { signal: AbortSignal; release: () => void } {
  let calls = inFlightCalls.get(outer);
  if (calls === undefined) {
    const live = new Set<AbortController>();
    outer.addEventListener("abort", () => {
      for (const controller of live) controller.abort(outer.reason);
    });
    inFlightCalls.set(outer, live);
    calls = live;
  }
  const controller = new AbortController();
  if (outer.aborted) controller.abort(outer.reason);
  const live = calls;
  live.add(controller);
  return { signal: controller.signal, release: () => live.delete(controller) };
}

/** Runs `call` with a signal from {@link callSignal}, released when it settles. */
export async function withCallSignal<T>(
  outer: AbortSignal,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal, release } = callSignal(outer);
  try {
    return await call(signal);
  } finally {
    release();
  }
}
