import { describe, expect, it } from "vitest";
import { levenshtein, rougeL, rougeN, sentenceBleu, tokenize13a } from "../../../src/scorers/text-metrics.js";

// The first two lines of rouge/testdata/{target,prediction}.txt in google-research/google-research:
// rouge_scorer_test.py checks rouge-score against these, with "ground truth scores taken from
// manual runs of ROUGE-1.5.5" (testRouge1AgainstRouge155, testRouge2AgainstRouge155,
// testRougeLAgainstRouge155). Note rouge-score's argument order is score(target, prediction).
const TARGETS = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
];
const PREDICTIONS = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
];

describe("rougeN and rougeL (values from rouge-score's tests, ROUGE-1.5.5 runs)", () => {
  it("matches the small worked cases of rouge_scorer_test.py", () => {
    // testRouge1: score("testing one two", "testing") → P 1, R 1/3, F 1/2.
    expect(rougeN("testing", "testing one two", 1)).toEqual({ precision: 1, recall: 1 / 3, f: 0.5 });
    // testRouge2: score("testing one two", "testing one") → P 1, R 1/2, F 2/3.
    const two = rougeN("testing one", "testing one two", 2);
    expect(two.precision).toBeCloseTo(1, 12);
    expect(two.recall).toBeCloseTo(1 / 2, 12);
    expect(two.f).toBeCloseTo(2 / 3, 12);
    // testRougeLNonConsecutive: score("testing one two", "testing two") → P 1, R 2/3, F 4/5.
    const l = rougeL("testing two", "testing one two");
    expect(l.precision).toBeCloseTo(1, 12);
    expect(l.recall).toBeCloseTo(2 / 3, 12);
    expect(l.f).toBeCloseTo(4 / 5, 12);
    // testRougeEmpty: an empty side scores 0 everywhere.
    expect(rougeN("", "testing one two", 1)).toEqual({ precision: 0, recall: 0, f: 0 });
    expect(rougeL("testing one two", "")).toEqual({ precision: 0, recall: 0, f: 0 });
  });

  it.each([
    // [line, rouge1 R/P/F, rouge2 R/P/F, rougeL R/P/F]
    [0, [0.40741, 0.6875, 0.51163], [0.30769, 0.53333, 0.39024], [0.40741, 0.6875, 0.51163]],
    [1, [0.40476, 0.65385, 0.5], [0.29268, 0.48, 0.36364], [0.40476, 0.65385, 0.5]],
  ] as const)("agrees with ROUGE-1.5.5 on testdata line %i", (line, one, two, lcs) => {
    const check = (got: { precision: number; recall: number; f: number }, want: readonly number[]) => {
      expect(got.recall).toBeCloseTo(want[0], 5);
      expect(got.precision).toBeCloseTo(want[1], 5);
      expect(got.f).toBeCloseTo(want[2], 5);
    };
    check(rougeN(PREDICTIONS[line], TARGETS[line], 1), one);
    check(rougeN(PREDICTIONS[line], TARGETS[line], 2), two);
    check(rougeL(PREDICTIONS[line], TARGETS[line]), lcs);
  });
});

// sacrebleu's test/test_sentence_bleu.py (examples from its issues #98 and #141): sentence BLEU
// with effective order, each smoothing method and tokenizer, on a scale of 0–100.
const REF = "producţia de zahăr brut se exprimă în zahăr alb;";
const SYS = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";

describe("sentenceBleu (values from sacrebleu's test_sentence_bleu.py)", () => {
  it.each([
    ["exp", undefined, "13a", false, 8.493],
    ["none", undefined, "13a", false, 0.0],
    ["floor", undefined, "13a", false, 4.51688],
    ["floor", 0.1, "13a", false, 4.51688],
    ["floor", 0.5, "13a", false, 10.1],
    ["add-k", undefined, "13a", false, 14.882],
    ["add-k", 1, "13a", false, 14.882],
    ["add-k", 2, "13a", false, 21.389],
    ["exp", undefined, "none", false, 7.347],
  ] as const)(
    "smoothing %s (%s), tokenize %s → %f",
    (smoothing, smoothValue, tokenize, lowercase, expected) => {
      const { score } = sentenceBleu(SYS, [REF], { smoothing, smoothValue, tokenize, lowercase });
      // sacrebleu's EPSILON is 1e-3 on the 0–100 scale.
      expect(Math.abs(score * 100 - expected)).toBeLessThan(1e-3);
    },
  );

  it("scores 0 when nothing matches, whatever the smoothing (sacrebleu #141)", () => {
    for (const smoothing of ["exp", "none", "floor", "add-k"] as const) {
      expect(sentenceBleu("this is a cat", ["okay thanks"], { smoothing }).score).toBe(0);
    }
  });

  it("is 1 for an exact match and takes the best of several references", () => {
    expect(sentenceBleu("the cat is on the mat", ["the cat is on the mat"]).score).toBeCloseTo(1, 12);
    const one = sentenceBleu("the cat is on the mat", ["there is a cat on the mat"]).score;
    const both = sentenceBleu("the cat is on the mat", [
      "there is a cat on the mat",
      "the cat is on the mat",
    ]);
    expect(both.score).toBeCloseTo(1, 12);
    expect(one).toBeLessThan(1);
  });

  it("tokenizes like mteval-v13a", () => {
    expect(tokenize13a("Hello, world. It costs $1,000.50 (approx.)")).toBe(
      "Hello , world . It costs $ 1,000.50 ( approx . )",
    );
    expect(tokenize13a("a-b 1-2 &amp; x")).toBe("a-b 1 - 2 & x");
  });
});

describe("levenshtein", () => {
  // The textbook examples (Wikipedia, "Levenshtein distance").
  it.each([
    ["kitten", "sitting", 3],
    ["flaw", "lawn", 2],
    ["saturday", "sunday", 3],
    ["", "abc", 3],
    ["same", "same", 0],
    ["😀a", "a", 1], // by code point, not UTF-16 unit
  ])("distance(%j, %j) = %i", (a, b, d) => {
    expect(levenshtein(a, b)).toBe(d);
    expect(levenshtein(b, a)).toBe(d);
  });
});
