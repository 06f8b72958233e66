// A loopback OpenAI-compatible endpoint for the benchmark, run as its own process so its CPU time
// is never charged to the process being measured (and the other way round).
//
//   node bench/stub-server.js [--latency <ms>]
//
// Prints one line `{"port":N}` once listening. Every POST .../chat/completions gets the same
// precomputed JSON answer after <ms>. Control routes for the benchmark itself:
//   GET  /__stats              → {"requests":n,"windowMs":ms|null,"firstEpochMs":ms|null,"lastEpochMs":ms|null,"arrivalsMs":[…],"digest":"…"|null,"heldMs":{mean,p99}|null}
//                                firstEpochMs / lastEpochMs: when the first request arrived and the last
//                                answer left, on the wall clock, so a client's time to its first request
//                                and from its last answer to its exit can be taken across processes;
//                                arrivalsMs: when each of the first 256 requests arrived, after the first
//                                heldMs: how long answers were really held (body in → answer out);
//                                the timer fires late by a millisecond or so, and that is the
//                                stub's share of any shortfall from concurrency ÷ latency
//   POST /__reset[?capture=1]  → zero the counter; with capture=1, also hash every request body so
//                                two runs can be proved to have sent the same bodies (in any order)
import { createHash } from "node:crypto";
import { createServer } from "node:http";

const latencyArg = process.argv.indexOf("--latency");
const latencyMs = latencyArg === -1 ? 0 : Number(process.argv[latencyArg + 1]);
if (!Number.isFinite(latencyMs) || latencyMs < 0) {
  process.stderr.write(`stub-server: --latency wants a number of ms, got ${process.argv[latencyArg + 1]}\n`);
  process.exit(2);
}

// Built once: the hot path only writes these bytes.
const ANSWER = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1700000000,
    model: "bench-model",
    choices: [
      { index: 0, message: { role: "assistant", content: "The answer is 42." }, finish_reason: "stop" },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  }),
);
const ANSWER_HEADERS = {
  "content-type": "application/json",
  "content-length": String(ANSWER.length),
};

let requests = 0;
let capture = null;
// The busy window since the last reset: first request in → last answer out. Rates over it leave out
// the client's start-up and exit, which a spawn-to-exit time cannot.
let firstAt = null;
let lastAt = null;
/** Arrival of the first requests since the last reset, ms after the first: how fast a client's first wave went out. */
let arrivals = [];
const MAX_ARRIVALS = 256;
/** The first request's arrival on the wall clock (ms since the epoch), for the client's time to first request. */
let firstEpochMs = null;
/** Per answer since the last reset: ms from the request's body in to the answer written. */
let held = [];

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url.endsWith("/chat/completions")) {
    requests++;
    if (firstAt === null) {
      firstAt = performance.now();
      firstEpochMs = performance.timeOrigin + firstAt;
    }
    if (arrivals.length < MAX_ARRIVALS) arrivals.push(performance.now() - firstAt);
    const chunks = capture ? [] : null;
    // The body must be read (or drained) for the socket to be reused.
    req.on("data", (chunk) => chunks?.push(chunk));
    req.on("end", () => {
      if (chunks) capture.push(createHash("sha1").update(Buffer.concat(chunks)).digest("hex"));
      const bodyAt = performance.now();
      const reply = () => {
        res.writeHead(200, ANSWER_HEADERS);
        res.end(ANSWER);
        lastAt = performance.now();
        held.push(lastAt - bodyAt);
      };
      if (latencyMs > 0) setTimeout(reply, latencyMs);
      else reply();
    });
    return;
  }
  if (req.method === "GET" && req.url === "/__stats") {
    const digest = capture ? createHash("sha1").update(capture.sort().join("\n")).digest("hex") : null;
    res.writeHead(200, { "content-type": "application/json" });
    const windowMs = firstAt === null || lastAt === null ? null : lastAt - firstAt;
    const sorted = held.length > 0 ? Float64Array.from(held).sort() : null;
    const heldMs = sorted && {
      mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
      p99: sorted[Math.floor(0.99 * (sorted.length - 1))],
    };
    res.end(
      JSON.stringify({
        requests,
        windowMs,
        firstEpochMs,
        lastEpochMs: lastAt === null ? null : performance.timeOrigin + lastAt,
        arrivalsMs: arrivals,
        digest,
        captured: capture ? capture.length : null,
        heldMs,
      }),
    );
    return;
  }
  if (req.method === "POST" && req.url.startsWith("/__reset")) {
    requests = 0;
    held = [];
    firstAt = null;
    firstEpochMs = null;
    arrivals = [];
    lastAt = null;
    capture = req.url.includes("capture=1") ? [] : null;
    req.resume();
    req.on("end", () => {
      res.writeHead(204);
      res.end();
    });
    return;
  }
  req.resume();
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message: `stub: no route ${req.method} ${req.url}` } }));
});

// Clients keep their sockets between runs' requests; never be the side that closes them mid-run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The parent going away closes our stdin: leave with it rather than linger.
process.stdin.on("end", stop);
process.stdin.resume();
