// Where did the CPU go? Summarises a V8 .cpuprofile (from `node --cpu-prof`) by self time.
//
//   node bench/cpuprofile-top.js <file.cpuprofile> [--top 30]
//
// Prints the top functions by self time, then self time per file and per package, so a slow eval
// can be traced to the module that owns the cost. A profile of the bundled CLI (dist/bin) is mapped
// back to the files it was built from: esbuild writes a `// <path>` line before each module.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node bench/cpuprofile-top.js <file.cpuprofile> [--top n]\n");
  process.exit(2);
}
const topArg = process.argv.indexOf("--top");
const top = topArg === -1 ? 30 : Number(process.argv[topArg + 1]);

// Piped into head: stop quietly when the reader goes away.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const profile = JSON.parse(readFileSync(file, "utf8"));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
// Self time per node: each sample names the node running then, and timeDeltas say for how long.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** Per bundled chunk: the line where each of its modules starts, and that module's path. */
const moduleStarts = new Map();
const byFunction = new Map();
const byFile = new Map();
const byPackage = new Map();
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
for (const [id, us] of selfUs) {
  const { functionName, lineNumber } = nodes.get(id).callFrame;
  const url = unbundled(nodes.get(id).callFrame.url, lineNumber);
  const where = shortUrl(url);
  add(byFunction, `${functionName || "(anonymous)"}  ${where}${url ? `:${lineNumber + 1}` : ""}`, us);
  add(byFile, where || `(${functionName})`, us);
  add(byPackage, packageOf(url, functionName), us);
}

const print = (title, map, limit) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    process.stdout.write(
      `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`,
    );
  }
};
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
print("self time by package", byPackage, 15);
print("self time by file", byFile, 20);
print("self time by function", byFunction, top);

/** The file a line of a bundled chunk came from, as a file URL; any other URL as it is. */
function unbundled(url, lineNumber) {
  const at = url.indexOf("/dist/bin/");
  // The front (dist/bin/main.cjs) is compiled by bin/promptsmith.js through vm: its frames carry
  // the file's path rather than a file: URL.
  if (at === -1 || !(url.startsWith("file:") || url.startsWith("/"))) return url;
  let starts = moduleStarts.get(url);
  if (!starts) {
    starts = [];
    readFileSync(url.startsWith("file:") ? fileURLToPath(url) : url, "utf8")
      .split("\n")
      .forEach((line, index) => {
        const source = /^\/\/ ((?:node_modules|dist)\/\S+)$/.exec(line);
        if (source) starts.push([index, source[1]]);
      });
    moduleStarts.set(url, starts);
  }
  const start = starts.findLast(([line]) => line <= lineNumber);
  const base = url.startsWith("file:") ? url : `file://${url}`;
  return start ? `${base.slice(0, base.indexOf("/dist/bin/") + 1)}${start[1]}` : url;
}

function shortUrl(url) {
  if (!url) return "";
  const at = url.lastIndexOf("node_modules/");
  if (at !== -1) return url.slice(at + "node_modules/".length);
  const dist = url.indexOf("/dist/");
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, "");
}

function packageOf(url, functionName) {
  if (!url) return functionName.startsWith("(") ? functionName : "(native/builtin)";
  if (url.startsWith("node:")) return "node: internals";
  const at = url.lastIndexOf("node_modules/");
  if (at !== -1) {
    const rest = url.slice(at + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.includes("/dist/"))
    return `promptsmith ${url
      .slice(url.indexOf("/dist/") + 1)
      .split("/")
      .slice(0, 2)
      .join("/")}`;
  return url;
}
