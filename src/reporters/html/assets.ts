import { readFileSync } from "node:fs";

/** The report page's own script and style sheet, as text to inline into each report. */
export interface PageAssets {
  script: string;
  style: string;
}

let loaded: PageAssets | undefined;

/**
 * Reads the page's script and style sheet, kept as real .js and .css files beside this module so
 * they are edited, linted and formatted as what they are. The build copies them beside tsc's output;
 * the CLI bundle has no files beside its chunks, so scripts/bundle-cli.mjs replaces this module
 * with one holding their text.
 */
export function pageAssets(): PageAssets {
  loaded ??= {
    script: readFileSync(new URL("./page.js", import.meta.url), "utf8"),
    style: readFileSync(new URL("./page.css", import.meta.url), "utf8"),
  };
  return loaded;
}
