/**
 * The HTML report in a real headless Chromium (Debian's, driven by playwright-core): it opens from
 * file:// with no error and no request, its filters and search work, a cell shows what the model
 * wrote, hostile output runs nothing, 10,000 cases × 4 variants stay usable, and two runs list
 * their flipped cases first.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/record/types.js";
import { pageAssets } from "../../src/reporters/html/assets.js";
import { renderHtmlComparison, renderHtmlReport } from "../../src/reporters/html/render.js";
import { diffRuns } from "../../src/stats/run-diff.js";
import { artifact, caseCount, drawnRowIds, openBrowser, openReport } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { syntheticRecord, type Verdict } from "../helpers/report-records.js";

// The page functions below run in the browser; the project compiles without the DOM's types.
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
  body: { insertAdjacentHTML(where: string, html: string): void; append(node: unknown): void };
  createElement(tag: string): { textContent: string | null };
};
declare const window: { __pwned?: number; dispatchEvent(event: unknown): boolean };
declare function getComputedStyle(node: unknown): { backgroundColor: string };
type Details = { open: boolean };

let browser: Awaited<ReturnType<typeof openBrowser>>;
let context: BrowserContext;
let dir: string;

beforeAll(async () => {
  browser = await openBrowser();
  context = browser.context;
  dir = mkdtempSync(join(tmpdir(), "promptsmith-html-"));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function write(name: string, html: string): string {
  const path = join(dir, name);
  writeFileSync(path, html);
  return path;
}

const VARIANTS = [
  { prompt: "zero-shot", provider: "openai:gpt-4o-mini" },
  { prompt: "few-shot", provider: "openai:gpt-4o-mini" },
  { prompt: "cot", provider: "openai:gpt-4o-mini" },
];

/** 12 cases: 0, 4 and 8 pass everywhere; the rest fail, go unparsed or error in some variants. */
function verdictOf(i: number, v: number): Verdict {
  if (i % 4 === 0) return "pass";
  if (i === 11) return "error";
  if (i % 3 === 0) return v === 0 ? "unparsed" : "pass";
  if (i === 10) return "fail";
  return v === 2 ? "fail" : "pass";
}

function interactiveRecord(): RunRecord {
  const record = syntheticRecord({
    cases: 12,
    variants: VARIANTS,
    description: "Arithmetic, three prompt forms",
    verdict: verdictOf,
    output: (i, v) => (i === 5 && v === 1 ? "the needle-42 is here: 10" : `The answer is ${2 * i}.`),
    extra: (i, v) => ({
      ...(i === 3 ? { expected: "marker-expected" } : {}),
      ...(i === 2 && v === 2 ? { reasoning: "first I add two and two", shots: ["ex-1", "ex-7"] } : {}),
    }),
  });
  record.comparisons = [
    {
      prompt: "few-shot",
      provider: "openai:gpt-4o-mini",
      baseline: { prompt: "zero-shot", provider: "openai:gpt-4o-mini" },
      metric: "accuracy",
      n: 12,
      excluded: 0,
      baselineValue: 0.5,
      value: 0.75,
      delta: 0.25,
      ci95: [0.02, 0.45],
      interval: "newcombe",
      p: 0.03,
      pHolm: 0.06,
      wins: 3,
      losses: 0,
      verdict: "no detectable difference",
    },
  ];
  record.gates = [
    {
      rule: "accuracy",
      prompt: "cot",
      provider: "openai:gpt-4o-mini",
      passed: false,
      message: "cot · openai:gpt-4o-mini: accuracy 41.7% < 80.0%",
      actual: 0.417,
      limit: 0.8,
    },
  ];
  return record;
}

describe("the HTML report in Chromium", () => {
  it("opens from file:// with no console error and no request but the file itself", async () => {
    const file = write("run.html", renderHtmlReport(interactiveRecord()));
    const watch = await openReport(context, file);
    const { page } = watch;
    await page.click("#matrix button.cell[data-row='2'][data-col='2']");
    await page.screenshot({ path: artifact("html-report.png"), fullPage: true });
    expect(watch.errors).toEqual([]);
    expect(watch.requests).toEqual([watch.url]);
    expect(await page.title()).toBe("Arithmetic, three prompt forms · promptsmith");
    // One card per variant, accuracy as the summary computed it (passed / total).
    const cards = await page.$$eval("#summary .card", (nodes) => nodes.map((n) => n.textContent ?? ""));
    expect(cards).toHaveLength(3);
    expect(cards[1]).toContain("few-shot · openai:gpt-4o-mini");
    // few-shot passes cases 0–9 of 12 (verdictOf): 10 / 12.
    expect(cards[1]).toContain("83.3%");
    expect(cards[1]).toContain("+25.0 pts [+2.0 pts, +45.0 pts]");
    expect(await page.textContent("#gates h2")).toBe("Gates: 1 of 1 failed");
    expect(await page.textContent("#comparisons tbody")).toContain("no detectable difference");
    await page.close();
  });

  it("runs its script when the page's files were checked out with CRLF line endings", async () => {
    // git's autocrlf on Windows: the policy's hashes must be of the text the browser's parser
    // hands on, where CRLF is LF.
    const { script, style } = pageAssets();
    const crlf = { script: script.replace(/\n/g, "\r\n"), style: style.replace(/\n/g, "\r\n") };
    expect(crlf.script).toContain("\r\n");
    const file = write("crlf.html", renderHtmlReport(interactiveRecord(), { assets: crlf }));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await page.goto(pathToFileURL(file).href);
    // Short of openReport's minute: a refused script never marks the page ready.
    const ready = await page
      .waitForSelector("body[data-ready]", { timeout: 5_000 })
      .then(() => true)
      .catch(() => false);
    expect(errors).toEqual([]);
    expect(ready).toBe(true);
    expect(await page.$$eval("#summary .card", (nodes) => nodes.length)).toBe(3);
    await page.close();
  });

  it("shows the optional numbers a record may carry: repeats, compliance, mean score, leaks, cost, samples, draws", async () => {
    const record = interactiveRecord();
    record.summary[0] = {
      ...record.summary[0],
      compliance: 0.9167,
      meanScore: 0.6123,
      scoreCi95: [0.41, 0.8],
      repeat: {
        k: 3,
        require: "all",
        passAtK: 0.75,
        passHatK: 0.5,
        passAt1: 0.6,
        flaky: 2,
        flakyIds: ["c3", "c9"],
      },
      leaks: { cases: 2, excluded: 1, flagged: 1 },
      cost: 0.01234,
    };
    record.summary[1] = { ...record.summary[1], samples: { n: 5, singleAccuracy: 0.7, agreement: 0.82 } };
    record.summary[2] = {
      ...record.summary[2],
      draws: { n: 2, accuracies: [0.4, 0.5], mean: 0.45, sd: 0.0707 },
    };
    const { page, errors } = await openReport(context, write("optional.html", renderHtmlReport(record)));
    const cards = await page.$$eval("#summary .card", (nodes) => nodes.map((n) => n.textContent ?? ""));
    expect(cards[0]).toContain("compliance91.7%");
    expect(cards[0]).toContain("mean score0.612 [0.410, 0.800]");
    expect(cards[0]).toContain("pass@3 75.0% · pass^3 50.0% · pass@1 60.0% · 2 flaky");
    expect(cards[0]).toContain("flaky casesc3, c9");
    expect(cards[0]).toContain(
      "leaks2 cases had a copy of itself in an example or passage (1 excluded, 1 flagged)",
    );
    expect(cards[0]).toContain("cost$0.0123 (list price)");
    expect(cards[1]).toContain("maj@5 83.3% · single sample 70.0% · agreement 82%");
    expect(cards[2]).toContain("2 draws: 45.0% ± 7.1 (40.0%, 50.0%)");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("prints every row (not only those on screen) without its controls, and follows a dark colour scheme", async () => {
    const record = syntheticRecord({ cases: 300, variants: VARIANTS, verdict: verdictOf });
    const file = write("print.html", renderHtmlReport(record));
    const { page, errors } = await openReport(context, file);
    expect((await drawnRowIds(page)).length).toBeLessThan(100);
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ media: "print" });
    await page.evaluate(() => window.dispatchEvent(new Event("beforeprint")));
    expect(await drawnRowIds(page)).toHaveLength(300);
    expect(await page.isVisible("#filter")).toBe(false);
    // As a browser does: back on screen, then afterprint.
    await page.emulateMedia({ media: "screen", colorScheme: "dark" });
    await page.evaluate(() => window.dispatchEvent(new Event("afterprint")));
    expect((await drawnRowIds(page)).length).toBeLessThan(100);
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect([light, dark]).toEqual(["rgb(255, 255, 255)", "rgb(20, 23, 27)"]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a run stopped before any case finished opens with no error and says so", async () => {
    const record = {
      ...syntheticRecord({ cases: 0, variants: VARIANTS, verdict: verdictOf }),
      status: "stopped" as const,
    };
    record.stopReason = "the estimated spend reached $5.0000 (--budget 5)";
    const { page, errors } = await openReport(context, write("empty.html", renderHtmlReport(record)));
    expect(await page.textContent(".notice")).toBe(
      "stopped early: the estimated spend reached $5.0000 (--budget 5)",
    );
    expect(await caseCount(page)).toBe("0 of 0 cases");
    expect(await page.textContent("#matrix")).toContain("No case matches.");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the filters and the search change the visible rows", async () => {
    const file = write("filters.html", renderHtmlReport(interactiveRecord()));
    const { page, errors } = await openReport(context, file);
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    const verdicts = (i: number) => VARIANTS.map((_, v) => verdictOf(i, v));
    const failing = ids.filter((_, i) => verdicts(i).some((x) => x !== "pass"));
    const disagree = ids.filter(
      (_, i) => verdicts(i).some((x) => x === "pass") && verdicts(i).some((x) => x !== "pass"),
    );

    expect(await caseCount(page)).toBe("12 of 12 cases");
    expect(await drawnRowIds(page)).toEqual(ids);
    await page.selectOption("#filter", "failing");
    expect(await drawnRowIds(page)).toEqual(failing);
    expect(await caseCount(page)).toBe(`${failing.length} of 12 cases`);
    await page.selectOption("#filter", "disagree");
    expect(await drawnRowIds(page)).toEqual(disagree);
    expect(disagree).not.toEqual(failing);

    await page.selectOption("#filter", "all");
    for (const [query, expected] of [
      ["NEEDLE-42", ["c5"]], // output, any case
      ["is 7 + 7?", ["c7"]], // input
      ["marker-expected", ["c3"]], // expected
      ["nothing matches this", []],
    ] as const) {
      await page.fill("#search", query);
      await expect.poll(() => drawnRowIds(page)).toEqual(expected);
      expect(await caseCount(page)).toBe(`${expected.length} of 12 cases`);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it("clicking a cell shows the messages, the output with its reasoning folded, and how it was scored", async () => {
    const file = write("detail.html", renderHtmlReport(interactiveRecord()));
    const { page, errors } = await openReport(context, file);
    await page.click("#matrix button.cell[data-row='2'][data-col='2']");
    const detail = page.locator("#detail");
    await expect.poll(() => detail.textContent()).toContain("case c2 · cot · openai:gpt-4o-mini");
    const text = (await detail.textContent()) ?? "";
    expect(text).toContain("The answer is 4.");
    expect(text).toMatch(/expected\s*4/);
    expect(text).toMatch(/extracted\s*5/);
    expect(text).toContain("not equal");
    expect(text).toContain("ex-1, ex-7");
    expect(text).toContain("What is 2 + 2?");
    // The reasoning is there, folded: not shown until opened.
    const reasoning = page.locator("#detail details.think");
    expect(await reasoning.evaluate((node) => (node as unknown as Details).open)).toBe(false);
    expect(await page.locator("#detail details.think pre").isVisible()).toBe(false);
    await page.click("#detail details.think summary");
    expect(await page.locator("#detail details.think pre").textContent()).toBe("first I add two and two");
    expect(await page.locator("#detail details.think pre").isVisible()).toBe(true);
    expect(await page.$eval("#matrix button.cell.selected", (n) => n.getAttribute("data-col"))).toBe("2");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("hostile output, inputs and expected answers show as text and run nothing", async () => {
    const payloads = [
      "<img src=x onerror=window.__pwned=1>",
      "</script><script>window.__pwned=2</script>",
      '<a href="javascript:window.__pwned=3">click me</a> [link](javascript:window.__pwned=3)',
      "<svg onload=alert(4)></svg><script>alert(document.domain)</script><iframe src=javascript:alert(5)>",
    ];
    const record = syntheticRecord({
      cases: payloads.length,
      variants: [{ prompt: "<b onmouseover=alert(6)>p</b>", provider: "<script>alert(7)</script>" }],
      description: "<img src=y onerror=alert(8)>",
      verdict: (i) => (i % 2 === 0 ? "fail" : "pass"),
      output: (i) => payloads[i],
      id: (i) => `${payloads[i]}#${i}`,
      extra: (i) => ({
        vars: { question: payloads[i] },
        expected: payloads[(i + 1) % payloads.length],
        reason: payloads[(i + 2) % payloads.length],
        reasoning: payloads[(i + 3) % payloads.length],
        messages: [{ role: "user", content: payloads[i] }],
      }),
    });
    const file = write("hostile.html", renderHtmlReport(record));
    const watch = await openReport(context, file);
    const { page } = watch;
    for (let row = 0; row < payloads.length; row++) {
      await page.click(`#matrix button.cell[data-row='${row}']`);
      await page.$$eval("#detail details", (nodes) => {
        for (const node of nodes) (node as unknown as Details).open = true;
      });
      const text = (await page.textContent("#detail")) ?? "";
      expect(text).toContain(payloads[row]);
      await page.hover("#summary h3");
    }
    // Payload 2 is case 2's output and case 1's expected answer.
    await page.fill("#search", "[link](javascript:");
    await expect.poll(() => caseCount(page)).toBe("2 of 4 cases");
    // Given time to fire, nothing did: no global, no dialog, no element a payload would have made.
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(watch.dialogs).toEqual([]);
    expect(await page.$$eval("img, a, iframe, b, object, embed, svg", (n) => n.length)).toBe(0);
    expect(await page.$$eval("script", (n) => n.length)).toBe(2);
    expect(await page.textContent("h1")).toBe("<img src=y onerror=alert(8)>");
    expect(watch.errors).toEqual([]);
    expect(watch.requests).toEqual([watch.url]);
    await page.close();
  });

  it("the page's policy blocks script and requests that did not come with it", async () => {
    // A server that would see any request the page let out.
    const hits: string[] = [];
    const server = createServer((request, response) => {
      hits.push(request.url ?? "");
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const beacon = `http://127.0.0.1:${(server.address() as AddressInfo).port}/beacon.png`;
    try {
      const file = write("policy.html", renderHtmlReport(interactiveRecord()));
      const watch = await openReport(context, file);
      const { page } = watch;
      // As if a bug had let markup through: the policy is the second wall.
      await page.evaluate((src) => {
        document.body.insertAdjacentHTML(
          "beforeend",
          `<img src="${src}" onerror="window.__pwned=5"><div onclick="window.__pwned=6" id="trap">x</div>`,
        );
        const script = document.createElement("script");
        script.textContent = "window.__pwned = 7";
        document.body.append(script);
      }, beacon);
      await page.click("#trap");
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
      expect(hits).toEqual([]);
      // Chromium names the request, then refuses it: blocked by the policy, not sent.
      expect(watch.requests).toEqual([watch.url, beacon]);
      expect(watch.blocked).toEqual([beacon]);
      expect(watch.errors.join("\n")).toMatch(
        /violates the following Content Security Policy directive: "img-src data:"/,
      );
      expect(watch.errors.join("\n")).toMatch(/Executing inline event handler violates/);
      expect(watch.errors.join("\n")).toMatch(
        /Executing inline script violates the following Content Security Policy directive 'script-src 'sha256-/,
      );
      await page.close();
    } finally {
      server.close();
    }
  });

  it("a sweep draws accuracy against k, with its interval band", async () => {
    const variants = [0, 2, 4].map((k) => ({ prompt: `few@k=${k}`, provider: "m" }));
    const record = syntheticRecord({
      cases: 20,
      variants,
      verdict: (i, v) => (i < 8 + 4 * v ? "pass" : "fail"),
      prompts: [0, 2, 4].map((k) => ({ id: `few@k=${k}`, baseId: "few", sweep: { k }, template: "t" })),
    });
    const { page, errors } = await openReport(context, write("sweep.html", renderHtmlReport(record)));
    expect(await page.textContent("#sweeps h3")).toBe("few · m: accuracy by k");
    const points = await page.$$eval("#sweeps circle title", (nodes) => nodes.map((n) => n.textContent));
    expect(points).toEqual([
      expect.stringContaining("k=0: 40.0%"),
      expect.stringContaining("k=2: 60.0%"),
      expect.stringContaining("k=4: 80.0%"),
    ]);
    expect(await page.$$eval("#sweeps polygon.band", (n) => n.length)).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("10,000 cases × 4 variants open and stay interactive (rows drawn on demand)", async () => {
    const variants = [0, 1, 2, 3].map((v) => ({ prompt: `prompt-${v}`, provider: "m" }));
    const record = syntheticRecord({
      cases: 10_000,
      variants,
      verdict: (i, v) => ((i * 7 + v * 3) % 10 < 7 ? "pass" : (i + v) % 13 === 0 ? "unparsed" : "fail"),
      output: (i, v) => `Let me think about ${i} plus ${i} with prompt ${v}. The answer is ${2 * i}.`,
    });
    const started = Date.now();
    const file = write("large.html", renderHtmlReport(record));
    const rendered = Date.now() - started;
    const opening = Date.now();
    const { page, errors } = await openReport(context, file);
    const ready = Date.now() - opening;
    const searching = Date.now();
    await page.fill("#search", "c9999");
    await page.waitForFunction(() => document.querySelector("#count")?.textContent === "1 of 10000 cases");
    const searched = Date.now() - searching;
    expect(await drawnRowIds(page)).toEqual(["c9999"]);
    await page.fill("#search", "");
    await page.waitForFunction(
      () => document.querySelector("#count")?.textContent === "10000 of 10000 cases",
    );
    const scrolling = Date.now();
    await page.$eval("#matrix", (node) => {
      const scroller = node as unknown as { scrollTop: number; scrollHeight: number };
      scroller.scrollTop = scroller.scrollHeight;
    });
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll("#matrix .mrow .id")).some((n) => n.textContent === "c9999"),
    );
    const scrolled = Date.now() - scrolling;
    const drawn = await drawnRowIds(page);
    expect(drawn).toContain("c9999");
    expect(drawn.length).toBeLessThan(100);
    await page.click(`#matrix button.cell[data-col='3'] >> nth=-1`);
    await expect.poll(() => page.textContent("#detail h3")).toBe("case c9999 · prompt-3 · m");
    const megabytes = statSync(file).size / 1e6;
    console.log(
      `HTML report, 10,000 cases × 4 variants: ${megabytes.toFixed(1)} MB written in ${rendered} ms; ` +
        `ready in Chromium ${ready} ms after opening; a search answered in ${searched} ms; ` +
        `scrolled to the last case in ${scrolled} ms, ${drawn.length} rows drawn`,
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it("two runs side by side list the flipped cases first, the ones that got worse before the rest", async () => {
    const base = (i: number, v: number): Verdict => ((i + v) % 5 === 0 ? "fail" : "pass");
    const flips: Record<string, Verdict> = { "151,0": "fail", "124,1": "pass", "198,1": "fail" };
    const head = (i: number, v: number): Verdict => flips[`${i},${v}`] ?? base(i, v);
    // The test's own reading of the flips, independent of the page's.
    expect(base(151, 0)).toBe("pass");
    expect(base(124, 1)).toBe("fail");
    expect(base(198, 1)).toBe("pass");
    const variants = VARIANTS.slice(0, 2);
    const html = renderHtmlComparison(
      syntheticRecord({ cases: 200, variants, verdict: base }),
      syntheticRecord({ cases: 200, variants, verdict: head }),
      { base: "main.json", head: "branch.json" },
    );
    const { page, errors, requests, url } = await openReport(context, write("diff.html", html));
    const first = (await drawnRowIds(page)).slice(0, 5);
    expect(first).toEqual(["c151", "c198", "c124", "c0", "c1"]);
    await page.selectOption("#filter", "flips");
    expect(await drawnRowIds(page)).toEqual(["c151", "c198", "c124"]);
    const changes = await page.$$eval("#changes tbody tr", (rows) =>
      rows.map((row) =>
        Array.from(row.querySelectorAll("td"), (td) => (td as { textContent: string | null }).textContent),
      ),
    );
    expect(changes.map((row) => [row[0], row[4], row[5]])).toEqual([
      ["zero-shot · openai:gpt-4o-mini", "0", "1"],
      ["few-shot · openai:gpt-4o-mini", "1", "1"],
    ]);
    await page.click("#matrix button.cell[data-row='0'][data-col='0']");
    const text = (await page.textContent("#detail")) ?? "";
    expect(text).toContain("flipped: pass → fail");
    expect(text).toContain("main.json");
    expect(text).toContain("branch.json");
    await page.screenshot({ path: artifact("html-report-diff.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });

  it("two runs with repeats flip as the summary and compare fold them (require), as eval --watch says", async () => {
    // Each case three times; `failing` says which repeats fail, by case.
    const thrice = (failing: Record<string, number[]>, require: "majority" | "all") => {
      const record = syntheticRecord({ cases: 4, variants: [VARIANTS[0]], verdict: () => "pass" });
      record.config.repeat = { k: 3, require };
      record.cases = record.cases.flatMap((c) =>
        [0, 1, 2].map((repeat) => ({ ...c, repeat, pass: !(failing[c.id] ?? []).includes(repeat) })),
      );
      return record;
    };
    // c0: 2 of 3 passed, then 3 of 3; c1: 2 then 1 (worse); c2: 1 then 2 (better); c3: 3 then 3.
    const before = { c0: [2], c1: [2], c2: [0, 1] };
    const after = { c0: [], c1: [1, 2], c2: [0] };
    for (const [require, flipped] of [
      ["majority", ["c1", "c2"]],
      ["all", ["c0"]],
    ] as const) {
      const base = thrice(before, require);
      const head = thrice(after, require);
      expect(diffRuns(base, head).flips.map((f) => f.id)).toEqual(flipped);
      const watch = await openReport(
        context,
        write(`repeats-${require}.html`, renderHtmlComparison(base, head)),
      );
      await watch.page.selectOption("#filter", "flips");
      expect(await drawnRowIds(watch.page)).toEqual(flipped);
      expect(watch.errors).toEqual([]);
      await watch.page.close();
    }
  });

  it("the reports the CLI writes (one run, two runs) open clean", async () => {
    const record = interactiveRecord();
    const results = join(dir, "results.json");
    writeFileSync(results, JSON.stringify(record));
    const changed = {
      ...record,
      cases: record.cases.map((c) => (c.id === "c4" ? { ...c, pass: false } : c)),
    };
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify(changed));
    const one = await runCli(["report", results, "-o", join(dir, "cli.html")]);
    expect(one.stderr).toBe(`written to ${join(dir, "cli.html")}\n`);
    const two = await runCli(["report", results, other, "-o", join(dir, "cli-diff.html")]);
    expect(two.code).toBe(0);
    for (const name of ["cli.html", "cli-diff.html"]) {
      const watch = await openReport(context, join(dir, name));
      expect(watch.errors, name).toEqual([]);
      expect(watch.requests, name).toEqual([watch.url]);
      expect(await caseCount(watch.page)).toBe("12 of 12 cases");
      await watch.page.close();
    }
  });
});
