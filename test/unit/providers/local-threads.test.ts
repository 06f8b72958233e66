import { describe, expect, it } from "vitest";
import { defaultThreads } from "../../../src/providers/local.js";

describe("the local model's default CPU threads", () => {
  it("leaves one core to Node's thread, and never exceeds the math cores", () => {
    // A 2-vCPU CI runner: one thread, not two spinning against the event loop.
    expect(defaultThreads(2, 2)).toBe(1);
    expect(defaultThreads(4, 4)).toBe(3);
    // 8 physical cores with SMT: the math cores are the limit, not the 16 logical ones.
    expect(defaultThreads(8, 16)).toBe(8);
    expect(defaultThreads(1, 1)).toBe(1);
  });
});
