import MarkdownIt from "markdown-it";
import type Token from "markdown-it/lib/token.mjs";
import { describe, expect, it } from "vitest";
import type { Comparison, GateResult } from "../../../src/record/types.js";
import {
  comparisonsTable,
  escapeMarkdown,
  fencedBlock,
  markdownTable,
  renderMarkdownReport,
} from "../../../src/reporters/markdown.js";
import { HOSTILE_OUTPUT, mixedCases, recordOf, withoutControls } from "../../helpers/run-record.js";

// GitHub's renderer is cmark-gfm; markdown-it with its default preset reads the same tables.
const md = new MarkdownIt({ html: true });

/** Each table of a document as rows of cell texts (header row first). */
function tables(markdown: string): string[][][] {
  const tokens = md.parse(markdown, {});
  const found: string[][][] = [];
  let table: string[][] | undefined;
  let row: string[] | undefined;
  for (const [i, token] of tokens.entries()) {
    if (token.type === "table_open") table = [];
    else if (token.type === "table_close") {
      found.push(table!);
      table = undefined;
    } else if (token.type === "tr_open") row = [];
    else if (token.type === "tr_close") table!.push(row!);
    else if (token.type === "th_open" || token.type === "td_open") row!.push(plainText(tokens[i + 1]));
  }
  return found;
}

function plainText(inline: Token): string {
  return (inline.children ?? [])
    .map((child) => (child.type === "text" || child.type === "code_inline" ? child.content : ""))
    .join("");
}

/** The HTML tags the document would put on the page. */
function htmlTags(markdown: string): string[] {
  const tags: string[] = [];
  const walk = (tokens: Token[]) => {
    for (const token of tokens) {
      if (token.type === "html_inline" || token.type === "html_block")
        tags.push(...(token.content.match(/<\/?[a-z]+/gi) ?? []));
      if (token.children) walk(token.children);
    }
  };
  walk(md.parse(markdown, {}));
  return tags;
}

const comparison: Comparison = {
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
};
const gates: GateResult[] = [
  {
    rule: "accuracy",
    prompt: "plain",
    provider: "openai:m",
    passed: false,
    message: "plain · openai:m: accuracy 40.0% < 80.0%",
    actual: 0.4,
    limit: 0.8,
  },
  {
    rule: "accuracy",
    prompt: "cot",
    provider: "openai:m",
    passed: true,
    message: "ok",
    actual: 0.75,
    limit: 0.5,
  },
];

describe("renderMarkdownReport", () => {
  it("writes a summary table GitHub reads with one row per variant, every row as wide as the header", () => {
    const record = recordOf(mixedCases());
    const [summary] = tables(renderMarkdownReport(record));
    expect(summary[0].slice(0, 4)).toEqual(["prompt", "provider", "accuracy", "95% CI"]);
    expect(summary).toHaveLength(1 + record.summary.length);
    for (const row of summary) expect(row).toHaveLength(summary[0].length);
    expect(summary[1].slice(0, 3)).toEqual(["plain", "openai:m", "40.0%"]);
    // The interval is the summary's, as percentages.
    const [low, high] = record.summary[0].ci95;
    expect(summary[1][3]).toBe(`${(low * 100).toFixed(1)}% – ${(high * 100).toFixed(1)}%`);
  });

  it("lets no output or id break a table, open HTML, or start a heading or list", () => {
    const cases = mixedCases().map((c) => (c.prompt === "cot" ? { ...c, prompt: "cot | <b>x</b> *y*" } : c));
    const report = renderMarkdownReport(recordOf(cases));
    const [summary] = tables(report);
    expect(summary[2][0]).toBe("cot | <b>x</b> *y*");
    for (const row of summary) expect(row).toHaveLength(summary[0].length);
    // Only the report's own folding tags are HTML; the hostile output's tags are text.
    expect(new Set(htmlTags(report))).toEqual(new Set(["<details", "<summary", "</summary", "</details"]));
    const headings = md.parse(report, {}).filter((t) => t.type === "heading_open");
    expect(headings.map((t) => t.tag)).toEqual(["h2", "h3"]);
    expect(report).toContain(withoutControls(HOSTILE_OUTPUT));
  });

  it("shows the first failures, folded, with expected and extracted", () => {
    const report = renderMarkdownReport(recordOf(mixedCases()), { maxFailures: 2 });
    expect(report).toContain("### Failures (2 of 4)");
    expect(report).toContain("<details><summary>❌ wrong: plain · openai:m · case c</summary>");
    expect(report).toContain("expected **4** · extracted **5**");
  });

  it("adds comparisons and gates only when the record has them", () => {
    const plain = renderMarkdownReport(recordOf(mixedCases()));
    expect(plain).not.toContain("Comparisons");
    expect(plain).not.toContain("Quality gates");
    const report = renderMarkdownReport(recordOf(mixedCases(), { comparisons: [comparison], gates }));
    const [, compared] = tables(report);
    expect(compared[0]).toEqual([
      "variant",
      "baseline",
      "metric",
      "pairs",
      "Δ",
      "95% CI",
      "p",
      "p (Holm)",
      "wins / losses",
      "verdict",
    ]);
    expect(compared[1]).toEqual([
      "cot · openai:m",
      "plain · openai:m",
      "accuracy",
      "4 (1 excluded)",
      "+25.0 pp",
      "−20.0 pp … +60.0 pp",
      "0.500",
      "0.500",
      "1 / 0",
      "⚪ no detectable difference",
    ]);
    expect(report).toContain("❌ 1 of 2 gates failed");
    expect(report).toContain("- ❌ **accuracy**: plain · openai:m: accuracy 40.0% &lt; 80.0%");
  });
});

describe("the Markdown helpers", () => {
  it("escapes text so it reads back as itself", () => {
    for (const text of [
      "a|b",
      "*x* _y_ `z`",
      "[l](u)",
      "# h",
      "- i",
      "1. n",
      "<i>&amp;</i>",
      "a\\b",
      "$x$ ~s~",
    ]) {
      const [, [cell]] = tables(markdownTable(["h"], [[escapeMarkdown(text)]]))[0];
      expect(cell).toBe(text);
    }
  });

  it("lets no text mention a GitHub user or team, and leaves addresses and sweep ids as they are", () => {
    const text = "ping @octocat and (@my-org/team)";
    const escaped = escapeMarkdown(text);
    const [, [cell]] = tables(markdownTable(["h"], [[escaped]]))[0];
    expect(cell).not.toMatch(/(^|[^\w])@[\w-]/);
    expect(cell.replaceAll("\u200d", "")).toBe(text);
    for (const plain of ["me@example.com", "cot@k=4"]) expect(escapeMarkdown(plain)).toBe(plain);
  });

  it("writes differences as the terminal does, in points: a zero (or one that rounds to it) has no sign", () => {
    const zero = (delta: number) =>
      tables(comparisonsTable([{ ...comparison, delta, ci95: [delta - 0.1, delta + 0.1] }]))[0][1][4];
    expect(zero(0)).toBe("0.0 pp");
    expect(zero(0.00004)).toBe("0.0 pp");
    expect(zero(-0.00004)).toBe("0.0 pp");
  });

  it("fences text containing backtick runs with a longer fence", () => {
    const block = fencedBlock("a ``` b ```` c");
    const tokens = md.parse(block, {});
    expect(tokens).toHaveLength(1);
    expect(tokens[0].content).toBe("a ``` b ```` c\n");
  });

  it("renders a comparisons table on its own, for compare --format markdown", () => {
    const [table] = tables(
      comparisonsTable([
        comparison,
        {
          ...comparison,
          prompt: "few",
          delta: -0.1,
          ci95: [-0.3, 0.1],
          verdict: "worse",
          p: 0.0004,
          pHolm: 0.0008,
          best: true,
        },
      ]),
    );
    expect(table[2]).toEqual([
      "few · openai:m ★",
      "plain · openai:m",
      "accuracy",
      "4 (1 excluded)",
      "−10.0 pp",
      "−30.0 pp … +10.0 pp",
      // The same p-values as the terminal report prints them (stats/gates.ts formatP).
      "0.0004",
      "0.0008",
      "1 / 0",
      "🔴 worse",
    ]);
  });
});
