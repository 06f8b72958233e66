import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareIds, compareKeys, externalSort, type Keyed } from "../../../src/runner/external-sort.js";

async function* items(keys: string[][]): AsyncGenerator<Keyed> {
  for (const key of keys) yield { key, line: JSON.stringify({ key, text: "x\ty" }) };
}

async function collect(source: AsyncIterable<Keyed>): Promise<Keyed[]> {
  const out: Keyed[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** 1,000 keys in a scrambled order (a multiplicative permutation of 0…999). */
const scrambled = Array.from({ length: 1000 }, (_, i) => {
  const n = (i * 617) % 1000;
  return [String(n % 37), n % 2 === 0 ? "cot" : "plain", `m${n % 3}`, String(n)];
});

describe("externalSort", () => {
  it("gives the order of an in-memory sort whether it fits in one run or spills into many", async () => {
    const expected = [...scrambled].sort(compareKeys);
    const tmpDir = mkdtempSync(join(tmpdir(), "promptsmith-sort-test-"));
    const inMemory = await collect(externalSort(items(scrambled), { compare: compareKeys, tmpDir }));
    expect(readdirSync(tmpDir)).toEqual([]);
    // About 80 characters an item: runs of 2,000 characters make some 40 run files.
    const spilled = await collect(
      externalSort(items(scrambled), { compare: compareKeys, runChars: 2000, tmpDir }),
    );
    for (const sorted of [inMemory, spilled]) {
      expect(sorted.map((item) => item.key)).toEqual(expected);
      // The line travels with its key unchanged (a tab inside JSON text survives the runs).
      expect(sorted.every((item) => JSON.parse(item.line).key.join() === item.key.join())).toBe(true);
    }
    // The runs' folder is gone once the sort is over.
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("removes its runs when the reader stops early", async () => {
    const tmpDir = mkdtempSync(join(tmpdir(), "promptsmith-sort-test-"));
    let seen = 0;
    for await (const _ of externalSort(items(scrambled), { compare: compareKeys, runChars: 2000, tmpDir })) {
      if (++seen === 5) break;
    }
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe("compareIds", () => {
  it("puts numbers in numeric order before other text, and is a total order", () => {
    const ids = ["b", "10", "a", "2", "1", "a10", "a2", "01"];
    expect([...ids].sort(compareIds)).toEqual(["1", "2", "01", "10", "a", "a10", "a2", "b"]);
    for (const x of ids)
      for (const y of ids) expect(Math.sign(compareIds(x, y))).toBe(-Math.sign(compareIds(y, x)) || 0);
  });
});
