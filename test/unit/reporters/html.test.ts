import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { embedJson, renderHtmlComparison, renderHtmlReport } from "../../../src/reporters/html/render.js";
import { syntheticRecord } from "../../helpers/report-records.js";

const HOSTILE = "</script><script>window.__pwned=2</script><!-- <script> \u2028\u2029 </SCRIPT >";

function hostileRecord() {
  return syntheticRecord({
    cases: 3,
    variants: [{ prompt: "p</script>", provider: "m" }],
    verdict: (i) => (i === 0 ? "pass" : "fail"),
    output: () => HOSTILE,
    description: "</title><script>alert(1)</script>",
  });
}

/** The text of every `<tag …>…</tag>` element, as an HTML parser would end it (at the first close tag). */
function elements(html: string, tag: string): { open: string; text: string }[] {
  const found: { open: string; text: string }[] = [];
  const pattern = new RegExp(`<${tag}(\\b[^>]*)>([\\s\\S]*?)</${tag}`, "gi");
  for (const match of html.matchAll(pattern)) found.push({ open: match[1], text: match[2] });
  return found;
}

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

describe("renderHtmlReport", () => {
  it("embeds the record once, as JSON no record text can end early, and reads back equal", () => {
    const record = hostileRecord();
    const html = renderHtmlReport(record);
    const scripts = elements(html, "script");
    // The data block and the page's script: a record's "</script>" closed neither.
    expect(scripts).toHaveLength(2);
    expect(scripts[0].open).toContain('type="application/json"');
    expect(scripts[0].text).not.toMatch(/</);
    expect(scripts[0].text).not.toMatch(/[\u2028\u2029]/);
    expect(JSON.parse(scripts[0].text)).toEqual({ kind: "run", runs: [{ label: record.runId, record }] });
    // Nothing of the record is in the markup outside the data block.
    const outside = html.replace(scripts[0].text, "");
    expect(outside).not.toContain("__pwned");
    expect(outside).not.toContain("alert(1)");
  });

  it("allows, by hash, exactly the inline script and style it carries, and no request", () => {
    const html = renderHtmlReport(hostileRecord());
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? "";
    const script = elements(html, "script")[1].text;
    const style = elements(html, "style")[0].text;
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain(`script-src ${sha256(script)};`);
    expect(policy).toContain(`style-src ${sha256(style)};`);
    expect(policy).not.toContain("unsafe-inline");
    expect(policy).toContain("img-src data:");
    expect(script.length).toBeGreaterThan(1000);
    expect(style.length).toBeGreaterThan(1000);
  });

  it("two runs go in one data block, labelled", () => {
    const base = hostileRecord();
    const head = hostileRecord();
    const html = renderHtmlComparison(base, head, { base: "main.json", head: "branch.json" });
    const block = elements(html, "script")[0].text;
    const data = JSON.parse(block);
    expect(data.kind).toBe("diff");
    expect(data.runs.map((r: { label: string }) => r.label)).toEqual(["main.json", "branch.json"]);
    expect(data.runs[1].record).toEqual(head);
  });
});

describe("embedJson", () => {
  it("escapes < and the JavaScript line separators, and stays JSON", () => {
    const value = { a: "</script>", b: "\u2028\u2029", c: "<!--" };
    const text = embedJson(value);
    expect(text).toBe('{"a":"\\u003c/script>","b":"\\u2028\\u2029","c":"\\u003c!--"}');
    expect(JSON.parse(text)).toEqual(value);
  });
});
