#!/usr/bin/env node
// The command line's entry. CommonJS (bin/package.json), as is the front it runs: Node 20 starts an
// ES module entry some 10 ms later. The front, dist/bin/main.cjs (scripts/bundle-cli.mjs), is
// commander, the flag table and the command tree; it imports each command's ES module only when
// that command runs. It is compiled with the V8 code cache the build made beside it, when this
// Node accepts that cache (same V8, same flags), and from its source otherwise: some 3 ms of a
// `--help` that takes about 65 ms, a bare `node -e 0` about 57 (bench/RESULTS.md, start-up).
// Nothing is written at run time, so a read-only install or many runs at once are alike.
"use strict";

const { readFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join } = require("node:path");
const { pathToFileURL } = require("node:url");
const { Script } = require("node:vm");

const FRONT = join(__dirname, "..", "dist", "bin", "main.cjs");

/**
 * Compiles and runs the front as Node runs a CommonJS file, with the code cache unless `useCache`
 * is false (the build makes the cache so). Returns its exports and the compiled script.
 */
function loadFront({ useCache = true } = {}) {
  let cachedData;
  if (useCache) {
    try {
      cachedData = readFileSync(`${FRONT}.cache`);
    } catch {
      // Not built with one: compiled from the source.
    }
  }
  // One line of wrapper, so the front's line numbers stay its own in a stack trace.
  const source = `(function (exports, require, module, __filename, __dirname, __promptsmithImport) {${readFileSync(FRONT, "utf8")}\n})`;
  const script = new Script(source, { filename: FRONT, cachedData });
  const front = { exports: {} };
  // A script vm compiles has no import() of its own: the front's imports of its commands
  // (`__promptsmithImport("./command-eval.js")`) are made here.
  const importCommand = (specifier) => import(pathToFileURL(join(dirname(FRONT), specifier)).href);
  script.runInThisContext()(front.exports, createRequire(FRONT), front, FRONT, dirname(FRONT), importCommand);
  return { exports: front.exports, script };
}

module.exports = { loadFront };

if (require.main === module) {
  loadFront()
    .exports.main(process.argv.slice(2))
    .then((code) => {
      process.exitCode = code;
    });
}
