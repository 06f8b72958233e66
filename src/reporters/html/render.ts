import { createHash } from "node:crypto";
import type { RunRecord } from "../../record/types.js";
import { type PageAssets, pageAssets } from "./assets.js";

/** Names shown for the two runs of a side-by-side report. */
export interface ComparisonLabels {
  /** The earlier run (default "base"). */
  base?: string;
  /** The later run (default "head"). */
  head?: string;
}

/** Options of the HTML reports. */
export interface HtmlReportOptions {
  /** The page's script and style sheet (default: the files beside this module); a test varies them. */
  assets?: PageAssets;
}

/** What the page script reads from the embedded JSON block. */
interface PageData {
  kind: "run" | "diff";
  runs: { label: string; record: RunRecord }[];
}

/**
 * The HTML report of one run: a single self-contained file (no network, no CDN) that opens from
 * file://. The record goes in once, as JSON in a data block the page script reads; every piece of
 * it reaches the page as text, never as markup.
 */
export function renderHtmlReport(record: RunRecord, options: HtmlReportOptions = {}): string {
  return page({ kind: "run", runs: [{ label: record.runId ?? "run", record }] }, options);
}

/** Two runs side by side (`report base.json head.json -o diff.html`), the flipped cases first. */
export function renderHtmlComparison(
  base: RunRecord,
  head: RunRecord,
  labels: ComparisonLabels = {},
  options: HtmlReportOptions = {},
): string {
  return page(
    {
      kind: "diff",
      runs: [
        { label: labels.base ?? "base", record: base },
        { label: labels.head ?? "head", record: head },
      ],
    },
    options,
  );
}

function page(data: PageData, options: HtmlReportOptions): string {
  const assets = options.assets ?? pageAssets();
  // The browser hashes an inline element's text after its parser turned CRLF and CR into LF: a
  // checkout with CRLF endings (git's autocrlf) must be hashed as the browser will see it.
  const script = asParsed(assets.script);
  const style = asParsed(assets.style);
  // The page's own text must not end its element early; record text is escaped by embedJson.
  if (/<\/script/i.test(script) || /<\/style/i.test(style))
    throw new Error("the report page's script or style holds a closing tag");
  // The policy allows the page's own script and style by hash and nothing else: no request to any
  // address, no other inline script (so text that got into the DOM as markup still runs nothing).
  const policy = [
    "default-src 'none'",
    `script-src '${sha256(script)}'`,
    `style-src '${sha256(style)}'`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="promptsmith">
<title>promptsmith report</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<noscript><p>This report is drawn by its own script: open it in a browser with JavaScript on.</p></noscript>
<main id="app"></main>
<script type="application/json" id="report-data">${embedJson(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}

/**
 * JSON that cannot end its script block early: every `<` is written as \u003c, so no record text
 * (`</script>`, `<!--`) can close the block or change how the HTML parser reads it; U+2028 and
 * U+2029 are escaped too, for any reader that takes the block as JavaScript.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Text as an HTML parser hands it on: every CRLF and lone CR is a LF. */
export function asParsed(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/** A CSP source expression for an inline element's exact text. */
function sha256(text: string): string {
  return `sha256-${createHash("sha256").update(text, "utf8").digest("base64")}`;
}
