import { describe, expect, test } from "vitest";
import { didYouMean, editDistance } from "../../../src/config/did-you-mean.js";

describe("editDistance", () => {
  test("counts inserts, deletes, substitutions and swaps of neighbours", () => {
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("provider", "providers")).toBe(1);
    expect(editDistance("tempreature", "temperature")).toBe(1);
    expect(editDistance("same", "same")).toBe(0);
  });
});

describe("didYouMean", () => {
  const keys = ["description", "providers", "prompts", "tests", "scorer"];

  test("suggests the closest candidate when it is a likely typo", () => {
    expect(didYouMean("provider", keys)).toBe("providers");
    expect(didYouMean("scorers", keys)).toBe("scorer");
    expect(didYouMean("PROMPTS", keys)).toBe("prompts");
    expect(didYouMean("numerc", ["exact", "numeric", "regex"])).toBe("numeric");
  });

  test("suggests nothing for unrelated words, and short words tolerate fewer edits", () => {
    expect(didYouMean("zzz", keys)).toBeUndefined();
    expect(didYouMean("model", keys)).toBeUndefined();
    expect(didYouMean("ab", ["xy"])).toBeUndefined();
  });
});
