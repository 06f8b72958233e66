// The promptsmith benchmark: start-up, time to first request, throughput against a plain-fetch
// floor at 0 ms and at 200 ms latency, memory versus dataset size and the leak guard's cost, each
// measured on a child process from spawn to exit. A report, not a test: it exits 0 when a target
// fails, and says so loudly.
//
//   npm run bench                        (builds first; ~10 min on 2 cores)
//   node bench/run.js [--quick] [--all] [--only <sections>]
//       --quick: small sizes, a smoke run of about a minute;
//       --all: add the 50 ms rows and 20,000 jobs at 50 ms, two more minutes;
//       --only startup,first-request,throughput,latency,memory,leak-guard,promptfoo: just those
//   node bench/run.js --leak-guard-only  (the same as --only leak-guard: about two minutes)
//   PROMPTFOO_BIN=<path to an installed promptfoo> adds promptfoo's time on the same 2,000 calls
//   (the bench never installs it)
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
/** Also the 50 ms rows of earlier rounds: a couple of minutes that only confirm the 200 ms rows. */
const ALL = process.argv.includes("--all");
const SECTIONS = ["startup", "first-request", "throughput", "latency", "memory", "leak-guard", "promptfoo"];
const onlyArg = process.argv.indexOf("--only");
/** The sections to run (`--only a,b`; `--leak-guard-only` is `--only leak-guard`); all by default. */
const ONLY = new Set(
  process.argv.includes("--leak-guard-only")
    ? ["leak-guard"]
    : onlyArg === -1
      ? SECTIONS
      : (process.argv[onlyArg + 1] ?? "").split(","),
);
for (const name of ONLY) {
  if (!SECTIONS.includes(name))
    throw new Error(`--only: no section "${name}" (sections: ${SECTIONS.join(", ")})`);
}
const PROMPTFOO_BIN = process.env.PROMPTFOO_BIN;

/**
 * One throughput row: `cases` × 2 prompts at `concurrency` and `latency` ms. `repeats` > 1 for short
 * runs, where one scheduler hiccup is a big share of a second (the tools alternate; the median
 * counts). `floor: false` where no comparison is made and the floor's run would only add waiting.
 * `diagnostics`: rows with no target that split eval's cost (see DIAGNOSTICS).
 */
const runOf = (latency, cases, concurrency, repeats = 1, floor = true, diagnostics = []) => ({
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
const ALL_DIAGNOSTICS = Object.keys(DIAGNOSTICS);
const PLAN = QUICK
  ? {
      startupRuns: 5,
      firstRequestRuns: 2,
      firstRequestCases: 200,
      throughput: [runOf(0, 200, 16), runOf(0, 200, 64, 1, true, ALL_DIAGNOSTICS)],
      latency: [runOf(200, 200, 16, 1, true, ["undici"]), runOf(200, 200, 64, 1, true, ["undici"])],
      memoryCases: [200, 2_000],
      memoryTimeoutMs: 60_000,
    }
  : {
      startupRuns: 21,
      firstRequestRuns: 7,
      firstRequestCases: 1_000,
      throughput: [
        runOf(0, 1_000, 16, 3),
        runOf(0, 1_000, 64, 3),
        runOf(0, 10_000, 16),
        runOf(0, 10_000, 64, 1, true, ALL_DIAGNOSTICS),
      ],
      // Whole processes timed, so start-up, the first wave and the last one's tail all count.
      latency: [
        runOf(200, 1_000, 16, 1, true, ["undici"]),
        runOf(200, 1_000, 64, 3, true, ["undici"]),
        ...(ALL
          ? [
              runOf(50, 1_000, 16, 1, true, ["undici", "sdk"]),
              runOf(50, 1_000, 64, 1, true, ["undici", "sdk"]),
              runOf(50, 10_000, 64, 1, false),
            ]
          : []),
      ],
      memoryCases: [1_000, 100_000],
      // 200,000 jobs take 2–4 minutes here; past this the run is stopped (SIGTERM, as Ctrl-C) and failed.
      memoryTimeoutMs: 300_000,
    };
/** No other single run should take anywhere near this long; a hung one is stopped and failed. */
const RUN_TIMEOUT_MS = 180_000;
const CHECK_CASES = 200;
const MEMORY_CONCURRENCY = 64;
/** The promptfoo row: the first 0 ms row's calls, 1,000 cases × 2 prompts at -j 16. */
const PROMPTFOO_CASES = QUICK ? 200 : 1_000;
const PROMPTFOO_CONCURRENCY = 16;

const TARGETS = {
  /** `--version` and `--help`, each against `node -e 0` in the same rounds. */
  startupRatio: 1.25,
  floorRatio: 1.3,
  /** At 200 ms: eval's jobs/s, spawn to exit, against the bare fetch loop's in the same run. */
  latencyShareOfFloor: 0.95,
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
  if (ONLY.size === 1 && ONLY.has("leak-guard")) {
    const loadBefore = loadavg();
    const leakGuard = await measureLeakGuard(rss);
    notes.push(`load average (1 min) before / after: ${loadBefore} / ${loadavg()}`);
    printReport({ machine, rss, leakGuard });
    return;
  }

  const datasets = new Map();
  const rows = [...PLAN.throughput, ...PLAN.latency];
  for (const n of new Set([
    CHECK_CASES,
    PLAN.firstRequestCases,
    PROMPTFOO_CASES,
    ...rows.map((r) => r.cases),
    ...PLAN.memoryCases,
  ])) {
    datasets.set(n, writeDataset(n));
  }

  const stubs = new Map();
  const latencies = [0, ...(ONLY.has("latency") ? PLAN.latency.map((r) => r.latency) : [])];
  for (const latency of new Set(latencies)) stubs.set(latency, await startStub(latency));
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

  // 1. Start-up, each command against `node -e 0` in the same rounds: one round runs every command
  // once, so a busy minute on the machine slows them all alike and the ratio stands.
  const startup = {};
  if (ONLY.has("startup")) {
    log("start-up …");
    // The last two rows have no target: what a prompt engineer waits for at each try, a rendered
    // prompt and a one-case eval (2 calls to the stub at 0 ms), start-up and exit included.
    const startupConfig = writeConfig(stubs.get(0), CHECK_CASES, datasets, cacheKey);
    const commands = [
      ["node -e 0", ["-e", "0"]],
      ["promptsmith --version", [CLI, "--version"]],
      ["promptsmith --help", [CLI, "--help"]],
      ["promptsmith render (first case)", [CLI, "render", startupConfig]],
      [
        "promptsmith eval --limit 1 (2 calls)",
        [CLI, "eval", startupConfig, "--limit", "1", "--json", ...cacheFlag],
      ],
    ];
    const times = new Map(commands.map(([name]) => [name, []]));
    for (let i = 0; i < PLAN.startupRuns; i++) {
      for (const [name, args] of commands) {
        const run = await measure(args, { env: evalEnv, rss: "none" });
        if (run.code !== 0) throw new Error(`${name} exited ${run.code}: ${run.stderr}`);
        times.get(name).push(run.wallMs);
      }
    }
    for (const [name, list] of times) {
      startup[name] = { median: median(list), min: Math.min(...list), max: Math.max(...list) };
    }
    const base = startup["node -e 0"].median;
    for (const name of ["promptsmith --version", "promptsmith --help"]) {
      const { median: ms } = startup[name];
      targets.push({
        name: `start-up: ${name} ≤ ${TARGETS.startupRatio}× node -e 0 (medians, interleaved)`,
        pass: ms / base <= TARGETS.startupRatio,
        detail: `${fmt(ms / base, 2)}× (${fmt(ms, 0)} ms; node -e 0: ${fmt(base, 0)} ms)`,
      });
    }
  }

  // 2. Time to first request: spawn → the first request at the stub, for 1,000 cases × 2 prompts
  // with shots (random for one prompt, BM25-similar for the other). Eval as users run it (the cache
  // on, from an empty cache, a journal kept) and with the cache off, beside the bare fetch loop
  // (its own dataset, no shots: what Node and a first fetch cost). Each run goes to its end.
  const firstRequest = {};
  if (ONLY.has("first-request")) {
    const cases = PLAN.firstRequestCases;
    log(`time to first request: ${cases} cases × 2 prompts with shots (×${PLAN.firstRequestRuns}) …`);
    const stub = stubs.get(0);
    const config = writeShotsConfig(stub, cases, datasets);
    const tools = {
      "bare fetch loop (no shots)": () => floorArgs(0, cases, 16),
      "eval (cache on, empty; journal)": () => {
        rmSync(join(dirname(config), ".promptsmith"), { recursive: true, force: true });
        return [CLI, "eval", config, "-j", "16", "--json"];
      },
      "eval --no-cache": () => [CLI, "eval", config, "-j", "16", "--json", "--no-cache"],
    };
    const times = Object.fromEntries(Object.keys(tools).map((name) => [name, []]));
    for (let i = 0; i < PLAN.firstRequestRuns; i++) {
      for (const [name, args] of Object.entries(tools)) {
        await stub.reset(false);
        const run = await measure(args(), { env: evalEnv, rss: "none" });
        const stats = await stub.stats();
        // With the cache on, a repeated question is answered from the cache: fewer requests, all results.
        const sent = name.includes("cache on") && stats.requests > 0 ? stats.requests : cases * 2;
        const check = validate(name.startsWith("eval") ? "eval" : "floor", run, stats, cases * 2, sent);
        if (!check.ok) throw new Error(`time to first request, ${name}: ${check.problem}`);
        times[name].push(stats.firstEpochMs - run.startedEpochMs);
      }
    }
    for (const [name, list] of Object.entries(times)) {
      firstRequest[name] = { median: median(list), min: Math.min(...list), max: Math.max(...list) };
    }
  }

  // 3. Throughput at 0 ms, and 4. latency-bound runs at 200 ms: eval against the floor on the same
  // stub, same bodies, same concurrency, the tools taking turns.
  const throughput = [];
  for (const { latency, cases, concurrency, repeats, floor: withFloor, diagnostics } of [
    ...(ONLY.has("throughput") ? PLAN.throughput : []),
    ...(ONLY.has("latency") ? PLAN.latency : []),
  ]) {
    const jobs = cases * 2;
    const stub = stubs.get(latency);
    log(`throughput: ${jobs} jobs, -j ${concurrency}, ${latency} ms latency (×${repeats}) …`);
    const runs = { eval: [], floor: [], undici: [], sdk: [], cached: [] };
    // The cache row only where nothing is waited on: it measures what writing the cache costs.
    const diagnosticTools = diagnostics.filter((t) => t !== "cached" || latency === 0);
    const tools = [...(withFloor ? ["floor"] : []), ...diagnosticTools, "eval"];
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
        runs[tool].push({ ...run, ...validate(tool, run, await stub.stats(), jobs, sent, concurrency) });
      }
    }
    const row = { latency, jobs, concurrency, repeats, eval: medianRun(runs.eval) };
    for (const tool of ["floor", "undici", "sdk", "cached"]) {
      row[tool] = runs[tool].length > 0 ? medianRun(runs[tool]) : null;
    }
    throughput.push(row);
    const { eval: evalRun, floor } = row;
    if (latency === 0) {
      const ratio = evalRun.wallMs / floor.wallMs;
      targets.push({
        name: `throughput: ${jobs} jobs -j ${concurrency} at 0 ms, eval ≤ ${TARGETS.floorRatio}× floor`,
        pass: evalRun.ok && floor.ok && ratio <= TARGETS.floorRatio,
        detail: `${fmt(ratio, 2)}× wall (${fmt(evalRun.wallMs / 1000, 2)} s vs ${fmt(floor.wallMs / 1000, 2)} s); busy window ${fmt(evalRun.windowMs / floor.windowMs, 2)}×; CPU ${fmt(evalRun.cpuS / floor.cpuS, 2)}×${problems(evalRun, floor)}`,
      });
      continue;
    }
    // Spawn to exit: what a user waits for, start-up, first wave and last wave's tail included.
    const ideal = concurrency / (latency / 1000);
    const share = (run) => `${fmt((run.wallRate / ideal) * 100, 1)}%`;
    const shares = [
      `eval ${share(evalRun)}`,
      ...(floor ? [`bare fetch loop ${share(floor)}`] : []),
      ...(row.undici ? [`bare undici loop ${share(row.undici)}`] : []),
    ].join(", ");
    const fixed = (run) =>
      `${fmt(run.startMs, 0)} ms to its first request, ${fmt(run.firstWaveMs, 0)} ms more to its ${concurrency}th, ${fmt(run.endMs, 0)} ms from its last answer to exit`;
    const detail = `of ${fmt(ideal, 0)} jobs/s (concurrency ÷ latency), spawn to exit: ${shares}; over the stub's busy window eval ${fmt((evalRun.windowRate / ideal) * 100, 1)}%${floor ? `, bare fetch loop ${fmt((floor.windowRate / ideal) * 100, 1)}%` : ""}; eval ${fixed(evalRun)}${floor ? `, the bare fetch loop ${fixed(floor)}` : ""}${heldNote(evalRun, latency, ideal)}`;
    if (!floor) {
      notes.push(
        `${jobs} jobs -j ${concurrency} at ${latency} ms (no target): ${detail}${problems(evalRun)}`,
      );
      continue;
    }
    const ratio = evalRun.wallRate / floor.wallRate;
    targets.push({
      name: `latency-bound: ${jobs} jobs -j ${concurrency} at ${latency} ms, whole process, eval ≥ ${TARGETS.latencyShareOfFloor * 100}% of the bare fetch loop's jobs/s`,
      pass: evalRun.ok && floor.ok && ratio >= TARGETS.latencyShareOfFloor,
      detail: `${fmt(ratio * 100, 1)}% (${fmt(evalRun.wallMs / 1000, 2)} s vs ${fmt(floor.wallMs / 1000, 2)} s); ${detail}${problems(evalRun, floor)}`,
    });
  }

  // 5. promptfoo on the same calls, when an install is named (never installed here).
  let promptfoo;
  if (ONLY.has("promptfoo") && PROMPTFOO_BIN) {
    const jobs = PROMPTFOO_CASES * 2;
    log(`promptfoo: ${jobs} jobs, -j ${PROMPTFOO_CONCURRENCY}, 0 ms latency …`);
    const config = writePromptfooConfig(stub0, PROMPTFOO_CASES, datasets);
    const env = {
      ...evalEnv,
      PROMPTFOO_DISABLE_TELEMETRY: "1",
      PROMPTFOO_DISABLE_UPDATE: "1",
      PROMPTFOO_CONFIG_DIR: join(tmp, "promptfoo-home"),
      OPENAI_API_KEY: "sk-no-key-required",
    };
    await stub0.reset(false);
    const pf = await measure(
      [
        "eval",
        "-c",
        config,
        "-j",
        String(PROMPTFOO_CONCURRENCY),
        "--no-cache",
        "--no-table",
        "--no-write",
        "--no-progress-bar",
      ],
      { command: PROMPTFOO_BIN, env, rss },
    );
    const pfStats = await stub0.stats();
    await stub0.reset(false);
    const ev = await measure(evalArgs(0, PROMPTFOO_CASES, PROMPTFOO_CONCURRENCY), { env: evalEnv, rss });
    const evCheck = validate("eval", ev, await stub0.stats(), jobs);
    const pfOk = pf.code === 0 && pfStats.requests === jobs;
    promptfoo = {
      jobs,
      version: firstLine(spawnSync(PROMPTFOO_BIN, ["--version"], { encoding: "utf8", env }).stdout ?? ""),
      promptfoo: pf,
      eval: { ...ev, ...evCheck },
      ok: pfOk && evCheck.ok,
      problem: pfOk
        ? evCheck.problem
        : `promptfoo exit ${pf.code}, stub saw ${pfStats.requests} of ${jobs} requests: ${firstLine(pf.stderr)}`,
    };
  }

  const memory = [];
  async function measureMemory() {
    // 6. Memory: peak RSS against dataset size, writing every case to a .jsonl file.
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

    // 6b. Resuming the large run once it is finished: every job is replayed from its journal, none
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
  }

  if (ONLY.has("memory")) await measureMemory();

  // 7. The leak guard: its cost at a run's start and over a whole run.
  const leakGuard = ONLY.has("leak-guard") ? await measureLeakGuard(rss) : undefined;

  notes.push(
    `load average (1 min) before / after: ${loadBefore} / ${loadavg()} (other work on this machine shows up in wall times; CPU s is less sensitive to it)`,
  );
  printReport({ machine, rss, startup, firstRequest, throughput, promptfoo, memory, leakGuard });
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

function printReport({
  machine,
  rss,
  startup = {},
  firstRequest = {},
  throughput = [],
  promptfoo,
  memory = [],
  leakGuard,
}) {
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
  printMainSections(out, { startup, firstRequest, throughput, promptfoo, memory });
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
    targets.length === 0
      ? "No targets in the sections run."
      : failed === 0
        ? `All ${targets.length} targets met.`
        : `**${failed} of ${targets.length} targets FAILED** (see above).`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

function printMainSections(out, { startup, firstRequest, throughput, promptfoo, memory }) {
  out.push("");
  if (startup["node -e 0"]) {
    out.push(`## Start-up (median of ${PLAN.startupRuns} rounds, each running every command once)`);
    out.push("");
    out.push("| command | median ms | min | max | × node -e 0 |");
    out.push("|---|---:|---:|---:|---:|");
    const base = startup["node -e 0"].median;
    for (const [name, s] of Object.entries(startup)) {
      out.push(
        `| \`${name}\` | ${fmt(s.median, 0)} | ${fmt(s.min, 0)} | ${fmt(s.max, 0)} | ${name === "node -e 0" ? "1.00" : fmt(s.median / base, 2)} |`,
      );
    }
    out.push("");
  }
  if (Object.keys(firstRequest).length > 0) {
    out.push(
      `## Time to first request (${PLAN.firstRequestCases} cases × 2 prompts with shots, spawn → first request at the stub; median of ${PLAN.firstRequestRuns} rounds)`,
    );
    out.push("");
    out.push("| client | median ms | min | max |");
    out.push("|---|---:|---:|---:|");
    for (const [name, s] of Object.entries(firstRequest)) {
      out.push(`| ${name} | ${fmt(s.median, 0)} | ${fmt(s.min, 0)} | ${fmt(s.max, 0)} |`);
    }
    out.push("");
  }
  if (throughput.length > 0) {
    out.push("## Throughput (2 prompts × cases = jobs)");
    out.push("");
    out.push(
      "At 200 ms the rows are latency-bound: the share column is jobs/s spawn to exit over concurrency ÷ latency, the most any client could do.",
    );
    out.push("");
    out.push(
      "| latency | jobs | -j | tool | wall s | × floor | CPU s | jobs/s (wall) | jobs/s (busy window) | share of c ÷ latency (wall) | spawn → 1st request ms | 1st → -j-th request ms | last answer → exit ms | peak RSS MB | check |",
    );
    out.push("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (const row of throughput) {
      const ideal = row.latency > 0 ? row.concurrency / (row.latency / 1000) : undefined;
      for (const tool of ["floor", "undici", "sdk", "cached", "eval"].filter((t) => row[t])) {
        const run = row[tool];
        const ratio = tool === "floor" ? "1.00" : row.floor ? fmt(run.wallMs / row.floor.wallMs, 2) : "–";
        const name = DIAGNOSTICS[tool] ?? tool;
        const share = ideal ? `${fmt((run.wallRate / ideal) * 100, 1)}%` : "–";
        out.push(
          `| ${row.latency} ms | ${row.jobs} | ${row.concurrency} | ${name}${row.repeats > 1 ? ` (median of ${row.repeats})` : ""} | ${fmt(run.wallMs / 1000, 2)} | ${ratio} | ${fmt(run.cpuS, 2)} | ${fmt(run.wallRate, 0)} | ${fmt(run.windowRate, 0)} | ${share} | ${fmt(run.startMs, 0)} | ${fmt(run.firstWaveMs, 1)} | ${fmt(run.endMs, 0)} | ${mb(run.rssKb)} | ${run.ok ? "ok" : `**${run.problem}**`} |`,
        );
      }
    }
    out.push("");
  }
  if (promptfoo) {
    out.push(
      `## promptfoo side by side (${promptfoo.jobs} jobs, -j ${PROMPTFOO_CONCURRENCY}, 0 ms, cache off; ${promptfoo.version || "version unknown"})`,
    );
    out.push("");
    out.push("| tool | wall s | × eval | CPU s | peak RSS MB | check |");
    out.push("|---|---:|---:|---:|---:|---|");
    for (const [name, run] of [
      ["promptfoo", promptfoo.promptfoo],
      ["promptsmith eval", promptfoo.eval],
    ]) {
      out.push(
        `| ${name} | ${fmt(run.wallMs / 1000, 2)} | ${fmt(run.wallMs / promptfoo.eval.wallMs, 2)} | ${fmt(run.cpuS, 2)} | ${mb(run.rssKb)} | ${promptfoo.ok ? "ok" : `**${promptfoo.problem}**`} |`,
      );
    }
    out.push("");
  }
  if (memory.length > 0) {
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
    out.push("");
  }
}

/** Checks a run did all its work: exit 0, every job reported without error, `sent` requests at the stub (default: one per job). */
function validate(tool, run, stats, jobs, sent = jobs, concurrency = undefined) {
  const windowMs = stats.windowMs ?? Number.NaN;
  const result = {
    ok: true,
    problem: null,
    windowMs,
    heldMs: stats.heldMs ?? null,
    // Spawn → first request in, and last answer out → exit: what the busy window leaves out.
    startMs: stats.firstEpochMs == null ? Number.NaN : stats.firstEpochMs - run.startedEpochMs,
    endMs: stats.lastEpochMs == null ? Number.NaN : run.startedEpochMs + run.wallMs - stats.lastEpochMs,
    // First request → the -j-th: how long the first wave took to leave (connections opened, code cold).
    firstWaveMs: concurrency ? (stats.arrivalsMs?.[concurrency - 1] ?? Number.NaN) : Number.NaN,
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

/** Spawns `node <args>` (or `command <args>`) and times it from spawn to exit; peak RSS as chosen by `rss`. */
async function measure(
  args,
  { command: program = process.execPath, env = process.env, rss = "none", timeoutMs = RUN_TIMEOUT_MS } = {},
) {
  const timeFile = join(tmp, `time-${Math.random().toString(36).slice(2)}.txt`);
  const [command, argv] =
    rss === "time" ? ["/usr/bin/time", ["-v", "-o", timeFile, program, ...args]] : [program, args];
  const started = performance.now();
  // On the wall clock, as the stub's first request is: their difference is the time to first request.
  const startedEpochMs = performance.timeOrigin + started;
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
  return { code, wallMs, startedEpochMs, rssKb, cpuS, timedOut, stdout, stderr };
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

/**
 * The time-to-first-request config: 2 prompts with 4 shots each from a 200-row pool, one drawn at
 * random per case and one by BM25 similarity (an index built before the first call).
 */
function writeShotsConfig(stub, cases, datasets) {
  const dir = join(tmp, `config-shots-${cases}`);
  mkdirSync(dir, { recursive: true });
  const pool = join(dir, "train.jsonl");
  writeFileSync(
    pool,
    readFileSync(datasets.get(CHECK_CASES), "utf8").replaceAll('"id":"case-', '"id":"train-'),
  );
  const shots = "{{#each shots}}Q: {{question}}\\nA: {{answer}}\\n\\n{{/each}}";
  const path = join(dir, "promptsmith.yaml");
  const yaml = [
    "providers:",
    `  - id: openai:${MODEL}`,
    `    baseURL: ${stub.url}`,
    "    maxRetries: 0",
    "prompts:",
    "  - id: random-shots",
    `    text: "${shots}Q: {{question}}\\nA:"`,
    `    shots: { from: ${JSON.stringify(pool)}, k: 4, select: random }`,
    "  - id: similar-shots",
    `    text: "${shots}Question: {{question}}\\nAnswer:"`,
    `    shots: { from: ${JSON.stringify(pool)}, k: 4, select: similar }`,
    `tests: { path: ${JSON.stringify(datasets.get(cases))}, expected: answer }`,
    "scorer: numeric",
  ];
  writeFileSync(path, `${yaml.join("\n")}\n`);
  return path;
}

/** The promptfoo config of the 0 ms row's calls: the same two templates, cases from a CSV, no assertions. */
function writePromptfooConfig(stub, cases, datasets) {
  const dir = join(tmp, `promptfoo-${cases}`);
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, "cases.csv");
  const rows = readFileSync(datasets.get(cases), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.stringify(JSON.parse(line).question));
  writeFileSync(csv, `question\n${rows.join("\n")}\n`);
  const path = join(dir, "promptfooconfig.yaml");
  const yaml = [
    "prompts:",
    ...Object.values(TEMPLATES).map((text) => `  - ${JSON.stringify(text)}`),
    "providers:",
    `  - id: openai:chat:${MODEL}`,
    `    config: { apiBaseUrl: ${JSON.stringify(stub.url)}, apiKey: sk-no-key-required }`,
    `tests: ${JSON.stringify(`file://${csv}`)}`,
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
