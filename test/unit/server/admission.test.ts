import { describe, expect, it } from "vitest";
import { createAdmission } from "../../../src/server/admission.js";

describe("createAdmission", () => {
  it("admits parallel + queue requests, runs parallel of them, and refuses the next", async () => {
    const admission = createAdmission({ parallel: 2, queue: 1 });
    const signal = new AbortController().signal;
    const tickets = [admission.tryEnter(), admission.tryEnter(), admission.tryEnter()];
    expect(tickets.every((ticket) => ticket !== undefined)).toBe(true);
    expect(admission.tryEnter()).toBeUndefined();
    const order: number[] = [];
    const started = tickets.map((ticket, index) => ticket?.start(signal).then(() => order.push(index)));
    await Promise.all(started.slice(0, 2));
    expect([admission.running, admission.waiting]).toEqual([2, 1]);
    tickets[1]?.release();
    await started[2];
    expect(order).toEqual([0, 1, 2]);
    expect([admission.running, admission.waiting]).toEqual([2, 0]);
    // A released place can be taken again; releasing twice gives back nothing more.
    tickets[1]?.release();
    expect(admission.tryEnter()).toBeDefined();
    expect(admission.tryEnter()).toBeUndefined();
  });

  it("serves the line first come, first served", async () => {
    const admission = createAdmission({ parallel: 1, queue: 3 });
    const signal = new AbortController().signal;
    const tickets = [0, 1, 2, 3].map(() => admission.tryEnter());
    const order: number[] = [];
    const done = tickets.map((ticket, index) =>
      ticket?.start(signal).then(() => {
        order.push(index);
        ticket.release();
      }),
    );
    await Promise.all(done);
    expect(order).toEqual([0, 1, 2, 3]);
    expect([admission.running, admission.waiting]).toEqual([0, 0]);
  });

  it("takes a request whose signal aborts out of the line, and its release frees the place", async () => {
    const admission = createAdmission({ parallel: 1, queue: 1 });
    const running = admission.tryEnter();
    await running?.start(new AbortController().signal);
    const gone = new AbortController();
    const queued = admission.tryEnter();
    const waiting = queued?.start(gone.signal);
    expect(admission.tryEnter()).toBeUndefined();
    gone.abort(new Error("client went away"));
    await expect(waiting).rejects.toThrow("client went away");
    queued?.release();
    expect([admission.running, admission.waiting]).toEqual([1, 0]);
    const next = admission.tryEnter();
    expect(next).toBeDefined();
    const nextStarted = next?.start(new AbortController().signal);
    running?.release();
    await nextStarted;
    expect(admission.running).toBe(1);
  });
});
