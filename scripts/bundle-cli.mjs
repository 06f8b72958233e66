// Bundles the command line (tsc's dist/cli/main.js and what it imports) into dist/bin/, the files
// bin/promptsmith.js runs. The library (dist/index.js) stays tsc's output, file for file.
//
// Why: Node 20 has no compile cache, and loading a package file by file costs a resolution, a read
// and a module record per file. openai and zod alone are some 400 files: 113 ms as packages, 37 ms
// as one bundle. Bundled, `render` starts about 95 ms sooner and a one-case `eval` about 120 ms
// (bench/RESULTS.md, start-up). Each `await import()` in the sources stays a chunk of its own, loaded
// when first needed, so --version and --help still load no heavy package
// (test/e2e/cli.test.ts checks that through dist/bin/meta.json).
//
// Left out, loaded from node_modules at run time as before: the native modules (better-sqlite3,
// node-llama-cpp), and what the sources already load through createRequire (undici's internals,
// handlebars' one-file build), which a bundler cannot see and need not.
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

// The HTML report's page script and style sheet are files of their own (src/reporters/html/page.*),
// read by src/reporters/html/assets.ts from beside itself: tsc copies no .js or .css, so they are
// copied beside its output here, and the bundle, which has no files beside its chunks, gets a
// version of that module holding their text.
const PAGE_ASSETS = { script: "page.js", style: "page.css" };
for (const name of Object.values(PAGE_ASSETS)) cpSync(`src/reporters/html/${name}`, `dist/reporters/html/${name}`);
const inlinePageAssets = {
  name: "inline-page-assets",
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]reporters[\\/]html[\\/]assets\.js$/ }, () => {
      const text = Object.fromEntries(
        Object.entries(PAGE_ASSETS).map(([key, name]) => [key, readFileSync(`src/reporters/html/${name}`, "utf8")]),
      );
      return { contents: `export function pageAssets() { return ${JSON.stringify(text)}; }`, loader: "js" };
    });
  },
};

// Chunk names carry content hashes: without this, chunks of earlier builds would pile up and ship.
rmSync("dist/bin", { recursive: true, force: true });
const result = await build({
  entryPoints: { main: "dist/cli/main.js" },
  outdir: "dist/bin",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["better-sqlite3", "node-llama-cpp", "undici", "handlebars"],
  // The CommonJS packages inside (commander, cli-progress) call require for Node's built-ins; an ES
  // module has no require of its own.
  banner: {
    js: "import { createRequire as __promptsmithRequire } from 'node:module'; const require = __promptsmithRequire(import.meta.url);",
  },
  plugins: [inlinePageAssets],
  metafile: true,
  logLevel: "warning",
});

// `await import()` of a CommonJS package gives the bundle only its default export (Node would also
// find the named ones), so `const { x } = await import("pkg")` gets undefined at run time. Caught
// here rather than by a user: name each such package with what the sources take from it.
const DEFAULT_ONLY = new Set(["cli-progress", "ajv"]);
const { inputs, outputs } = result.metafile;
const broken = Object.values(outputs)
  .map((output) => output.entryPoint)
  .filter((entry) => entry?.includes("node_modules/") && inputs[entry]?.format === "cjs")
  .map((entry) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(entry)[1])
  .filter((name) => !DEFAULT_ONLY.has(name));
if (broken.length > 0) {
  process.stderr.write(
    `bundle-cli: await import() of the CommonJS package(s) ${broken.join(", ")}: the bundle keeps only their default export; import them statically, or use .default and add them to DEFAULT_ONLY\n`,
  );
  process.exit(1);
}
writeFileSync("dist/bin/meta.json", JSON.stringify(result.metafile));
