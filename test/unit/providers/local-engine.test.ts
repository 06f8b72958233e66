import { describe, expect, it } from "vitest";
import { defaultThreads, describeEngine } from "../../../src/providers/local.js";

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

describe("where a local model runs, in one line", () => {
  it("names the threads on the CPU", () => {
    const cpu = { backend: "cpu", devices: [], gpuLayers: 0, totalLayers: 25 } as const;
    expect(describeEngine({ ...cpu, threads: 1 })).toBe("the CPU, 1 thread");
    expect(describeEngine({ ...cpu, threads: 15 })).toBe("the CPU, 15 threads");
  });

  it("names the back end, the GPUs and the layers offloaded, so a partial offload shows", () => {
    expect(
      describeEngine({
        backend: "vulkan",
        devices: ["NVIDIA H200"],
        gpuLayers: 25,
        totalLayers: 25,
        threads: 15,
      }),
    ).toBe("vulkan (NVIDIA H200), 25 of 25 layers on the GPU");
    expect(describeEngine({ backend: "cuda", devices: [], gpuLayers: 10, totalLayers: 29, threads: 3 })).toBe(
      "cuda, 10 of 29 layers on the GPU",
    );
  });
});
