import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import type { CaseResult, GateResult } from "../../../src/record/types.js";
import { renderJunit, xmlAttribute, xmlText } from "../../../src/reporters/junit.js";
import { caseResult } from "../../helpers/records.js";
import { HOSTILE_OUTPUT, mixedCases, recordOf, withoutControls } from "../../helpers/run-record.js";

type Node = Record<string, unknown>;
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  // Suites and cases are lists even when there is one of them.
  isArray: (name) => ["testsuite", "testcase", "property"].includes(name),
});

function parse(xml: string): { root: Node; suites: Node[] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml) as { testsuites: Node };
  return { root: doc.testsuites, suites: doc.testsuites.testsuite as Node[] };
}

describe("renderJunit", () => {
  it("is well-formed XML whose counts equal the summary's, suite by suite and in total", () => {
    const record = recordOf(mixedCases());
    const { root, suites } = parse(renderJunit(record));
    expect(suites.map((s) => s.name)).toEqual(record.summary.map((r) => `${r.prompt} · ${r.provider}`));
    for (const [i, row] of record.summary.entries()) {
      const suite = suites[i];
      expect(Number(suite.tests)).toBe(row.total);
      // Default: an unparsed answer is a failure (of type "unparsed").
      expect(Number(suite.failures)).toBe(row.failed + row.unparsed);
      expect(Number(suite.errors)).toBe(row.errors);
      expect(Number(suite.skipped)).toBe(0);
      expect((suite.testcase as Node[]).length).toBe(row.total);
    }
    const sum = (f: (r: (typeof record.summary)[number]) => number) =>
      record.summary.reduce((n, r) => n + f(r), 0);
    expect(Number(root.tests)).toBe(sum((r) => r.total));
    expect(Number(root.failures)).toBe(sum((r) => r.failed + r.unparsed));
    expect(Number(root.errors)).toBe(sum((r) => r.errors));
    // The hand count of mixedCases, so the check above cannot pass on an empty summary.
    expect([root.tests, root.failures, root.errors]).toEqual(["9", "3", "1"]);
  });

  it("names each test case by its case id, its class by prompt · provider, with failure, error and time", () => {
    const { suites } = parse(renderJunit(recordOf(mixedCases())));
    const plain = suites[0].testcase as Node[];
    expect(plain.map((c) => c.name)).toEqual(["a", "b", "c", "d", "e|1"]);
    expect(new Set(plain.map((c) => c.classname))).toEqual(new Set(["plain · openai:m"]));
    expect(plain[0].time).toBe("0.005");
    expect(plain[0].failure).toBeUndefined();
    const wrong = plain[2].failure as Node;
    expect(wrong).toMatchObject({ type: "wrong", message: "expected 4, extracted 5" });
    expect(wrong["#text"]).toContain("reason: expected 4, got 5");
    expect(wrong["#text"]).toContain("output:\n5");
    expect((plain[3].failure as Node).type).toBe("unparsed");
    const error = plain[4].error as Node;
    expect(error.type).toBe("server");
    expect(error.message).toBe("server: 503 <Service Unavailable> &  gone");
  });

  it("folds a case run k times into one test case, as the summary folds it, so the counts still agree", () => {
    const runs = (id: string, outputs: string[], extra: Partial<CaseResult> = {}) =>
      outputs.map((output, repeat) =>
        caseResult(id, output, {
          repeat,
          ...(output === "?" ? { unparsed: true, extracted: null } : {}),
          ...(output === "!"
            ? { error: { kind: "server", message: "503" }, output: null, extracted: null }
            : {}),
          ...extra,
        }),
      );
    const cases = [
      ...runs("a", ["4", "4", "5"]), // 2 of 3: passes by majority
      ...runs("b", ["5", "5", "4"]),
      ...runs("c", ["!", "!", "!"]),
      ...runs("d", ["?", "?", "4"]),
    ];
    const record = recordOf(cases);
    const [row] = record.summary;
    expect([row.total, row.passed, row.failed, row.errors, row.unparsed]).toEqual([4, 1, 1, 1, 1]);
    const { root, suites } = parse(renderJunit(record));
    expect([root.tests, root.failures, root.errors]).toEqual(["4", "2", "1"]);
    const [a, b, c, d] = suites[0].testcase as Node[];
    expect(a.failure).toBeUndefined();
    expect((b.failure as Node).message).toBe("1 of 3 runs passed (require: majority)");
    expect((b.failure as Node)["#text"]).toContain(
      "run 0: wrong, extracted 5\nrun 1: wrong, extracted 5\nrun 2: passed, extracted 4",
    );
    expect((c.error as Node).type).toBe("server");
    expect((d.failure as Node).type).toBe("unparsed");
    expect(Number(parse(renderJunit(record, { unparsed: "skipped" })).root.skipped)).toBe(row.unparsed);
  });

  it("writes unparsed answers as skipped when asked", () => {
    const record = recordOf(mixedCases());
    const { root, suites } = parse(renderJunit(record, { unparsed: "skipped" }));
    expect(Number(suites[0].skipped)).toBe(1);
    expect(Number(suites[0].failures)).toBe(record.summary[0].failed);
    expect((suites[0].testcase as Node[])[3].skipped).toBeDefined();
    expect([root.failures, root.skipped]).toEqual(["2", "1"]);
  });

  it("keeps hostile output readable and the file well-formed: escaped, control characters removed", () => {
    const xml = renderJunit(recordOf(mixedCases()));
    const controls = [...xml].filter((c) => (c < " " && !"\t\n\r".includes(c)) || c === "\u007f");
    expect(controls).toEqual([]);
    expect(xml).not.toContain("<script>");
    const { suites } = parse(xml);
    const failure = (suites[1].testcase as Node[])[3].failure as Node;
    const text = failure["#text"] as string;
    // Everything but the removed characters comes back as it was.
    const expected = withoutControls(HOSTILE_OUTPUT).replace("\ud800", "");
    expect(text.endsWith(expected)).toBe(true);
  });

  it("escapes attributes so a newline, tab or quote survives a parser", () => {
    expect(xmlAttribute('a "b"\n\tc & <d>')).toBe("a &quot;b&quot;&#10;&#9;c &amp; &lt;d&gt;");
    expect(xmlText("x\u0001y\uffffz\u{1F600}")).toBe("xyz\u{1F600}");
  });

  it("adds the quality gates as a suite, a failed gate as a failure, and comparisons as properties", () => {
    const gates: GateResult[] = [
      {
        rule: "regression",
        prompt: "cot",
        provider: "openai:m",
        passed: false,
        message: "cot · openai:m: accuracy fell 12.0 pp (p = 0.01)",
        actual: -0.12,
        limit: 0,
      },
      {
        rule: "accuracy",
        prompt: "plain",
        provider: "openai:m",
        passed: true,
        message: "ok",
        actual: 0.8,
        limit: 0.5,
      },
    ];
    const record = recordOf(mixedCases(), {
      gates,
      comparisons: [
        {
          prompt: "cot",
          provider: "openai:m",
          baseline: { prompt: "plain", provider: "openai:m" },
          metric: "accuracy",
          n: 4,
          excluded: 1,
          baselineValue: 0.5,
          value: 0.75,
          delta: 0.25,
          ci95: [-0.2, 0.6],
          interval: "newcombe",
          p: 0.5,
          pHolm: 0.5,
          wins: 1,
          losses: 0,
          verdict: "no detectable difference",
        },
      ],
    });
    const { root, suites } = parse(renderJunit(record));
    const gateSuite = suites.at(-1)!;
    expect(gateSuite).toMatchObject({ name: "promptsmith quality gates", tests: "2", failures: "1" });
    const [failed, passed] = gateSuite.testcase as Node[];
    expect((failed.failure as Node).message).toBe(gates[0].message);
    expect(passed.failure).toBeUndefined();
    expect(Number(root.tests)).toBe(9 + 2);
    const properties = Object.fromEntries(
      ((suites[1].properties as Node).property as Node[]).map((p) => [p.name, p.value]),
    );
    expect(properties).toMatchObject({
      "comparison.delta": "0.25",
      "comparison.verdict": "no detectable difference",
    });
  });
});
