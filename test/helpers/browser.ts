import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { ROOT } from "./cli.js";

/** Debian's Chromium: the browser tests drive it (playwright's own downloads need a network). */
export const CHROMIUM = "/usr/bin/chromium";

/** Where the browser tests leave screenshots (gitignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts");

/** A headless Chromium with a fresh profile, and how to close it (the profile goes with it). */
export async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    // Not a skip: a suite that silently leaves out its browser tests would pass with a broken report.
    throw new Error(
      `the HTML report's tests run in Debian's Chromium at ${CHROMIUM}, which is not installed: run \`apt-get install -y chromium\` (with sudo when not root); .ci/run installs it on CI`,
    );
  }
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "promptsmith-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What a page did while it was open: console errors, uncaught errors, requests and dialogs. */
export interface PageWatch {
  page: Page;
  url: string;
  errors: string[];
  requests: string[];
  /** Requests Chromium refused to send because the page's policy forbids them. */
  blocked: string[];
  dialogs: string[];
  /** Every console message, with its type. */
  console: string[];
}

/** Opens a report file from file:// and waits until its script has drawn the page. */
export async function openReport(context: BrowserContext, file: string): Promise<PageWatch> {
  const page = await context.newPage();
  const url = pathToFileURL(file).href;
  const watch: PageWatch = { page, url, errors: [], requests: [], blocked: [], dialogs: [], console: [] };
  page.on("console", (message) => {
    watch.console.push(`${message.type()}: ${message.text()}`);
    if (message.type() === "error") watch.errors.push(message.text());
  });
  page.on("pageerror", (error) => watch.errors.push(`uncaught: ${error.message}`));
  page.on("request", (request) => watch.requests.push(request.url()));
  page.on("requestfailed", (request) => {
    if (request.failure()?.errorText === "csp") watch.blocked.push(request.url());
  });
  page.on("dialog", (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(url);
  await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
  return watch;
}

/** The case ids of the matrix rows drawn now, top to bottom. */
export async function drawnRowIds(page: Page): Promise<string[]> {
  return page.$$eval("#matrix .sizer .mrow", (rows) =>
    rows
      .map((row) => ({
        top: Number.parseFloat((row as unknown as { style: { top: string } }).style.top),
        id: row.querySelector(".id")?.textContent ?? "",
      }))
      .sort((a, b) => a.top - b.top)
      .map((row) => row.id),
  );
}

/** The "n of m cases" line above the matrix. */
export async function caseCount(page: Page): Promise<string> {
  return (await page.textContent("#count")) ?? "";
}

/** Makes the artifacts folder and returns a path in it. */
export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
