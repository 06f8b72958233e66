import { describe, expect, it } from "vitest";
import {
  comparedText,
  createContainmentIndex,
  createCopyIndex,
  createShotGuard,
  matchWords,
  NEAR_COPY_CONTAINMENT,
  NEAR_COPY_JACCARD,
  normalizeForMatch,
  passageCopy,
} from "../../../src/fewshot/leaks.js";
import type { ShotRow } from "../../../src/fewshot/types.js";
import { createRng } from "../../../src/rng.js";

// Reference similarities below were computed from scratch with Python 3.11 (re.split on [^\w]+
// after unicodedata.normalize("NFKC", text).lower(); sets of word 3-gram tuples; |A∩B| / |A∪B|
// for examples, |Q∩P| / |Q| for a question in a passage), not with this module:
//   words = lambda t: [w for w in re.split(r"[^\w]+", unicodedata.normalize("NFKC", t).lower()) if w]
//   grams = lambda t: {tuple(words(t)[i:i + 3]) for i in range(len(words(t)) - 2)}
const NATALIA =
  "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?";
const BETTY =
  "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How much more money does Betty need to buy the wallet?";
const BETTY_20 = BETTY.replace("$15", "$20");
const WENG =
  "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?";
const WENG_SHOUTED =
  "WENG earns $12 an hour for  BABYSITTING.   Yesterday, she just did 50 minutes of babysitting.\nHow much did she earn ?";

describe("normalizing", () => {
  it("sets aside case, spacing, punctuation and Unicode compatibility forms", () => {
    expect(normalizeForMatch(WENG_SHOUTED)).toBe(normalizeForMatch(WENG));
    // NFKC: full-width letters and digits, the "ﬁ" ligature and a non-breaking space.
    expect(normalizeForMatch("Ｗｈａｔ is ２+２ —\u00a0a ﬁne QUESTION?!")).toBe(
      "what is 2 2 a fine question",
    );
    expect(matchWords("  ...  ")).toEqual([]);
  });

  it("compares the selection field when the row has it, else every field but the id and the answer", () => {
    const fields = { field: "question", skip: ["id", "answer"] };
    expect(comparedText({ id: "a", question: "Hi there", answer: 1 }, fields)).toBe("hi there");
    // No `question`: the other input fields in key order, so field order in the file does not matter.
    const one = comparedText({ id: "a", text: "Good film", topic: "Cinema", answer: "pos" }, fields);
    const two = comparedText({ topic: "cinema", answer: "neg", text: "good  film!", id: "b" }, fields);
    expect(one).toBe(two);
    expect(one).not.toContain("pos");
    expect(comparedText({ id: "a", answer: "x" }, fields)).toBeUndefined();
    expect(comparedText({ id: "a", question: "?!", answer: "x" }, fields)).toBeUndefined();
  });
});

describe("a copy index over example texts", () => {
  const texts = [NATALIA, WENG_SHOUTED, BETTY_20, "Albert buys 2 large pizzas and 2 small pizzas."].map(
    normalizeForMatch,
  );
  const index = createCopyIndex(texts);

  it("finds exact copies (normalized) and near-copies above the documented threshold", () => {
    expect(index.find(normalizeForMatch(NATALIA))).toEqual([{ position: 0, kind: "exact", similarity: 1 }]);
    expect(index.find(normalizeForMatch(WENG))).toEqual([{ position: 1, kind: "exact", similarity: 1 }]);
    const [near] = index.find(normalizeForMatch(BETTY));
    // 45 shared of 51 distinct word 3-grams (Python, see above).
    expect(near).toEqual({ position: 2, kind: "near", similarity: expect.closeTo(45 / 51, 10) });
    expect(NEAR_COPY_JACCARD).toBe(0.7);
    expect(index.find(normalizeForMatch("How many legs does a spider have?"))).toEqual([]);
    expect(index.find(undefined)).toEqual([]);
  });

  it("short texts (fewer than three words) match only exactly", () => {
    const short = createCopyIndex(["great film", "good film", "film"]);
    expect(short.find("great film")).toEqual([{ position: 0, kind: "exact", similarity: 1 }]);
    expect(short.find("great")).toEqual([]);
  });

  it("the threshold is inclusive, at the tightest pairs prefix filtering can meet", () => {
    // 9 words: 7 word 3-grams; 3 words more add 3 (`h i x`, `i x y`, `x y z`): J = 7/10, exactly the threshold.
    const nine = "a b c d e f g h i";
    const twelve = `${nine} x y z`;
    // The query's 3 extra shingles are its rarest: only its 4th-rarest is shared.
    expect(createCopyIndex([nine]).find(twelve)).toEqual([{ position: 0, kind: "near", similarity: 0.7 }]);
    // The pool row's 3 extra shingles are its rarest (the other rows make the shared ones common).
    const pool = [twelve, nine, `${nine} q`];
    expect(createCopyIndex(pool).find(nine)).toEqual([
      { position: 0, kind: "near", similarity: 0.7 },
      { position: 1, kind: "exact", similarity: 1 },
      { position: 2, kind: "near", similarity: 7 / 8 },
    ]);
    // One shingle more and it falls below: 7/11.
    expect(createCopyIndex([`${twelve} w`]).find(nine)).toEqual([]);
  });

  it("finds exactly what comparing every pair from scratch finds (prefix filtering loses nothing)", () => {
    const rng = createRng(18);
    const vocabulary = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const sentence = () =>
      Array.from({ length: 3 + rng.int(25) }, () => vocabulary[Math.floor(40 * rng.next() ** 2)]);
    // Every third row is an earlier one with one or two edits (a word changed, dropped or added), so
    // similarities spread on both sides of the threshold.
    const rows: string[][] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 3 === 2) {
        const copy = [...rows[rng.int(i)]];
        for (let edits = 1 + rng.int(2); edits > 0; edits--) {
          const at = rng.int(copy.length);
          const op = rng.int(3);
          if (op === 0) copy[at] = vocabulary[rng.int(40)];
          else if (op === 1 && copy.length > 1) copy.splice(at, 1);
          else copy.splice(at, 0, vocabulary[rng.int(40)]);
        }
        rows.push(copy);
      } else rows.push(sentence());
    }
    const pool = rows.slice(0, 250).map((words) => words.join(" "));
    const queries = rows.slice(150).map((words) => words.join(" "));
    const shingles = (text: string) => {
      const w = text.split(" ");
      if (w.length < 3) return new Set([w.join(" ")]);
      return new Set(w.slice(2).map((_, i) => `${w[i]} ${w[i + 1]} ${w[i + 2]}`));
    };
    const jaccard = (a: Set<string>, b: Set<string>) => {
      let shared = 0;
      for (const s of a) if (b.has(s)) shared++;
      return shared / (a.size + b.size - shared);
    };
    const copyIndex = createCopyIndex(pool);
    let nearFound = 0;
    for (const query of queries) {
      const q = shingles(query);
      const expected = pool
        .map((text, position) => ({ position, text, similarity: jaccard(q, shingles(text)) }))
        .filter((c) => c.text === query || c.similarity >= NEAR_COPY_JACCARD)
        .map((c) => ({
          position: c.position,
          kind: c.text === query ? "exact" : "near",
          similarity: c.text === query ? 1 : c.similarity,
        }));
      const found = copyIndex.find(query);
      expect(found.map((f) => ({ ...f, similarity: Math.round(f.similarity * 1e9) }))).toEqual(
        expected.map((f) => ({ ...f, similarity: Math.round(f.similarity * 1e9) })),
      );
      nearFound += found.filter((f) => f.kind === "near").length;
    }
    // The generated data must exercise the near path, or this test proves nothing about it.
    expect(nearFound).toBeGreaterThan(20);
  });
});

describe("a passage holding a copy of the question", () => {
  const letters =
    "Worked example: James writes a 3-page letter to 2 different friends twice a week. How many pages does he write in a year? Each week he writes 3 × 2 × 2 = 12 pages, so 12 × 52 = 624 pages.";
  const question =
    "James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a year?";

  it("exact: the whole question, normalized, inside the passage (with or without the answer)", () => {
    const passage = `Reading plans. ${NATALIA.toUpperCase()} That is all.`;
    expect(passageCopy(NATALIA, undefined, passage)).toEqual({ kind: "exact", similarity: 1 });
  });

  it("near: most of the question's word 3-grams together with the answer", () => {
    // 17 of the question's 19 word 3-grams are in the passage (Python, see above).
    expect(passageCopy(question, 624, letters)).toEqual({
      kind: "near",
      similarity: expect.closeTo(17 / 19, 10),
    });
    expect(NEAR_COPY_CONTAINMENT).toBe(0.8);
    // The same passage without the answer is a worked example of another number: not flagged.
    expect(passageCopy(question, 625, letters)).toBeUndefined();
    expect(passageCopy(question, undefined, letters)).toBeUndefined();
  });

  it("a passage that answers a short question in its own words is not a copy", () => {
    expect(
      passageCopy("What is the capital of France?", "Paris", "Paris is the capital of France."),
    ).toBeUndefined();
    // Too short to say anything (under three words): never flagged.
    expect(passageCopy("Paris?", "Paris", "Paris is the capital of France.")).toBeUndefined();
  });

  it("an index over a corpus finds the passages passageCopy would, and only those", () => {
    const passages = [
      "A reading plan splits a book into daily portions.",
      letters,
      `Copied: ${NATALIA}`,
      "James writes letters. He writes pages to friends twice a week, 624 in a year.",
    ];
    const index = createContainmentIndex(passages);
    expect(index.find(question, 624)).toEqual([
      { position: 1, kind: "near", similarity: expect.closeTo(17 / 19, 10) },
    ]);
    expect(index.find(NATALIA, 72)).toEqual([{ position: 2, kind: "exact", similarity: 1 }]);
    expect(index.find(WENG, 10)).toEqual([]);
  });
});

describe("the shot guard", () => {
  const pool: ShotRow[] = [
    { id: "t1", row: { id: "t1", question: NATALIA, answer: 72 } },
    { id: "x", row: { id: "x", question: "Albert buys 2 large pizzas and 2 small pizzas.", answer: 48 } },
    { id: "train-17", row: { id: "train-17", question: WENG_SHOUTED, answer: 10 } },
    { id: "train-3", row: { id: "train-3", question: BETTY_20, answer: 0 } },
  ];
  const fields = { field: "question", label: "answer", expected: "answer" };
  const query = (id: string, question: string) => ({ id, vars: { id, question, answer: 0 } });

  it("by default excludes exact copies, whatever their id, and flags near-copies", () => {
    const guard = createShotGuard(pool, { ...fields });
    expect(guard.check(query("t1", NATALIA))).toEqual([
      { position: 0, kind: "exact", similarity: 1, action: "excluded" },
    ]);
    expect(guard.check(query("t2", WENG))).toEqual([
      { position: 2, kind: "exact", similarity: 1, action: "excluded" },
    ]);
    expect(guard.check(query("t3", BETTY))).toEqual([
      { position: 3, kind: "near", similarity: expect.closeTo(45 / 51, 10), action: "flagged" },
    ]);
  });

  it("leak: exclude drops near-copies too; warn keeps and flags both; allow finds nothing", () => {
    expect(createShotGuard(pool, { ...fields, leak: "exclude" }).check(query("t3", BETTY))).toMatchObject([
      { position: 3, action: "excluded" },
    ]);
    expect(createShotGuard(pool, { ...fields, leak: "warn" }).check(query("t1", NATALIA))).toMatchObject([
      { position: 0, kind: "exact", action: "flagged" },
    ]);
    expect(createShotGuard(pool, { ...fields, leak: "allow" }).check(query("t1", NATALIA))).toEqual([]);
  });

  it("compares the fields both rows share: a column only one side has does not hide a copy", async () => {
    const labelled = { field: "question", label: "label", expected: "label" };
    const TEXT = "An unforgettable film, with a cast at its best and a story that never drags.";
    const pool: ShotRow[] = [
      { id: "p0", row: { id: "p0", text: "A dull film.", split: "train", label: "neg" } },
      // The case's text, with a column the test set lacks.
      { id: "p1", row: { id: "p1", text: TEXT, split: "train", label: "pos" } },
      // A short copy, where the case has a column the pool lacks.
      { id: "p2", row: { id: "p2", text: "Good film", label: "pos" } },
      // Only a side column in common with the cases: no copy, whatever it holds.
      { id: "p3", row: { id: "p3", review: "Bad.", topic: "cinema", label: "neg" } },
    ];
    const guard = createShotGuard(pool, labelled);
    const check = (id: string, vars: Record<string, unknown>) => guard.check({ id, vars: { id, ...vars } });
    expect(check("t1", { text: TEXT.toUpperCase(), label: "pos" })).toEqual([
      { position: 1, kind: "exact", similarity: 1, action: "excluded" },
    ]);
    expect(check("t2", { text: "Good film!", topic: "cinema", label: "pos" })).toEqual([
      { position: 2, kind: "exact", similarity: 1, action: "excluded" },
    ]);
    expect(check("t3", { text: "Good film", split: "test", label: "neg" })).toEqual([
      { position: 2, kind: "exact", similarity: 1, action: "excluded" },
    ]);
    expect(check("t4", { text: "Great acting", topic: "cinema", label: "pos" })).toEqual([]);
    // Every shared field must match: the same text with another split is still a copy (split is
    // the pool's own), the same text under another title is not.
    const titled = createShotGuard(
      [{ id: "q", row: { id: "q", title: "Dune", text: "Good film", label: "pos" } }],
      labelled,
    );
    expect(titled.check({ id: "t", vars: { title: "Dune", text: "good film" } })).toHaveLength(1);
    expect(titled.check({ id: "t", vars: { title: "Heat", text: "good film" } })).toEqual([]);
  });

  it("when the pool is the test set, the case itself is left out silently (it is no leak) but its duplicates are not", () => {
    const guard = createShotGuard([...pool, { id: "dup", row: { id: "dup", question: NATALIA } }], {
      ...fields,
      excludeSelf: true,
    });
    expect(guard.check(query("t1", NATALIA))).toEqual([
      { position: 4, kind: "exact", similarity: 1, action: "excluded" },
    ]);
  });
});
