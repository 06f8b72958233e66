// The promptsmith benchmark: start-up, throughput against a plain-fetch floor, and memory versus
// dataset size, each measured on a child process from spawn to exit. A report, not a test: it exits 0
// when a target fails, and says so loudly.
//
//   npm run bench                        (builds first; ~6.5 min on 2 cores, ~8 while the 100k run hits its cap)
//   node bench/run.js [--quick] [--all]  (--quick: small sizes, a smoke run of about half a minute;
//                                         --all: add 20,000 jobs at -j 16 and 50 ms, one more minute)
//   node bench/run.js --leak-guard-only  (only section 4, the leak guard's cost: about two minutes)
//   node bench/cpuprofile-top.js <file>  (where a `node --cpu-prof` run spent its time)
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg as osLoadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "bin", "promptsmith.js");
const STUB = join(ROOT, "bench", "stub-server.js");
const FLOOR = join(ROOT, "bench", "floor.js");
const MODEL = "bench-model";
const TEMPLATES = { a: "Q: {{question}}", b: "Question: {{question}}\nAnswer:" };

const QUICK = process.argv.includes("--quick");
/** Also run 20,000 jobs at -j 16 and 50 ms: a minute of waiting that only confirms the -j 64 row. */
const ALL = process.argv.includes("--all");
/** Only the leak guard's section (4): what its cost is, without the rest of the bench. */
const LEAK_GUARD_ONLY = process.argv.includes("--leak-guard-only");

/**
 * One throughput row: `cases` × 2 prompts at `concurrency` and `latency` ms. `repeats` > 1 for short
 * runs, where one scheduler hiccup is a big share of a second (eval and floor alternate; the
 * median counts). `floor: false` where the target is absolute (c ÷ latency) and the floor's run
 * would only add a minute of waiting. `diagnostics`: also the bare loop over eval's transport
 * (undici) and the `openai` SDK over that transport, rows that split eval's cost into transport,
 * SDK and promptsmith's own share.
 */
const runOf = (latency, cases, concurrency, repeats = 1, floor = true, diagnostics = false) => ({
  latency,
  cases,
  concurrency,
  repeats,
  floor,
  diagnostics,
});
/** The diagnostic loops (bench/floor.js --via …) and their names in the report. */
const DIAGNOSTICS = {
  undici: "undici loop (eval's transport)",
  sdk: "openai SDK over eval's transport",
  cached: "eval, cache on (its default), first run",
};
const PLAN = QUICK
  ? {
      startupRuns: 5,
      throughput: [
        runOf(0, 200, 16),
        runOf(0, 200, 64, 1, true, true),
        runOf(50, 200, 16, 1, true, true),
        runOf(50, 200, 64, 1, true, true),
      ],
      memoryCases: [200, 2_000],
      memoryTimeoutMs: 60_000,
    }
  : {
      startupRuns: 15,
      throughput: [
        runOf(0, 1_000, 16, 3),
        runOf(0, 1_000, 64, 3),
        runOf(0, 10_000, 16),
        runOf(0, 10_000, 64, 1, true, true),
        runOf(50, 1_000, 16, 1, true, true),
        runOf(50, 1_000, 64, 1, true, true),
        ...(ALL ? [runOf(50, 10_000, 16, 1, false)] : []),
        runOf(50, 10_000, 64, 1, false),
      ],
      memoryCases: [1_000, 100_000],
      // 200,000 jobs take 2–4 minutes here; past this the run is stopped (SIGTERM, as Ctrl-C) and failed.
      memoryTimeoutMs: 300_000,
    };
/** No other single run should take anywhere near this long; a hung one is stopped and failed. */
const RUN_TIMEOUT_MS = 180_000;
const CHECK_CASES = 200;
const MEMORY_CONCURRENCY = 64;

const TARGETS = {
  startupMs: 150,
  floorRatio: 1.3,
  latencyEfficiency: 0.95,
  memoryRatio: 1.3,
  /** The leak guard at the start of a 100,000-case run with a 1,000-example pool, against `leak: allow`. */
  leakGuardStartRatio: 1.1,
};

const log = (text) => process.stderr.write(`${text}\n`);
const tmp = mkdtempSync(join(tmpdir(), "promptsmith-bench-"));
const children = new Set();
const targets = [];
const notes = [];
/**
 * Distinct questions per dataset size: random pairs repeat now and then, and with the cache on
 * a repeated question is answered without a request (that is the point of the cache).
 */
const DISTINCT_QUESTIONS = new Map();

try {
  await main();
} finally {
  for (const child of children) child.kill("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  const rss = detectRssMethod();
  const machine = describeMachine();
  log(`promptsmith bench${QUICK ? " (quick)" : ""} in ${tmp}`);
  if (LEAK_GUARD_ONLY) {
    const loadBefore = loadavg();
    const leakGuard = await measureLeakGuard(rss);
    notes.push(`load average (1 min) before / after: ${loadBefore} / ${loadavg()}`);
    printReport({ machine, rss, leakGuard });
    return;
  }

  const datasets = new Map();
  for (const n of new Set([CHECK_CASES, ...PLAN.throughput.map((r) => r.cases), ...PLAN.memoryCases])) {
    datasets.set(n, writeDataset(n));
  }

  const stubs = new Map();
  for (const latency of new Set([0, ...PLAN.throughput.map((r) => r.latency)])) {
    stubs.set(latency, await startStub(latency));
  }
  const loadBefore = loadavg();

  const evalEnv = { ...process.env, NO_COLOR: "1", CI: "1" };
  for (const name of ["OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_LOG"]) delete evalEnv[name];

  // Caching must be off so every job reaches the stub: use whichever switch this build has.
  const help = await measure([CLI, "eval", "--help"], { env: evalEnv, rss: "none" });
  const cacheFlag = /--no-cache\b/.test(help.stdout) ? ["--no-cache"] : [];
  let cacheKey = true;
  const probe = await measure(
    [CLI, "eval", writeConfig(stubs.get(0), CHECK_CASES, datasets, true), "--limit", "1", "--json"],
    { env: evalEnv, rss: "none" },
  );
  if (probe.code !== 0) {
    if (!/cache/.test(probe.stderr)) throw new Error(`eval probe failed (${probe.code}):\n${probe.stderr}`);
    cacheKey = false;
    notes.push(`config key \`cache: false\` rejected by this build (${firstLine(probe.stderr)}); left out`);
  }
  notes.push(
    `caching: ${[cacheKey ? "`cache: false` in the config" : null, cacheFlag.length ? "`--no-cache`" : null].filter(Boolean).join(" + ") || "no switch in this build (none needed: the stub counted every request)"}`,
  );
  const evalArgs = (latency, cases, concurrency, extra = []) => [
    CLI,
    "eval",
    writeConfig(stubs.get(latency), cases, datasets, cacheKey),
    "-j",
    String(concurrency),
    "--json",
    ...cacheFlag,
    ...extra,
  ];
  /** Eval as users run it by default, the cache on, starting from an empty cache each time. */
  const cachedEvalArgs = (latency, cases, concurrency) => {
    const config = writeConfig(stubs.get(latency), cases, datasets, false);
    rmSync(join(dirname(config), ".promptsmith"), { recursive: true, force: true });
    return [CLI, "eval", config, "-j", String(concurrency), "--json"];
  };
  const floorArgs = (latency, cases, concurrency) => [
    FLOOR,
    "--url",
    `${stubs.get(latency).url}`,
    "--model",
    MODEL,
    "--data",
    datasets.get(cases),
    "-j",
    String(concurrency),
    ...Object.values(TEMPLATES).flatMap((t) => ["--template", t]),
  ];

  // 0. The floor must send what eval sends, byte for byte, or the comparison means nothing.
  const stub0 = stubs.get(0);
  await stub0.reset(true);
  await checked(await measure(evalArgs(0, CHECK_CASES, 16), { env: evalEnv, rss: "none" }), "eval");
  const evalBodies = await stub0.stats();
  await stub0.reset(true);
  await checked(await measure(floorArgs(0, CHECK_CASES, 16), { rss: "none" }), "floor");
  const floorBodies = await stub0.stats();
  const sameBodies = evalBodies.digest === floorBodies.digest && evalBodies.captured === CHECK_CASES * 2;
  notes.push(
    sameBodies
      ? `request bodies: eval and floor sent the same ${evalBodies.captured} bodies (order-free sha1 ${evalBodies.digest.slice(0, 12)})`
      : `request bodies DIFFER: eval ${evalBodies.captured} (${evalBodies.digest}) vs floor ${floorBodies.captured} (${floorBodies.digest}): the floor comparison is not like for like`,
  );

  // 1. Start-up.
  log("start-up …");
  const startup = {};
  // The last two rows have no target: what a prompt engineer waits for at each try, a rendered
  // prompt and a one-case eval (2 calls to the stub at 0 ms), start-up and exit included.
  const startupConfig = writeConfig(stubs.get(0), CHECK_CASES, datasets, cacheKey);
  for (const [name, args] of [
    ["node -e 0", ["-e", "0"]],
    ["promptsmith --version", [CLI, "--version"]],
    ["promptsmith --help", [CLI, "--help"]],
    ["promptsmith render (first case)", [CLI, "render", startupConfig]],
    [
      "promptsmith eval --limit 1 (2 calls)",
      [CLI, "eval", startupConfig, "--limit", "1", "--json", ...cacheFlag],
    ],
  ]) {
    const times = [];
    for (let i = 0; i < PLAN.startupRuns; i++) {
      const run = await measure(args, { env: evalEnv, rss: "none" });
      if (run.code !== 0) throw new Error(`${name} exited ${run.code}: ${run.stderr}`);
      times.push(run.wallMs);
    }
    startup[name] = { median: median(times), min: Math.min(...times), max: Math.max(...times) };
  }
  for (const name of ["promptsmith --version", "promptsmith --help"]) {
    const { median: ms } = startup[name];
    targets.push({
      name: `start-up: ${name} median < ${TARGETS.startupMs} ms`,
      pass: ms < TARGETS.startupMs,
      detail: `${fmt(ms, 0)} ms (node -e 0: ${fmt(startup["node -e 0"].median, 0)} ms)`,
    });
  }

  // 2. Throughput: eval against the floor on the same stub, same bodies, same concurrency.
  const throughput = [];
  for (const { latency, cases, concurrency, repeats, floor: withFloor, diagnostics } of PLAN.throughput) {
    const jobs = cases * 2;
    const stub = stubs.get(latency);
    log(`throughput: ${jobs} jobs, -j ${concurrency}, ${latency} ms latency (×${repeats}) …`);
    const runs = { eval: [], floor: [], undici: [], sdk: [], cached: [] };
    // The cache row only where nothing is waited on: it measures what writing the cache costs.
    const diagnosticTools = Object.keys(DIAGNOSTICS).filter((t) => t !== "cached" || latency === 0);
    const tools = [...(withFloor ? ["floor"] : []), ...(diagnostics ? diagnosticTools : []), "eval"];
    for (let i = 0; i < repeats; i++) {
      for (const tool of tools) {
        await stub.reset(false);
        const args =
          tool === "eval"
            ? evalArgs(latency, cases, concurrency)
            : tool === "cached"
              ? cachedEvalArgs(latency, cases, concurrency)
              : [...floorArgs(latency, cases, concurrency), ...(tool === "floor" ? [] : ["--via", tool])];
        const run = await measure(args, { env: evalEnv, rss });
        const sent = tool === "cached" ? DISTINCT_QUESTIONS.get(cases) * 2 : jobs;
        runs[tool].push({ ...run, ...validate(tool, run, await stub.stats(), jobs, sent) });
      }
    }
    const floor = withFloor ? medianRun(runs.floor) : null;
    const evalRun = medianRun(runs.eval);
    throughput.push({
      latency,
      jobs,
      concurrency,
      floor,
      undici: diagnostics ? medianRun(runs.undici) : null,
      sdk: diagnostics ? medianRun(runs.sdk) : null,
      cached: runs.cached.length > 0 ? medianRun(runs.cached) : null,
      eval: evalRun,
      repeats,
    });
    if (latency === 0) {
      const ratio = evalRun.wallMs / floor.wallMs;
      targets.push({
        name: `throughput: ${jobs} jobs -j ${concurrency} at 0 ms, eval ≤ ${TARGETS.floorRatio}× floor`,
        pass: evalRun.ok && floor.ok && ratio <= TARGETS.floorRatio,
        detail: `${fmt(ratio, 2)}× wall (${fmt(evalRun.wallMs / 1000, 2)} s vs ${fmt(floor.wallMs / 1000, 2)} s); busy window ${fmt(evalRun.windowMs / floor.windowMs, 2)}×; CPU ${fmt(evalRun.cpuS / floor.cpuS, 2)}×${problems(evalRun, floor)}`,
      });
    } else {
      const ideal = concurrency / (latency / 1000);
      const rate = evalRun.windowRate;
      // The best this machine gave a client: the bare loop over eval's own transport, same stub.
      const best = diagnostics ? medianRun(runs.undici) : null;
      targets.push({
        name: `throughput: ${jobs} jobs -j ${concurrency} at ${latency} ms, eval ≥ ${TARGETS.latencyEfficiency * 100}% of ${fmt(ideal, 0)} jobs/s`,
        pass: evalRun.ok && rate >= TARGETS.latencyEfficiency * ideal,
        detail: `${fmt((rate / ideal) * 100, 1)}% (${fmt(rate, 0)} jobs/s over the busy window; ${fmt(evalRun.wallRate, 0)} jobs/s spawn-to-exit${floor ? `; floor ${fmt((floor.windowRate / ideal) * 100, 1)}%` : ""}${best ? `; bare undici loop ${fmt((best.windowRate / ideal) * 100, 1)}%` : ""}${heldNote(evalRun, latency, ideal)})${problems(evalRun)}`,
      });
    }
  }

  // 3. Memory: peak RSS against dataset size, writing every case to a .jsonl file.
  const memory = [];
  for (const cases of PLAN.memoryCases) {
    const jobs = cases * 2;
    const out = join(tmp, `out-${cases}.jsonl`);
    log(`memory: ${cases} cases × 2 prompts, -j ${MEMORY_CONCURRENCY}, -o out.jsonl …`);
    await stub0.reset(false);
    // --trace-gc shows how much of the peak is live data and how much is garbage V8 had not yet
    // collected: a diagnostic column, the target stays on peak RSS.
    const run = await measure(["--trace-gc", ...evalArgs(0, cases, MEMORY_CONCURRENCY, ["-o", out])], {
      env: evalEnv,
      rss,
      timeoutMs: PLAN.memoryTimeoutMs,
    });
    const gc = splitGcTrace(run.stdout);
    run.stdout = gc.rest;
    const stats = await stub0.stats();
    const lines = run.code === 0 ? await countLines(out) : 0;
    const check = validate("eval", run, stats, jobs);
    if (check.ok && lines !== jobs) {
      check.ok = false;
      check.problem = `${lines} lines in out.jsonl, expected ${jobs}`;
    }
    rmSync(out, { force: true });
    memory.push({ cases, jobs, gc, run: { ...run, ...check } });
  }
  const [small, large] = memory;
  const memoryRatio = large.run.rssKb / small.run.rssKb;
  targets.push({
    name: `memory: peak RSS at ${large.cases} cases ≤ ${TARGETS.memoryRatio}× at ${small.cases} cases`,
    pass: small.run.ok && large.run.ok && memoryRatio <= TARGETS.memoryRatio,
    detail: `${fmt(memoryRatio, 2)}× (${mb(large.run.rssKb)} MB vs ${mb(small.run.rssKb)} MB${large.run.timedOut ? "; the stopped run's peak so far, a lower bound" : ""})${problems(small.run, large.run)}`,
  });

  // 3b. Resuming the large run once it is finished: every job is replayed from its journal, none
  // is sent. The journal is read back line by line as jobs come up, so this too must stay flat.
  if (large.run.ok) {
    const out = join(tmp, "out-resumed.jsonl");
    log(
      `memory: --resume of the finished ${large.cases}-case run (replays ${large.jobs} jobs from its journal) …`,
    );
    await stub0.reset(false);
    const run = await measure(
      ["--trace-gc", ...evalArgs(0, large.cases, MEMORY_CONCURRENCY, ["--resume", "-o", out])],
      { env: evalEnv, rss, timeoutMs: PLAN.memoryTimeoutMs },
    );
    const gc = splitGcTrace(run.stdout);
    run.stdout = gc.rest;
    const check = validate("eval", run, await stub0.stats(), large.jobs, 0);
    const lines = run.code === 0 ? await countLines(out) : 0;
    if (check.ok && lines !== large.jobs) {
      check.ok = false;
      check.problem = `${lines} lines in out.jsonl, expected ${large.jobs}`;
    }
    rmSync(out, { force: true });
    memory.push({ cases: large.cases, jobs: large.jobs, resumed: true, gc, run: { ...run, ...check } });
    const ratio = run.rssKb / small.run.rssKb;
    targets.push({
      name: `memory: peak RSS resuming the finished ${large.cases}-case run ≤ ${TARGETS.memoryRatio}× a ${small.cases}-case run`,
      pass: check.ok && small.run.ok && ratio <= TARGETS.memoryRatio,
      detail: `${fmt(ratio, 2)}× (${mb(run.rssKb)} MB vs ${mb(small.run.rssKb)} MB)${problems(small.run, { ...run, ...check })}`,
    });
  }

  // 4. The leak guard: its cost at a run's start and over a whole run.
  const leakGuard = await measureLeakGuard(rss);

  notes.push(
    `load average (1 min) before / after: ${loadBefore} / ${loadavg()} (other work on this machine shows up in wall times; CPU s is less sensitive to it)`,
  );
  printReport({ machine, rss, startup, throughput, memory, leakGuard });
}

/**
 * The leak guard's cost, each run against the same config with `leak: allow` (no guard): at the
 * start of a run (`render`, which loads the pool, builds the guard and renders the first case) with
 * a 1,000-example pool and with a 100,000-example one (a train split used whole), and over a whole
 * 100,000-case eval on the echo provider (no network: the guard's share is as large as it gets).
 * 1% of the pool's rows are copies of test cases, so the guard has real work; the run checks it
 * counted each of them.
 */
async function measureLeakGuard(rss) {
  const cases = QUICK ? 10_000 : 100_000;
  const runs = QUICK ? 3 : 5;
  const env = { ...process.env, NO_COLOR: "1", CI: "1" };
  const data = writeLeakData(cases, [1_000, cases]);
  const rows = [];
  for (const pool of [1_000, cases]) {
    log(`leak guard: start of a ${cases}-case run, ${pool}-example pool (×${runs}) …`);
    const row = { pool, cases, kind: "start" };
    for (const leak of ["allow", "guard"]) {
      const config = writeLeakConfig(data, pool, leak);
      const times = [];
      for (let i = 0; i < runs; i++) {
        const run = await measure([CLI, "render", config], { env, rss });
        if (run.code !== 0) throw new Error(`render (${leak}) exited ${run.code}: ${run.stderr}`);
        times.push(run);
      }
      row[leak] = {
        wallMs: median(times.map((t) => t.wallMs)),
        cpuS: median(times.map((t) => t.cpuS)),
        rssKb: median(times.map((t) => t.rssKb)),
      };
    }
    rows.push(row);
  }
  log(`leak guard: a whole ${cases}-case eval on the echo provider, 1000-example pool …`);
  const whole = { pool: 1_000, cases, kind: "run" };
  for (const leak of ["allow", "guard"]) {
    const run = await measure([CLI, "eval", writeLeakConfig(data, 1_000, leak), "--json", "--no-cache"], {
      env,
      rss,
      timeoutMs: PLAN.memoryTimeoutMs,
    });
    let problem = run.code === 0 ? undefined : `exit ${run.code}: ${firstLine(run.stderr)}`;
    if (!problem) {
      const [row] = JSON.parse(run.stdout).summary;
      const counted = row.leaks?.cases ?? 0;
      const expected = leak === "guard" ? data.copies.get(1_000) : 0;
      if (row.total !== cases) problem = `${row.total} cases reported, expected ${cases}`;
      else if (counted !== expected) problem = `${counted} cases with a copy counted, expected ${expected}`;
    }
    whole[leak] = { wallMs: run.wallMs, cpuS: run.cpuS, rssKb: run.rssKb, ok: !problem, problem };
  }
  rows.push(whole);
  const [start] = rows;
  // CPU where /usr/bin/time gives it: a start is a fraction of a second, and on a shared machine its
  // wall time is mostly the other jobs' (2.0× wall against 1.12× CPU in one run).
  const byCpu = Number.isFinite(start.guard.cpuS) && Number.isFinite(start.allow.cpuS);
  const ratio = byCpu ? start.guard.cpuS / start.allow.cpuS : start.guard.wallMs / start.allow.wallMs;
  targets.push({
    name: `leak guard: start of a ${cases}-case run with a 1,000-example pool ≤ ${TARGETS.leakGuardStartRatio}× without the guard (${byCpu ? "CPU" : "wall"})`,
    pass: ratio <= TARGETS.leakGuardStartRatio,
    detail: `${fmt(ratio, 3)}× (CPU ${fmt(start.guard.cpuS, 3)} s vs ${fmt(start.allow.cpuS, 3)} s; median wall ${fmt(start.guard.wallMs, 0)} ms vs ${fmt(start.allow.wallMs, 0)} ms)`,
  });
  return rows;
}

/**
 * Question/answer rows of 12–40 words from a skewed 3,000-word vocabulary (a fixed seed), the test
 * set and "train splits" of the given sizes; 1% of each split's rows are copies of test cases.
 */
function writeLeakData(cases, pools) {
  const dir = join(tmp, "leaks");
  mkdirSync(dir, { recursive: true });
  // mulberry32: an LCG in doubles (as writeDataset's) loses bits past 2^53 and falls into short
  // cycles, which here would write the same sentences again and again: real near-copies.
  let state = 18;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const sentence = () =>
    Array.from({ length: 12 + Math.floor(next() * 29) }, () => `w${Math.floor(3000 * next() ** 3)}`).join(
      " ",
    );
  const test = [];
  for (let i = 0; i < cases; i++)
    test.push({ id: `case-${i}`, question: `${sentence()}?`, answer: String(i % 97) });
  const testPath = join(dir, `test-${cases}.jsonl`);
  writeFileSync(testPath, `${test.map((row) => JSON.stringify(row)).join("\n")}\n`);
  const paths = new Map();
  const copies = new Map();
  for (const size of pools) {
    const lines = [];
    let copied = 0;
    for (let i = 0; i < size; i++) {
      const copy = i % 100 === 50;
      if (copy) copied++;
      const row = copy
        ? { ...test[(i * 7919) % cases], id: `train-${i}` }
        : { id: `train-${i}`, question: `${sentence()}?`, answer: String(i % 89) };
      lines.push(JSON.stringify(row));
    }
    const path = join(dir, `pool-${size}.jsonl`);
    writeFileSync(path, `${lines.join("\n")}\n`);
    paths.set(size, path);
    copies.set(size, copied);
  }
  return { testPath, paths, copies };
}

function writeLeakConfig(data, pool, leak) {
  const dir = join(tmp, "leaks", `config-${pool}-${leak}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "promptsmith.yaml");
  const yaml = [
    "providers: [echo]",
    "prompts:",
    "  - id: fs",
    `    text: ${JSON.stringify("{{#each shots}}Q: {{question}}\nA: {{answer}}\n\n{{/each}}Q: {{question}}\nA:")}`,
    `    shots: { from: ${JSON.stringify(data.paths.get(pool))}, k: 4${leak === "allow" ? ", leak: allow" : ""} }`,
    `tests: { path: ${JSON.stringify(data.testPath)}, expected: answer }`,
    "cache: false",
  ];
  writeFileSync(path, `${yaml.join("\n")}\n`);
  return path;
}

function printReport({ machine, rss, startup, throughput, memory, leakGuard }) {
  const out = [];
  const flags = process.argv.slice(2).join(" ");
  const command =
    process.env.npm_lifecycle_event === "bench"
      ? `npm run bench${flags ? ` -- ${flags}` : ""}`
      : `node bench/run.js${flags ? ` ${flags}` : ""}`;
  out.push(`# promptsmith bench${QUICK ? " (--quick: smoke sizes, not the reference numbers)" : ""}`);
  out.push("");
  out.push(`- date: ${new Date().toISOString()}`);
  out.push(`- machine: ${machine}`);
  out.push(`- command: \`${command}\` (in ${ROOT})`);
  out.push(
    `- timing: each measurement is a child process timed from spawn to exit; peak RSS ${rss === "time" ? "from `/usr/bin/time -v` (the child's maxrss, i.e. VmHWM)" : "from /proc/<pid>/status VmHWM polled every 20 ms"}`,
  );
  out.push(
    "- stub: loopback OpenAI-compatible server in its own process, fixed latency, keep-alive, precomputed answer",
  );
  out.push(
    "- busy window: the stub's first request in → last answer out, i.e. without process start-up and exit",
  );
  out.push(
    "- floor: bench/floor.js, bare `fetch` + promise pool. Diagnostics, no target: the same loop over undici's dispatcher (the transport eval uses instead of fetch), through the `openai` client over that transport (eval minus promptsmith's own work), and at 0 ms eval with the response cache on, as users run it by default, from an empty cache (what writing every answer costs)",
  );
  for (const note of notes) out.push(`- ${note}`);
  if (startup) printMainSections(out, { startup, throughput, memory });
  if (leakGuard) {
    out.push("");
    out.push(
      "## Leak guard (echo provider; `render` is a run's start: pool loaded, guard built, first case rendered)",
    );
    out.push("");
    out.push(
      "| what | cases | pool | without (leak: allow) wall ms | with the guard wall ms | × wall | × CPU | peak RSS MB without / with | check |",
    );
    out.push("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (const row of leakGuard) {
      const what = row.kind === "start" ? "start (`render`, median)" : "whole `eval`";
      const problem = row.guard.problem ?? row.allow.problem;
      out.push(
        `| ${what} | ${row.cases} | ${row.pool} | ${fmt(row.allow.wallMs, 0)} | ${fmt(row.guard.wallMs, 0)} | ${fmt(row.guard.wallMs / row.allow.wallMs, 3)} | ${fmt(row.guard.cpuS / row.allow.cpuS, 3)} | ${mb(row.allow.rssKb)} / ${mb(row.guard.rssKb)} | ${problem ? `**${problem}**` : "ok"} |`,
      );
    }
  }
  out.push("");
  out.push("## Targets");
  out.push("");
  for (const t of targets) out.push(`- ${t.pass ? "PASS" : "**FAIL**"} ${t.name}: ${t.detail}`);
  const failed = targets.filter((t) => !t.pass).length;
  out.push("");
  out.push(
    failed === 0
      ? `All ${targets.length} targets met.`
      : `**${failed} of ${targets.length} targets FAILED** (see above).`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

function printMainSections(out, { startup, throughput, memory }) {
  out.push("");
  out.push(`## Start-up (median of ${PLAN.startupRuns} runs)`);
  out.push("");
  out.push("| command | median ms | min | max | over node -e 0 |");
  out.push("|---|---:|---:|---:|---:|");
  const base = startup["node -e 0"].median;
  for (const [name, s] of Object.entries(startup)) {
    out.push(
      `| \`${name}\` | ${fmt(s.median, 0)} | ${fmt(s.min, 0)} | ${fmt(s.max, 0)} | ${name === "node -e 0" ? "–" : `+${fmt(s.median - base, 0)}`} |`,
    );
  }
  out.push("");
  out.push("## Throughput (2 prompts × cases = jobs)");
  out.push("");
  out.push(
    "| latency | jobs | -j | tool | wall s | × floor | CPU s | jobs/s (wall) | jobs/s (busy window) | peak RSS MB | check |",
  );
  out.push("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|");
  for (const row of throughput) {
    for (const tool of ["floor", "undici", "sdk", "cached", "eval"].filter((t) => row[t])) {
      const run = row[tool];
      const ratio = tool === "floor" ? "1.00" : row.floor ? fmt(run.wallMs / row.floor.wallMs, 2) : "–";
      const name = DIAGNOSTICS[tool] ?? tool;
      out.push(
        `| ${row.latency} ms | ${row.jobs} | ${row.concurrency} | ${name}${row.repeats > 1 ? ` (median of ${row.repeats})` : ""} | ${fmt(run.wallMs / 1000, 2)} | ${ratio} | ${fmt(run.cpuS, 2)} | ${fmt(run.wallRate, 0)} | ${fmt(run.windowRate, 0)} | ${mb(run.rssKb)} | ${run.ok ? "ok" : `**${run.problem}**`} |`,
      );
    }
  }
  out.push("");
  out.push(`## Memory (eval, 0 ms latency, -j ${MEMORY_CONCURRENCY}, -o out.jsonl)`);
  out.push("");
  out.push(
    "| cases | jobs | wall s | CPU s | jobs/s (wall) | peak RSS MB | live heap after full GCs, MB: last / max | full GCs | check |",
  );
  out.push("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const row of memory) {
    const { lastLiveMb, maxLiveMb, fullGcs } = row.gc;
    out.push(
      `| ${row.cases}${row.resumed ? " (--resume, all replayed)" : ""} | ${row.jobs} | ${fmt(row.run.wallMs / 1000, 2)} | ${fmt(row.run.cpuS, 2)} | ${fmt(row.run.wallRate, 0)} | ${mb(row.run.rssKb)} | ${fmt(lastLiveMb, 1)} / ${fmt(maxLiveMb, 1)} | ${fullGcs} | ${row.run.ok ? "ok" : `**${row.run.problem}**`} |`,
    );
  }
}

/** Checks a run did all its work: exit 0, every job reported without error, `sent` requests at the stub (default: one per job). */
function validate(tool, run, stats, jobs, sent = jobs) {
  const windowMs = stats.windowMs ?? Number.NaN;
  const result = {
    ok: true,
    problem: null,
    windowMs,
    heldMs: stats.heldMs ?? null,
    // A stopped run is rated on what it got done.
    wallRate: (run.timedOut ? stats.requests : jobs) / (run.wallMs / 1000),
    windowRate: (run.timedOut ? stats.requests : jobs) / (windowMs / 1000),
  };
  const fail = (problem) => {
    result.ok = false;
    result.problem ??= problem;
  };
  if (run.timedOut)
    fail(`stopped after ${fmt(run.wallMs / 1000, 0)} s with ${stats.requests} of ${jobs} jobs sent`);
  if (run.code !== 0) fail(`exit ${run.code}: ${firstLine(run.stderr)}`);
  if (stats.requests !== sent) fail(`stub saw ${stats.requests} requests for ${jobs} jobs, expected ${sent}`);
  try {
    if (tool !== "eval" && tool !== "cached") {
      const { jobs: sent, errors } = JSON.parse(run.stdout);
      if (sent !== jobs || errors !== 0) fail(`floor sent ${sent}, ${errors} errors`);
    } else if (run.code === 0) {
      const { summary } = JSON.parse(run.stdout);
      const total = summary.reduce((sum, row) => sum + row.total, 0);
      const errors = summary.reduce((sum, row) => sum + row.errors, 0);
      if (total !== jobs || errors !== 0) fail(`eval reported ${total} cases, ${errors} errors`);
    }
  } catch (error) {
    fail(`unreadable output: ${error.message}`);
  }
  if (!result.ok) log(`  ${tool}: ${result.problem}\n${run.stderr.slice(-2000)}`);
  return result;
}

/** Spawns `node <args>` and times it from spawn to exit; peak RSS as chosen by `rss`. */
async function measure(args, { env = process.env, rss = "none", timeoutMs = RUN_TIMEOUT_MS } = {}) {
  const timeFile = join(tmp, `time-${Math.random().toString(36).slice(2)}.txt`);
  const [command, argv] =
    rss === "time"
      ? ["/usr/bin/time", ["-v", "-o", timeFile, process.execPath, ...args]]
      : [process.execPath, args];
  const started = performance.now();
  const child = spawn(command, argv, { cwd: tmp, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text) => {
    stdout += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text) => {
    stderr += text;
  });
  const closed = new Promise((resolve) => child.on("close", resolve));
  let hwmKb = 0;
  const poll =
    rss === "poll"
      ? setInterval(() => {
          try {
            const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
            if (match) hwmKb = Math.max(hwmKb, Number(match[1]));
          } catch {
            // Gone between the tick and the read: the last reading stands.
          }
        }, 20)
      : undefined;
  let timedOut = false;
  let killer;
  const timer = setTimeout(() => {
    timedOut = true;
    // SIGTERM the node process itself (under GNU time, its child), so eval stops the way Ctrl-C
    // stops it and GNU time still reports the peak RSS; SIGKILL if it does not go.
    const pids = rss === "time" ? childPids(child.pid) : [child.pid];
    for (const pid of pids) signal(pid, "SIGTERM");
    killer = setTimeout(() => {
      for (const pid of [...pids, child.pid]) signal(pid, "SIGKILL");
    }, 15_000);
  }, timeoutMs);
  const code = await new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (exitCode, signalName) => resolve(exitCode ?? signalName));
  });
  const wallMs = performance.now() - started;
  clearTimeout(timer);
  clearTimeout(killer);
  clearInterval(poll);
  await closed;
  children.delete(child);
  let rssKb = rss === "poll" ? hwmKb : Number.NaN;
  let cpuS = Number.NaN;
  if (rss === "time") {
    const text = readFileSync(timeFile, "utf8");
    const field = (name) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(text)?.[1] ?? Number.NaN);
    rssKb = field("Maximum resident set size \\(kbytes\\)");
    cpuS = field("User time \\(seconds\\)") + field("System time \\(seconds\\)");
    rmSync(timeFile, { force: true });
  }
  return { code, wallMs, rssKb, cpuS, timedOut, stdout, stderr };
}

/** Separates `node --trace-gc` lines from the program's own stdout; live heap = size after each Mark-Compact. */
function splitGcTrace(stdout) {
  const rest = [];
  const live = [];
  for (const line of stdout.split("\n")) {
    if (!/^\[\d+:0x[0-9a-f]+\]/.test(line)) {
      rest.push(line);
      continue;
    }
    const match = /Mark-Compact[^>]*-> ([\d.]+) \(/.exec(line);
    if (match) live.push(Number(match[1]));
  }
  return {
    rest: rest.join("\n"),
    fullGcs: live.length,
    lastLiveMb: live.at(-1) ?? Number.NaN,
    maxLiveMb: live.length ? Math.max(...live) : Number.NaN,
  };
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** GNU time gives the true peak from the kernel; polling /proc is the fallback. */
function detectRssMethod() {
  const probe = spawnSync("/usr/bin/time", ["-v", process.execPath, "-e", "0"], { encoding: "utf8" });
  return probe.status === 0 && /Maximum resident set size/.test(probe.stderr) ? "time" : "poll";
}

async function startStub(latency) {
  const child = spawn(process.execPath, [STUB, "--latency", String(latency)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.add(child);
  const line = await new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`stub exited ${code} before listening`)));
    createInterface({ input: child.stdout }).once("line", resolve);
  });
  const url = `http://127.0.0.1:${JSON.parse(line).port}`;
  return {
    latency,
    url: `${url}/v1`,
    async reset(capture) {
      const response = await fetch(`${url}/__reset${capture ? "?capture=1" : ""}`, { method: "POST" });
      await response.arrayBuffer();
    },
    async stats() {
      return (await fetch(`${url}/__stats`)).json();
    },
  };
}

/** question/answer rows, the same every run (a fixed LCG, not Math.random). */
function writeDataset(cases) {
  const dir = join(tmp, "data");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `cases-${cases}.jsonl`);
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % 1000;
  };
  const lines = [];
  for (let i = 0; i < cases; i++) {
    const [x, y] = [next(), next()];
    lines.push(JSON.stringify({ id: `case-${i}`, question: `What is ${x} + ${y}?`, answer: String(x + y) }));
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  DISTINCT_QUESTIONS.set(cases, new Set(lines.map((line) => JSON.parse(line).question)).size);
  return path;
}

function writeConfig(stub, cases, datasets, cacheKey) {
  const dir = join(tmp, `config-${stub.latency}ms-${cases}${cacheKey ? "" : "-nocachekey"}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "promptsmith.yaml");
  const yaml = [
    "providers:",
    `  - id: openai:${MODEL}`,
    `    baseURL: ${stub.url}`,
    "    maxRetries: 0",
    "prompts:",
    ...Object.entries(TEMPLATES).flatMap(([id, text]) => [
      `  - id: ${id}`,
      `    text: ${JSON.stringify(text)}`,
    ]),
    `tests: { path: ${JSON.stringify(datasets.get(cases))}, expected: answer }`,
    "scorer: numeric",
    ...(cacheKey ? ["cache: false"] : []),
  ];
  writeFileSync(path, `${yaml.join("\n")}\n`);
  return path;
}

function loadavg() {
  return osLoadavg()[0].toFixed(2);
}

function describeMachine() {
  const list = cpus();
  return `${list[0]?.model ?? "unknown cpu"}, ${list.length} cores, ${mb(totalmem() / 1024)} MB RAM, node ${process.version}, ${process.platform}-${process.arch}`;
}

async function countLines(path) {
  let count = 0;
  for await (const chunk of createReadStream(path)) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
  }
  return count;
}

async function checked(run, tool) {
  if (run.code !== 0) throw new Error(`${tool} failed (${run.code}):\n${run.stderr}`);
  return run;
}

function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  const middle = sorted[Math.floor(sorted.length / 2)];
  // One failed repeat spoils the row: report it rather than hide it behind a median.
  const bad = runs.find((run) => !run.ok);
  return bad ? { ...middle, ok: false, problem: bad.problem } : middle;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * What the stub's own timer allows: answers held `heldMs` instead of `latency` cap any client at
 * concurrency ÷ heldMs, before a byte crosses the loopback.
 */
function heldNote(run, latency, ideal) {
  if (!run.heldMs) return "";
  const ceiling = ideal * (latency / run.heldMs.mean);
  return `; the stub held answers ${fmt(run.heldMs.mean, 2)} ms on average (p99 ${fmt(run.heldMs.p99, 1)}), which alone caps any client at ${fmt((ceiling / ideal) * 100, 1)}%`;
}

function problems(...runs) {
  const bad = runs.filter((run) => !run.ok).map((run) => run.problem);
  return bad.length ? `; **${bad.join("; ")}**` : "";
}

function firstLine(text) {
  return text.trim().split("\n")[0] ?? "";
}

function fmt(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

function mb(kb) {
  return Number.isFinite(kb) ? (kb / 1024).toFixed(1) : "–";
}
