import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeySet, cyrb53 } from "../../src/key-set.js";

const key = (i: number) => createHash("sha256").update(`job ${i}`).digest("hex");

describe("createKeySet", () => {
  it("answers like a Set through many doublings of its table", () => {
    const keys = createKeySet(4);
    const reference = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      // Every third key is one seen before: add must say so, and size must not move.
      const k = i % 3 === 2 ? key(i - 1) : key(i);
      expect(keys.add(k)).toBe(!reference.has(k));
      reference.add(k);
    }
    expect(keys.size).toBe(reference.size);
    for (let i = 0; i < 50_000; i++) expect(keys.has(key(i))).toBe(reference.has(key(i)));
    expect(keys.has(key(50_001))).toBe(false);
  });

  it("keeps short, empty and non-ASCII keys apart", () => {
    const words = ["", "a", "b", "ab", "ba", "é", "e\u0301", "😀", "\u0000"];
    const keys = createKeySet();
    for (const word of words) expect(keys.add(word)).toBe(true);
    for (const word of words) expect(keys.add(word)).toBe(false);
    expect(keys.size).toBe(words.length);
  });
});

describe("cyrb53", () => {
  it("is the 53-bit hash journals were indexed with", () => {
    // Values of the earlier copy in store/journal.ts: the resume index must not change.
    expect(cyrb53("")).toBe(3338908027751811);
    expect(cyrb53("a")).toBe(7929297801672961);
    expect(Number.isSafeInteger(cyrb53(key(1)))).toBe(true);
  });
});
