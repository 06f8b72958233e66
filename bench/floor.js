// The floor: the least work that sends the same requests as `promptsmith eval`: a plain fetch loop
// with a simple promise pool, no SDK, no scoring, no record. What eval costs beyond this is overhead.
//
//   node bench/floor.js --url <baseURL> --model <name> --data <cases.jsonl> -j <n> --template <t> [--template <t> …] [--via fetch|undici|sdk]
//
// --via fetch (the default) is the floor. The other two are diagnostics that split eval's cost:
//   undici  the same bare loop over undici's dispatcher, the transport eval uses (src/providers/http-fetch.ts);
//   sdk     the `openai` package (one client, maxRetries 0) over that same transport, i.e. eval minus promptsmith.
//
// Jobs are cases × templates in the order eval makes them (each case, then each prompt). A template
// is rendered by replacing {{field}} with the row's field, which is what Handlebars does (noEscape)
// for the flat templates the benchmark uses; the stub's body digest checks that the bodies match.
// Prints `{"jobs":n,"errors":n}` on stdout.
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const templates = [];
let url;
let model;
let data;
let concurrency = 8;
let via = "fetch";
for (let i = 0; i < args.length; i += 2) {
  const [name, value] = [args[i], args[i + 1]];
  if (name === "--via") via = value;
  else if (name === "--url") url = value.replace(/\/+$/, "");
  else if (name === "--model") model = value;
  else if (name === "--data") data = value;
  else if (name === "-j") concurrency = Number(value);
  else if (name === "--template") templates.push(value);
  else throw new Error(`floor: unknown argument ${name}`);
}
const sdk = via === "sdk";
if (!["fetch", "undici", "sdk"].includes(via))
  throw new Error(`floor: --via wants fetch, undici or sdk, got ${via}`);
if (!url || !model || !data || templates.length === 0 || !(concurrency >= 1)) {
  throw new Error("floor: needs --url, --model, --data, -j and at least one --template");
}

const render = (template, row) =>
  template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, field) => String(row[field] ?? ""));

function* jobs() {
  for (const line of readFileSync(data, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const row = JSON.parse(line);
    for (const template of templates) {
      const body = { model, messages: [{ role: "user", content: render(template, row) }] };
      yield sdk ? body : JSON.stringify(body);
    }
  }
}

const endpoint = `${url}/chat/completions`;
const headers = { "content-type": "application/json", authorization: "Bearer sk-no-key-required" };
let sent = 0;
let errors = 0;
const source = jobs();

const client = sdk
  ? new (await import("openai")).default({
      apiKey: "sk-no-key-required",
      baseURL: url,
      maxRetries: 0,
      fetch: (await import("../dist/providers/http-fetch.js")).createHttpFetch(),
    })
  : null;
const agent = via === "undici" ? new (await import("undici")).Agent() : null;
const origin = new URL(endpoint).origin;
const path = new URL(endpoint).pathname;

async function worker() {
  for (let next = source.next(); !next.done; next = source.next()) {
    sent++;
    if (client) {
      try {
        const body = await client.chat.completions.create(next.value);
        if (!Array.isArray(body.choices)) errors++;
      } catch {
        errors++;
      }
      continue;
    }
    if (agent) {
      try {
        const response = await agent.request({ origin, path, method: "POST", headers, body: next.value });
        const body = await response.body.json();
        if (response.statusCode !== 200 || !Array.isArray(body.choices)) errors++;
      } catch {
        errors++;
      }
      continue;
    }
    try {
      const response = await fetch(endpoint, { method: "POST", headers, body: next.value });
      // Parse the answer as eval must, so the floor pays for the JSON too.
      const body = await response.json();
      if (!response.ok || !Array.isArray(body.choices)) errors++;
    } catch {
      errors++;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(`${JSON.stringify({ jobs: sent, errors })}\n`);
