// Bundles the command line (tsc's dist/cli/main.js and what it imports) into dist/bin/, the files
// bin/promptsmith.js runs. The library (dist/index.js) stays tsc's output, file for file.
//
// Why: Node 20 has no compile cache, and loading a package file by file costs a resolution, a read
// and a module record per file. openai and zod alone are some 400 files: 113 ms as packages, 37 ms
// as one bundle. Bundled, `render` starts about 95 ms sooner and a one-case `eval` about 120 ms
// (bench/RESULTS.md, start-up).
//
// Two builds:
// - the front, dist/bin/main.cjs: commander, the flag table and the command tree, one CommonJS
//   file. It is all `--version` and `--help` load. CommonJS because Node 20 starts an ES module
//   entry about 10 ms slower (the ES module loader, an async read and a module record per file):
//   the front went from 1.5× a bare `node -e 0` to about 1.15× (bench/RESULTS.md, start-up).
// - the commands, dist/bin/command-<name>.js: ES modules that share chunks, each `await import()`
//   of the sources a chunk of its own, loaded when first needed. The front imports a command's
//   file when that command runs; so --version and --help load no heavy package
//   (test/e2e/cli.test.ts checks that through dist/bin/meta.json, the two builds' metafiles).
// The front has a copy of the few modules it shares with the commands (errors.ts, io.ts): a
// UserError thrown by a command is still one to the front (errors.ts, isUserError).
//
// Left out, loaded from node_modules at run time as before: the native modules (better-sqlite3,
// node-llama-cpp), and what the sources already load through createRequire (undici's internals,
// handlebars' one-file build), which a bundler cannot see and need not.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
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
/** The commands main.ts imports when they run: each the entry point of its own file. */
const commands = readdirSync("dist/cli/commands").filter((name) => name.endsWith(".js"));
const result = await build({
  entryPoints: Object.fromEntries(
    // dist/bin/command-<name>.js: as deep as the chunks and as dist/<room>/, so that a module's
    // `new URL("../../…", import.meta.url)` finds the same file bundled or not.
    commands.map((name) => [`command-${name.slice(0, -".js".length)}`, `dist/cli/commands/${name}`]),
  ),
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

/** The front's imports of ./commands/<name>.js stay imports, of dist/bin/command-<name>.js (below). */
const commandsOutside = {
  name: "commands-outside",
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\// }, (args) => ({ path: args.path, external: true }));
  },
};
/**
 * Commander requires child_process at load, for executable subcommands, which promptsmith has none
 * of; loading it costs about 2 ms of every start. The front gets it when spawn is first called.
 */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes("node_modules/commander/") ? { path: "child_process", namespace: "lazy" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "lazy" }, () => ({
      contents: 'exports.spawn = (...args) => require("node:child_process").spawn(...args);',
      loader: "js",
    }));
  },
};
const front = await build({
  entryPoints: { main: "dist/cli/main.js" },
  outdir: "dist/bin",
  outExtension: { ".js": ".cjs" },
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // import.meta.url (main.ts reads package.json beside it) as it would be for this file: dist/bin
  // is as deep as dist/cli.
  define: { "import.meta.url": "__promptsmithUrl" },
  banner: { js: "const __promptsmithUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [commandsOutside, lazyChildProcess],
  metafile: true,
  logLevel: "warning",
});
// The front runs as a script compiled by vm (bin/promptsmith.js), which has no import() of its own:
// its imports of the commands go through the function bin/promptsmith.js hands it.
const frontFile = "dist/bin/main.cjs";
const frontText = readFileSync(frontFile, "utf8");
const commandImports = frontText.match(/\bimport\("\.\/commands\//g) ?? [];
const frontRewritten = frontText.replaceAll('import("./commands/', '__promptsmithImport("./command-');
if (commandImports.length === 0 || /\bimport\(/.test(frontRewritten)) {
  process.stderr.write(
    "bundle-cli: the front's import() calls are not all of ./commands/<name>.js: bin/promptsmith.js cannot load it\n",
  );
  process.exit(1);
}
writeFileSync(frontFile, frontRewritten);

const frontInputs = Object.keys(front.metafile.inputs).filter((path) => path.includes("node_modules/"));
const frontPackages = new Set(frontInputs.map((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)[1]));
if ([...frontPackages].some((name) => name !== "commander")) {
  process.stderr.write(
    `bundle-cli: the front (dist/bin/main.cjs) must load commander alone, for --version and --help to stay fast; it has ${[...frontPackages].join(", ")}: import them in a command instead\n`,
  );
  process.exit(1);
}

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
// V8's code cache of the front, made after running what --help and --version run, so that the
// functions they call are in it too. The Node that builds is the one a clean clone runs; another
// Node (or other V8 flags) rejects it, and the front is compiled from its source as without it.
{
  const { loadFront } = createRequire(import.meta.url)("../bin/promptsmith.js");
  const { exports: frontModule, script } = loadFront({ useCache: false });
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const io = { stdout: sink, stderr: sink, env: {}, cwd: process.cwd() };
  for (const argv of [["--help"], ["--version"], ["eval", "--help"]]) await frontModule.main(argv, io);
  writeFileSync(`${frontFile}.cache`, script.createCachedData());
  if (loadFront().script.cachedDataRejected) {
    process.stderr.write("bundle-cli: V8 rejected the front's code cache it just made\n");
    process.exit(1);
  }
}

// One metafile for both builds: which sources each output file holds.
writeFileSync(
  "dist/bin/meta.json",
  JSON.stringify({
    inputs: { ...result.metafile.inputs, ...front.metafile.inputs },
    outputs: { ...result.metafile.outputs, ...front.metafile.outputs },
  }),
);
