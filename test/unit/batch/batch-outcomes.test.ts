import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { openOutcomeStore } from "../../../src/batch/batch-outcomes.js";

describe("openOutcomeStore", () => {
  it("keeps outcomes by custom id across commits, the later one winning, and deletes its file on close", () => {
    const store = openOutcomeStore();
    for (let i = 0; i < 2500; i++) {
      store.put({
        customId: `c${i}`,
        response: { outputs: [`answer ${i}`], usage: { prompt: 1, completion: 2 }, latencyMs: 0 },
      });
    }
    store.put({
      customId: "c7",
      error: { kind: "server", message: "not processed before the batch expired" },
    });
    expect(store.size).toBe(2500);
    expect(store.get("c2499")?.response?.outputs).toEqual(["answer 2499"]);
    expect(store.get("c7")).toEqual({
      customId: "c7",
      error: { kind: "server", message: "not processed before the batch expired" },
    });
    expect(store.get("missing")).toBeUndefined();
    expect(existsSync(store.path)).toBe(true);
    store.close();
    expect(existsSync(dirname(store.path))).toBe(false);
  });
});
