/**
 * The server's bounded queue: at most `parallel` requests generate at once and at most `queue` more
 * wait; a request beyond that is refused at the door (429) rather than piled up in memory.
 */

/** How many requests generate at once and how many may wait. */
export interface AdmissionLimits {
  /** Requests generating at once (one context sequence each). */
  parallel: number;
  /** Requests admitted to wait for a sequence beyond those generating; 0 refuses any wait. */
  queue: number;
}

/** A place taken at the door; it must be released exactly once, whatever happens to the request. */
export interface Ticket {
  /** Waits, first come first served, until the request may generate; rejects when `signal` aborts first. */
  start(signal: AbortSignal): Promise<void>;
  /** Gives back the place (and the sequence, once started). Calling it again does nothing. */
  release(): void;
}

/** The door and the waiting line of one server. */
export interface Admission {
  /** A place, or undefined when `parallel + queue` requests are already in. */
  tryEnter(): Ticket | undefined;
  /** Requests generating now. */
  readonly running: number;
  /** Requests admitted that do not generate yet (waiting for a sequence, or still sending their body). */
  readonly waiting: number;
}

/** An admission of `limits.parallel + limits.queue` places, of which `limits.parallel` generate. */
export function createAdmission(limits: AdmissionLimits): Admission {
  let held = 0;
  let running = 0;
  // Tickets waiting for a sequence, oldest first.
  const line: Array<() => void> = [];

  const next = () => {
    while (running < limits.parallel && line.length > 0) {
      running++;
      line.shift()?.();
    }
  };

  return {
    get running() {
      return running;
    },
    get waiting() {
      return held - running;
    },
    tryEnter() {
      if (held >= limits.parallel + limits.queue) return undefined;
      held++;
      let state: "entered" | "waiting" | "running" | "released" = "entered";
      // Set while in line: takes the ticket out of the line and settles its start() with `reason`.
      let dropOut: ((reason: unknown) => void) | undefined;
      return {
        start(signal) {
          if (state !== "entered") return Promise.reject(new Error(`the ticket is already ${state}`));
          if (signal.aborted) return Promise.reject(signal.reason);
          state = "waiting";
          return new Promise<void>((resolve, reject) => {
            const go = () => {
              signal.removeEventListener("abort", onAbort);
              dropOut = undefined;
              state = "running";
              resolve();
            };
            const onAbort = () => dropOut?.(signal.reason);
            dropOut = (reason) => {
              signal.removeEventListener("abort", onAbort);
              dropOut = undefined;
              const index = line.indexOf(go);
              if (index >= 0) line.splice(index, 1);
              reject(reason);
            };
            signal.addEventListener("abort", onAbort, { once: true });
            line.push(go);
            next();
          });
        },
        release() {
          if (state === "released") return;
          dropOut?.(new Error("the ticket was released before its turn"));
          if (state === "running") running--;
          state = "released";
          held--;
          next();
        },
      };
    },
  };
}
