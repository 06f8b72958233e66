// promptsmith's HTML report page. It reads the run record (or two, side by side) from the JSON block
// and builds every element with createElement and textContent: model output, inputs and expected
// answers reach the page as text, never as markup, so nothing in a record can run. Rows of the case
// matrix are drawn only while they are on screen, so 10,000 cases × 4 variants stay responsive.

(() => {
  /** Height of one matrix row in pixels: --row-h in page.css. */
  const ROW_H = 28;
  /** Rows drawn above and below the visible ones, so a fast scroll shows no gap. */
  const OVERSCAN = 12;
  /** Rows drawn for printing, where nothing scrolls. */
  const PRINT_ROWS = 2000;
  const SEP = "\u0000";

  const app = document.getElementById("app");
  let data;
  try {
    data = JSON.parse(document.getElementById("report-data").textContent);
  } catch (error) {
    app.append(h("p", { class: "notice", text: `This report's data could not be read: ${error}` }));
    return;
  }
  const runs = data.runs;
  const diff = data.kind === "diff";
  const head = runs[runs.length - 1];
  /** How a repeated case counts, the later run's for both (as `compare` and stats/run-diff.ts do). */
  const require = head.record.config?.repeat?.require ?? "majority";

  // ─── Small helpers ──────────────────────────────────────────────────────────────────────────────

  /** An element with a class, text, title and children; attrs are only ever the page's own constants. */
  function h(tag, options = {}, children = []) {
    const node = document.createElement(tag);
    if (options.class) node.className = options.class;
    if (options.text !== undefined) node.textContent = String(options.text);
    if (options.title !== undefined) node.title = String(options.title);
    if (options.attrs)
      for (const [name, value] of Object.entries(options.attrs)) node.setAttribute(name, value);
    for (const child of children)
      if (child !== null && child !== undefined && child !== false) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}, children = []) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    for (const child of children) node.append(child);
    return node;
  }

  function details(summary, children, className, open = false) {
    const node = h("details", { class: className }, [h("summary", { text: summary }), ...children]);
    node.open = open;
    return node;
  }

  /** A definition list from [term, value] pairs, skipping pairs without a value. */
  function dl(pairs, className = "stats") {
    const node = h("dl", { class: className });
    for (const [term, value] of pairs) {
      if (value === undefined || value === null || value === false || value === "") continue;
      node.append(
        h("dt", { text: term }),
        value instanceof Node ? h("dd", {}, [value]) : h("dd", { text: value }),
      );
    }
    return node;
  }

  const pct = (value, digits = 1) => (Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : "–");
  const points = (delta) => `${delta >= 0 ? "+" : "−"}${Math.abs(delta * 100).toFixed(1)} pts`;
  const signed = (delta, digits = 3) => `${delta >= 0 ? "+" : "−"}${Math.abs(delta).toFixed(digits)}`;
  const pValue = (p) => (p < 0.001 ? "< 0.001" : p.toFixed(3));
  const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

  function compact(value) {
    if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
    if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
    if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
    return String(value);
  }

  function duration(ms) {
    if (!Number.isFinite(ms)) return "–";
    if (ms < 1000) return `${Math.round(ms)}ms`;
    if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
    return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
  }

  /** A value as a person reads it: strings bare, everything else as JSON. */
  function show(value) {
    if (value === undefined) return "(none)";
    if (typeof value === "string") return value;
    return JSON.stringify(value);
  }

  const keyOf = (row) => `${row.prompt}${SEP}${row.provider}`;
  const variantName = (row) => `${row.prompt} · ${row.provider}`;

  // ─── The cases, as a matrix of case × variant ───────────────────────────────────────────────────

  /** One run's variants (in summary order) and its results by case id, then by variant. */
  function indexRun(record) {
    const variants = new Map();
    for (const row of record.summary || [])
      variants.set(keyOf(row), { prompt: row.prompt, provider: row.provider });
    const cases = new Map();
    for (const result of record.cases || []) {
      const key = keyOf(result);
      if (!variants.has(key)) variants.set(key, { prompt: result.prompt, provider: result.provider });
      let byVariant = cases.get(result.id);
      if (!byVariant) {
        byVariant = new Map();
        cases.set(result.id, byVariant);
      }
      const list = byVariant.get(key);
      if (list) list.push(result);
      else byVariant.set(key, [result]);
    }
    return { variants, cases };
  }

  /**
   * What a cell's results (one, or several draws or repeats) came to, folded as the summary folds
   * them (stats/fold.ts, and statusOf in stats/run-diff.ts, which this mirrors): each shot draw's
   * repeats pass by `require`; the cell passes when every draw passed, is mixed when some did, and
   * else is an error when every result errored, unparsed when every wrong answer was unparsed.
   * `pass` and `n` count the results themselves, for the cell's label.
   */
  function statusOf(results) {
    if (!results) return undefined;
    const draws = new Map();
    let pass = 0;
    let error = 0;
    let unparsed = 0;
    for (const r of results) {
      const draw = draws.get(r.draw ?? 0) ?? { runs: 0, passes: 0 };
      draw.runs++;
      if (r.error) error++;
      else if (r.pass) {
        pass++;
        draw.passes++;
      } else if (r.unparsed) unparsed++;
      draws.set(r.draw ?? 0, draw);
    }
    const n = results.length;
    const passes = (d) =>
      require === "all" ? d.passes === d.runs : require === "any" ? d.passes > 0 : d.passes * 2 > d.runs;
    const passed = [...draws.values()].filter(passes).length;
    const wrong = n - error - pass;
    const name =
      passed > 0
        ? passed === draws.size
          ? "pass"
          : "mixed"
        : error === n
          ? "error"
          : wrong > 0 && unparsed === wrong
            ? "unparsed"
            : "fail";
    return { name, pass, n };
  }

  const SYMBOL = { pass: "✓", fail: "✗", unparsed: "?", error: "!" };
  function symbolOf(status) {
    if (!status) return "–";
    if (status.name === "mixed") return `${status.pass}/${status.n}`;
    return status.n > 1 ? `${SYMBOL[status.name]} ${status.pass}/${status.n}` : SYMBOL[status.name];
  }

  /**
   * Rows (cases) × columns (variants). With two runs a cell holds both, and `flip` says whether the
   * case went from failing to passing (1) or back (−1); rows with a flip come first, the cases that
   * got worse before those that got better.
   */
  function buildMatrix() {
    const indexed = runs.map((run) => indexRun(run.record));
    const columns = [];
    const seen = new Set();
    for (const run of indexed) {
      for (const [key, variant] of run.variants) {
        if (seen.has(key)) continue;
        seen.add(key);
        columns.push({ key, ...variant });
      }
    }
    const last = indexed[indexed.length - 1];
    const first = diff ? indexed[0] : undefined;
    const ids = [...last.cases.keys()];
    if (first) for (const id of first.cases.keys()) if (!last.cases.has(id)) ids.push(id);
    const rows = ids.map((id, order) => {
      const now = last.cases.get(id);
      const before = first?.cases.get(id);
      const cells = columns.map((column) => {
        const headResults = now?.get(column.key);
        const baseResults = before?.get(column.key);
        const status = statusOf(headResults);
        const baseStatus = statusOf(baseResults);
        let flip = 0;
        // Passing in some shot draws only (accuracy neither 0 nor 1) is no flip, as for `compare`.
        if (first && status && baseStatus && status.name !== "mixed" && baseStatus.name !== "mixed") {
          const was = baseStatus.name === "pass";
          const is = status.name === "pass";
          flip = was === is ? 0 : is ? 1 : -1;
        }
        return { head: headResults, base: baseResults, status, baseStatus, flip };
      });
      const verdicts = cells.filter((c) => c.status).map((c) => c.status.name === "pass");
      return {
        id,
        order,
        cells,
        failing: verdicts.some((v) => !v),
        disagree: verdicts.some((v) => v) && verdicts.some((v) => !v),
        worse: cells.some((c) => c.flip < 0),
        better: cells.some((c) => c.flip > 0),
        text: undefined,
      };
    });
    if (first) {
      const rank = (row) => (row.worse ? 0 : row.better ? 1 : 2);
      rows.sort((a, b) => rank(a) - rank(b) || a.order - b.order);
    }
    return { columns, rows };
  }

  /** Everything the search looks in, lower-cased once, on the first search. */
  function searchText(row) {
    if (row.text === undefined) {
      const parts = [row.id];
      let vars;
      for (const cell of row.cells) {
        for (const list of [cell.head, cell.base]) {
          if (!list) continue;
          for (const r of list) {
            vars ??= r.vars;
            parts.push(r.output ?? "", show(r.expected), r.extracted ?? "");
          }
        }
      }
      if (vars !== undefined) parts.push(JSON.stringify(vars));
      row.text = parts.join("\n").toLowerCase();
    }
    return row.text;
  }

  // ─── The page ───────────────────────────────────────────────────────────────────────────────────

  const matrix = buildMatrix();

  function pageHeader() {
    const record = head.record;
    const title = record.config?.description || runs[0].record.config?.description || "promptsmith report";
    document.title = diff ? `${title} · ${runs[0].label} → ${head.label}` : `${title} · promptsmith`;
    const section = h("header", {}, [h("h1", { text: title })]);
    for (const run of runs) section.append(h("p", { class: "meta", text: runLine(run) }));
    for (const run of runs) {
      const { status, stopReason } = run.record;
      const who = diff ? `${run.label}: ` : "";
      if (status === "interrupted")
        section.append(
          h("p", { class: "notice", text: `${who}interrupted: the numbers cover the cases that finished` }),
        );
      if (status === "stopped")
        section.append(
          h("p", { class: "notice", text: `${who}stopped early: ${stopReason ?? "see the run's output"}` }),
        );
    }
    return section;
  }

  function runLine(run) {
    const r = run.record;
    const jobs = (r.summary || []).reduce((n, row) => n + row.total, 0);
    const elapsed = r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : undefined;
    const selection = r.selection
      ? Object.entries(r.selection)
          .map(([name, value]) => `${name} ${Array.isArray(value) ? value.join(",") : value}`)
          .join(", ")
      : undefined;
    const line = [
      r.runId ? `run ${r.runId}` : undefined,
      `started ${new Date(r.startedAt).toLocaleString()}`,
      elapsed !== undefined ? duration(elapsed) : undefined,
      plural(jobs, "job"),
      r.status,
      r.seed !== undefined ? `seed ${r.seed}` : undefined,
      r.shard ? `shard ${r.shard.index}/${r.shard.count}` : undefined,
      selection ? `only ${selection}` : undefined,
    ]
      .filter(Boolean)
      .join(" · ");
    return diff ? `${run.label}: ${line}` : line;
  }

  function gatesSection() {
    const gates = head.record.gates;
    if (!gates || gates.length === 0) return null;
    const failed = gates.filter((g) => !g.passed).length;
    const list = h(
      "ul",
      { class: "gates" },
      gates.map((gate) =>
        h("li", {}, [
          h("span", {
            class: `badge ${gate.passed ? "s-pass" : "s-fail"}`,
            text: gate.passed ? "pass" : "fail",
          }),
          " ",
          h("code", { text: gate.rule }),
          " ",
          gate.message,
        ]),
      ),
    );
    return h("section", { attrs: { id: "gates" } }, [
      h("h2", {
        text: failed > 0 ? `Gates: ${failed} of ${gates.length} failed` : `Gates: all ${gates.length} passed`,
      }),
      list,
    ]);
  }

  /** An interval drawn on 0–100%, with a mark at the value (and one at the base run's value). */
  function intervalBar(interval, value, baseValue, label) {
    const bar = h("div", { class: "ci", title: label, attrs: { role: "img", "aria-label": label } });
    const band = h("div", { class: "band" });
    band.style.left = `${clamp(interval[0]) * 100}%`;
    band.style.width = `${Math.max(0, clamp(interval[1]) - clamp(interval[0])) * 100}%`;
    bar.append(band);
    if (baseValue !== undefined) {
      const base = h("div", { class: "mark base" });
      base.style.left = `${clamp(baseValue) * 100}%`;
      bar.append(base);
    }
    const mark = h("div", { class: "mark" });
    mark.style.left = `${clamp(value) * 100}%`;
    bar.append(mark);
    return bar;
  }

  const clamp = (x) => Math.min(1, Math.max(0, Number(x) || 0));

  function comparisonsOf(row) {
    return (head.record.comparisons || []).filter(
      (c) => c.prompt === row.prompt && c.provider === row.provider,
    );
  }

  function comparisonLine(c) {
    const delta = c.metric === "score" ? signed(c.delta) : points(c.delta);
    const low = c.metric === "score" ? signed(c.ci95[0]) : points(c.ci95[0]);
    const high = c.metric === "score" ? signed(c.ci95[1]) : points(c.ci95[1]);
    const cls = c.verdict === "better" ? "up" : c.verdict === "worse" ? "down" : "";
    return h("span", { class: cls }, [
      `vs ${c.baseline.prompt} · ${c.baseline.provider}: ${delta} [${low}, ${high}], p ${pValue(c.pHolm)} (Holm) · ${c.verdict}${c.best ? " · best of the sweep" : ""}`,
    ]);
  }

  function summarySection() {
    const rows = head.record.summary || [];
    const baseRows = diff ? new Map((runs[0].record.summary || []).map((r) => [keyOf(r), r])) : new Map();
    const best = Math.max(...rows.map((r) => r.accuracy));
    const cards = rows.map((row) => {
      const base = baseRows.get(keyOf(row));
      const accuracyName = row.samples
        ? `accuracy (maj@${row.samples.n})`
        : row.repeat
          ? `accuracy (${row.repeat.k} repeats, require ${row.repeat.require})`
          : "accuracy";
      const big = h("div", { class: "big", title: accuracyName }, [pct(row.accuracy)]);
      if (base)
        big.append(
          " ",
          h("span", {
            class: "from",
            text: `from ${pct(base.accuracy)} (${points(row.accuracy - base.accuracy)})`,
          }),
        );
      const label = `${accuracyName} ${pct(row.accuracy)}, 95% interval ${pct(row.ci95[0])} to ${pct(row.ci95[1])}`;
      const stats = dl([
        ["95% CI", `${pct(row.ci95[0])} – ${pct(row.ci95[1])}`],
        [
          "answers",
          `${row.passed} pass · ${row.failed} fail · ${row.unparsed} unparsed · ${row.errors} ${row.errors === 1 ? "error" : "errors"} of ${row.total}`,
        ],
        ["compliance", row.compliance !== undefined ? pct(row.compliance) : undefined],
        [
          "mean score",
          row.meanScore !== undefined
            ? `${row.meanScore.toFixed(3)}${row.scoreCi95 ? ` [${row.scoreCi95[0].toFixed(3)}, ${row.scoreCi95[1].toFixed(3)}]` : ""}`
            : undefined,
        ],
        [
          "self-consistency",
          row.samples
            ? `maj@${row.samples.n} ${pct(row.accuracy)} · single sample ${pct(row.samples.singleAccuracy)} · agreement ${pct(row.samples.agreement, 0)}`
            : undefined,
        ],
        [
          "shot draws",
          row.draws
            ? `${row.draws.n} draws: ${pct(row.draws.mean)} ± ${(row.draws.sd * 100).toFixed(1)} (${row.draws.accuracies.map((a) => pct(a)).join(", ")})`
            : undefined,
        ],
        [
          "repeats",
          row.repeat
            ? `pass@${row.repeat.k} ${pct(row.repeat.passAtK)} · pass^${row.repeat.k} ${pct(row.repeat.passHatK)} · pass@1 ${pct(row.repeat.passAt1)} · ${row.repeat.flaky} flaky`
            : undefined,
        ],
        ["flaky cases", row.repeat?.flakyIds?.length ? row.repeat.flakyIds.join(", ") : undefined],
        [
          "latency",
          row.total > row.errors
            ? `p50 ${duration(row.latencyMs.p50)} · p95 ${duration(row.latencyMs.p95)}`
            : undefined,
        ],
        ["tokens", `${compact(row.tokens.prompt)} in · ${compact(row.tokens.completion)} out`],
        [
          "cost",
          typeof row.cost === "number"
            ? `$${row.cost.toFixed(row.cost < 1 ? 4 : 2)} (list price)`
            : undefined,
        ],
        ["from cache", row.cacheHits ? `${row.cacheHits} of ${row.total}` : undefined],
        [
          "leaks",
          row.leaks?.cases
            ? `${plural(row.leaks.cases, "case")} had a copy of itself in an example or passage (${row.leaks.excluded} excluded, ${row.leaks.flagged} flagged)`
            : undefined,
        ],
      ]);
      const comparisons = comparisonsOf(row).map((c) => h("div", {}, [comparisonLine(c)]));
      const isBest = rows.length > 1 && row.accuracy === best;
      return h("article", { class: `card${isBest ? " best" : ""}` }, [
        h("h3", { text: variantName(row) }),
        big,
        intervalBar(row.ci95, row.accuracy, base?.accuracy, label),
        stats,
        ...comparisons,
      ]);
    });
    return h("section", { attrs: { id: "summary" } }, [
      h("h2", { text: diff ? `Variants (${head.label}, against ${runs[0].label})` : "Variants" }),
      h("div", { class: "cards" }, cards),
    ]);
  }

  /** Two runs: per variant, the accuracy before and after and the cases that flipped each way. */
  function changesSection() {
    if (!diff) return null;
    const before = new Map((runs[0].record.summary || []).map((r) => [keyOf(r), r]));
    const after = new Map((head.record.summary || []).map((r) => [keyOf(r), r]));
    const body = matrix.columns.map((column, index) => {
      let fixed = 0;
      let broken = 0;
      for (const row of matrix.rows) {
        const flip = row.cells[index].flip;
        if (flip > 0) fixed++;
        if (flip < 0) broken++;
      }
      const a = before.get(column.key);
      const b = after.get(column.key);
      const delta = a && b ? b.accuracy - a.accuracy : undefined;
      return h("tr", {}, [
        h("td", { text: variantName(column) }),
        h("td", { class: "num", text: a ? pct(a.accuracy) : "–" }),
        h("td", { class: "num", text: b ? pct(b.accuracy) : "–" }),
        h("td", {
          class: `num ${delta > 0 ? "up" : delta < 0 ? "down" : ""}`,
          text: delta === undefined ? "–" : points(delta),
        }),
        h("td", { class: "num up", text: String(fixed) }),
        h("td", { class: "num down", text: String(broken) }),
      ]);
    });
    const headRow = h(
      "tr",
      {},
      ["variant", runs[0].label, head.label, "change", "fail → pass", "pass → fail"].map((text, i) =>
        h("th", { class: i > 0 ? "num" : "", text }),
      ),
    );
    return h("section", { attrs: { id: "changes" } }, [
      h("h2", { text: `Changes: ${runs[0].label} → ${head.label}` }),
      h("table", {}, [h("thead", {}, [headRow]), h("tbody", {}, body)]),
    ]);
  }

  function comparisonsSection() {
    const comparisons = head.record.comparisons;
    if (!comparisons || comparisons.length === 0) return null;
    // One scale for every row's interval, symmetric around no difference.
    const reach = Math.max(0.05, ...comparisons.flatMap((c) => [Math.abs(c.ci95[0]), Math.abs(c.ci95[1])]));
    const toUnit = (x) => 0.5 + x / (2 * reach);
    const rows = comparisons.map((c) => {
      const isScore = c.metric === "score";
      const value = (v) => (isScore ? v.toFixed(3) : pct(v));
      const change = (v) => (isScore ? signed(v) : points(v));
      const label = `${change(c.delta)}, 95% interval ${change(c.ci95[0])} to ${change(c.ci95[1])}`;
      const bar = intervalBar([toUnit(c.ci95[0]), toUnit(c.ci95[1])], toUnit(c.delta), undefined, label);
      const zero = h("div", { class: "zero" });
      zero.style.left = "50%";
      bar.append(zero);
      return h("tr", {}, [
        h("td", { text: `${variantName(c)}${c.best ? " ★" : ""}` }),
        h("td", { text: variantName(c.baseline) }),
        h("td", { text: c.metric }),
        h("td", { class: "num", text: `${c.n}${c.excluded ? ` (−${c.excluded})` : ""}` }),
        h("td", { class: "num", text: `${value(c.baselineValue)} → ${value(c.value)}` }),
        h("td", { class: "num", text: `${change(c.delta)} [${change(c.ci95[0])}, ${change(c.ci95[1])}]` }),
        h("td", {}, [bar]),
        h("td", { class: "num", text: `${pValue(c.p)} / ${pValue(c.pHolm)}` }),
        h("td", { class: "num", text: `${c.wins} / ${c.losses}` }),
        h("td", {
          class: c.verdict === "better" ? "up" : c.verdict === "worse" ? "down" : "",
          text: c.verdict,
        }),
      ]);
    });
    const headRow = h(
      "tr",
      {},
      [
        "variant",
        "baseline",
        "metric",
        "pairs",
        "value",
        "difference",
        "",
        "p / Holm",
        "wins / losses",
        "verdict",
      ].map((text) => h("th", { text })),
    );
    return h("section", { attrs: { id: "comparisons" } }, [
      h("h2", { text: "Against the baseline (paired)" }),
      h("table", {}, [h("thead", {}, [headRow]), h("tbody", {}, rows)]),
    ]);
  }

  /**
   * Sweeps: accuracy against a numeric swept value (k, preferably), one chart per configured prompt
   * and provider, one line per combination of the other swept values, each with its 95% band; the
   * single-sample accuracy dashed beside maj@n when the prompt votes.
   */
  function sweepSection() {
    const record = head.record;
    const specs = new Map((record.config?.prompts || []).filter((p) => p.sweep).map((p) => [p.id, p]));
    if (specs.size === 0) return null;
    const byBase = new Map();
    for (const spec of specs.values()) {
      const base = spec.baseId ?? spec.id;
      if (!byBase.has(base)) byBase.set(base, []);
      byBase.get(base).push(spec);
    }
    const axisOf = new Map();
    for (const [base, list] of byBase) {
      const numeric = Object.keys(list[0].sweep).filter((name) =>
        list.every((p) => typeof p.sweep[name] === "number"),
      );
      if (numeric.length > 0) axisOf.set(base, numeric.includes("k") ? "k" : numeric[0]);
    }
    const charts = new Map();
    for (const row of record.summary || []) {
      const spec = specs.get(row.prompt);
      if (!spec) continue;
      const base = spec.baseId ?? spec.id;
      const axis = axisOf.get(base);
      if (!axis) continue;
      const chartKey = `${base}${SEP}${row.provider}`;
      if (!charts.has(chartKey))
        charts.set(chartKey, {
          title: `${base} · ${row.provider}: accuracy by ${axis}`,
          axis,
          series: new Map(),
        });
      const chart = charts.get(chartKey);
      const rest = Object.entries(spec.sweep)
        .filter(([name]) => name !== axis)
        .map(([name, value]) => `${name}=${show(value)}`)
        .join(", ");
      const name = rest || "accuracy";
      if (!chart.series.has(name)) chart.series.set(name, { name, points: [], single: [] });
      const series = chart.series.get(name);
      const x = spec.sweep[axis];
      series.points.push({ x, y: row.accuracy, lo: row.ci95[0], hi: row.ci95[1] });
      if (row.samples) series.single.push({ x, y: row.samples.singleAccuracy });
    }
    const drawn = [...charts.values()].filter((c) => [...c.series.values()].some((s) => s.points.length > 1));
    if (drawn.length === 0) return null;
    return h("section", { attrs: { id: "sweeps" } }, [
      h("h2", { text: "Sweeps" }),
      h("div", { class: "charts" }, drawn.map(lineChart)),
    ]);
  }

  function lineChart(chart) {
    const W = 460;
    const H = 220;
    const M = { left: 44, right: 14, top: 10, bottom: 34 };
    const series = [...chart.series.values()];
    for (const s of series) {
      s.points.sort((a, b) => a.x - b.x);
      s.single.sort((a, b) => a.x - b.x);
    }
    const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
    const lo = xs[0];
    const hi = xs[xs.length - 1];
    const x = (v) => M.left + (hi === lo ? 0.5 : (v - lo) / (hi - lo)) * (W - M.left - M.right);
    const y = (v) => M.top + (1 - v) * (H - M.top - M.bottom);
    const parts = [];
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      parts.push(svg("line", { class: "axis", x1: M.left, x2: W - M.right, y1: y(tick), y2: y(tick) }));
      const label = svg("text", { x: M.left - 6, y: y(tick) + 4, "text-anchor": "end" });
      label.textContent = `${tick * 100}%`;
      parts.push(label);
    }
    for (const v of xs) {
      const label = svg("text", { x: x(v), y: H - M.bottom + 16, "text-anchor": "middle" });
      label.textContent = String(v);
      parts.push(label);
    }
    const axisName = svg("text", { x: (M.left + W - M.right) / 2, y: H - 4, "text-anchor": "middle" });
    axisName.textContent = chart.axis;
    parts.push(axisName);
    const legend = h("div", { class: "legend" });
    series.forEach((s, i) => {
      const color = `c${i % 6}`;
      const band = [
        ...s.points.map((p) => `${x(p.x)},${y(p.hi)}`),
        ...[...s.points].reverse().map((p) => `${x(p.x)},${y(p.lo)}`),
      ];
      parts.push(svg("polygon", { class: `band ${color}`, points: band.join(" ") }));
      parts.push(
        svg("polyline", {
          class: `line ${color}`,
          points: s.points.map((p) => `${x(p.x)},${y(p.y)}`).join(" "),
        }),
      );
      if (s.single.length > 1) {
        parts.push(
          svg("polyline", {
            class: `line ${color}`,
            "stroke-dasharray": "4 3",
            points: s.single.map((p) => `${x(p.x)},${y(p.y)}`).join(" "),
          }),
        );
      }
      for (const p of s.points) {
        const title = svg("title");
        title.textContent = `${s.name} · ${chart.axis}=${p.x}: ${pct(p.y)} (95% CI ${pct(p.lo)}–${pct(p.hi)})`;
        parts.push(svg("circle", { class: color, cx: x(p.x), cy: y(p.y), r: 3.5 }, [title]));
      }
      legend.append(h("span", {}, [h("span", { class: `swatch ${color}` }), s.name]));
      if (s.single.length > 1) legend.append(h("span", { text: `(dashed: ${s.name}, one sample)` }));
    });
    const figure = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": chart.title }, parts);
    return h("figure", { class: "chart" }, [h("h3", { text: chart.title }), figure, legend]);
  }

  // ─── The case matrix ────────────────────────────────────────────────────────────────────────────

  const state = { filter: "all", query: "", visible: matrix.rows, selected: undefined };
  const scroller = h("div", { class: "matrix", attrs: { id: "matrix", tabindex: "0" } });
  const sizer = h("div", { class: "sizer" });
  const count = h("span", { class: "meta", attrs: { id: "count", "aria-live": "polite" } });
  const detail = h("aside", { class: "detail", attrs: { id: "detail" } }, [
    h("p", {
      class: "empty",
      text: "Click a cell to see the messages sent, the answer and how it was scored.",
    }),
  ]);

  function casesSection() {
    const filter = h("select", { attrs: { id: "filter", "aria-label": "which cases" } }, [
      h("option", { text: "all cases", attrs: { value: "all" } }),
      h("option", {
        text: diff ? `failing in ${head.label}` : "failing in any variant",
        attrs: { value: "failing" },
      }),
      h("option", { text: "variants disagree", attrs: { value: "disagree" } }),
      diff
        ? h("option", {
            text: `flipped between ${runs[0].label} and ${head.label}`,
            attrs: { value: "flips" },
          })
        : null,
    ]);
    filter.addEventListener("change", () => {
      state.filter = filter.value;
      applyFilters();
    });
    const search = h("input", {
      attrs: {
        id: "search",
        type: "search",
        placeholder: "search input, output, expected",
        "aria-label": "search",
      },
    });
    let timer;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.query = search.value.trim().toLowerCase();
        applyFilters();
      }, 120);
    });
    const headRow = h("div", { class: "mrow mhead" }, [
      h("div", { text: "case" }),
      ...matrix.columns.map((column) => h("div", { text: variantName(column), title: variantName(column) })),
    ]);
    scroller.style.setProperty(
      "--cols",
      `minmax(7rem, 14rem) repeat(${matrix.columns.length}, minmax(6rem, 1fr))`,
    );
    scroller.append(headRow, sizer);
    let pending = false;
    scroller.addEventListener("scroll", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        drawRows();
      });
    });
    sizer.addEventListener("click", (event) => {
      const button = event.target.closest("button.cell");
      if (!button) return;
      const row = state.visible[Number(button.dataset.row)];
      const column = Number(button.dataset.col);
      state.selected = { id: row.id, column };
      for (const other of sizer.querySelectorAll("button.cell.selected")) other.classList.remove("selected");
      button.classList.add("selected");
      showDetail(row, column);
    });
    const legend = h("span", {
      class: "meta",
      text: "✓ pass · ✗ fail · ? unparsed · ! error · n/m passed of several",
    });
    return h("section", { attrs: { id: "cases" } }, [
      h("h2", { text: "Cases" }),
      h("div", { class: "toolbar" }, [filter, search, count, legend]),
      h("div", { class: "explorer" }, [scroller, detail]),
    ]);
  }

  function applyFilters() {
    const { filter, query } = state;
    state.visible = matrix.rows.filter((row) => {
      if (filter === "failing" && !row.failing) return false;
      if (filter === "disagree" && !row.disagree) return false;
      if (filter === "flips" && !(row.worse || row.better)) return false;
      return !query || searchText(row).includes(query);
    });
    count.textContent = `${state.visible.length} of ${plural(matrix.rows.length, "case")}`;
    scroller.scrollTop = 0;
    drawRows();
  }

  function drawRows(all = false) {
    const rows = state.visible;
    if (rows.length === 0) {
      sizer.replaceChildren(h("p", { class: "empty", text: "No case matches." }));
      sizer.style.height = "auto";
      return;
    }
    const top = Math.max(0, scroller.scrollTop - sizer.offsetTop);
    const from = all ? 0 : Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const to = all
      ? Math.min(rows.length, PRINT_ROWS)
      : Math.min(rows.length, Math.ceil((top + scroller.clientHeight) / ROW_H) + OVERSCAN);
    const drawn = [];
    for (let i = from; i < to; i++) drawn.push(rowElement(rows[i], i));
    sizer.replaceChildren(...drawn);
    sizer.style.height = all ? "auto" : `${rows.length * ROW_H}px`;
  }

  function rowElement(row, index) {
    const node = h("div", { class: `mrow${row.worse || row.better ? " flip" : ""}` }, [
      h("div", { class: "id", text: row.id, title: `case ${row.id}` }),
    ]);
    node.style.top = `${index * ROW_H}px`;
    row.cells.forEach((cell, column) => {
      const text = diff ? `${symbolOf(cell.baseStatus)} → ${symbolOf(cell.status)}` : symbolOf(cell.status);
      const selected = state.selected && state.selected.id === row.id && state.selected.column === column;
      const classes = [
        "cell",
        "badge",
        `s-${cell.status ? cell.status.name : "none"}`,
        cell.flip ? "flipped" : "",
        selected ? "selected" : "",
      ];
      const button = h("button", {
        class: classes.filter(Boolean).join(" "),
        text,
        title: `${variantName(matrix.columns[column])}: ${cell.status ? cell.status.name : "no result"}`,
        attrs: { type: "button", "data-row": String(index), "data-col": String(column) },
      });
      node.append(button);
    });
    return node;
  }

  function showDetail(row, column) {
    const variant = matrix.columns[column];
    const cell = row.cells[column];
    const title = h("h3", { text: `case ${row.id} · ${variantName(variant)}` });
    if (!diff) {
      detail.replaceChildren(title, resultsView(cell.head));
      return;
    }
    const flip = cell.flip > 0 ? "fail → pass" : cell.flip < 0 ? "pass → fail" : undefined;
    detail.replaceChildren(
      title,
      flip ? h("p", { class: cell.flip > 0 ? "up" : "down", text: `flipped: ${flip}` }) : null,
      h("div", { class: "sides" }, [
        h("div", {}, [h("h3", { text: runs[0].label }), resultsView(cell.base)]),
        h("div", {}, [h("h3", { text: head.label }), resultsView(cell.head)]),
      ]),
    );
  }

  function resultsView(results) {
    if (!results) return h("p", { class: "empty", text: "No result for this case in this run." });
    return h("div", {}, results.map(resultView));
  }

  function resultView(r) {
    const status = statusOf([r]).name;
    const tags = [
      r.draw !== undefined ? `draw ${r.draw + 1}` : undefined,
      r.repeat !== undefined ? `repeat ${r.repeat + 1}` : undefined,
      r.cached ? "from the cache" : undefined,
    ].filter(Boolean);
    const context = r.context?.length
      ? r.context.map((c) => `${c.source}#${c.index} (score ${Number(c.score).toFixed(3)})`).join(", ")
      : undefined;
    const leaks = r.leaks?.length
      ? r.leaks.map((l) => `${l.id} in ${l.source}: ${l.kind}, ${l.action}`).join("; ")
      : undefined;
    return h("div", { class: "result" }, [
      h("div", {}, [
        h("span", { class: `badge s-${status}`, text: status }),
        tags.length ? ` ${tags.join(" · ")}` : null,
      ]),
      dl([
        ["expected", show(r.expected)],
        ["extracted", r.extracted === null || r.extracted === undefined ? "(nothing)" : r.extracted],
        ["score", typeof r.score === "number" ? String(r.score) : undefined],
        ["reason", r.reason],
        ["error", r.error ? `${r.error.kind}: ${r.error.message}` : undefined],
        ["agreement", r.agreement !== undefined ? pct(r.agreement, 0) : undefined],
        ["shots", r.shots?.length ? r.shots.join(", ") : undefined],
        ["passages", context],
        ["leaks", leaks],
        ["tokens", r.tokens ? `${r.tokens.prompt} in · ${r.tokens.completion} out` : undefined],
        ["latency", Number.isFinite(r.latencyMs) ? duration(r.latencyMs) : undefined],
        ["prompt hash", r.promptHash],
      ]),
      h("div", { class: "msg" }, [
        h("div", { class: "role", text: "output" }),
        ...outputView(r.output, r.reasoning),
      ]),
      r.samples?.length
        ? details(
            `${plural(r.samples.length, "sample")} (the verdict is their majority vote)`,
            r.samples.map((s, i) =>
              h("div", { class: "msg" }, [
                h("div", {
                  class: "role",
                  text: `sample ${i + 1}: ${s.pass ? "pass" : s.unparsed ? "unparsed" : "fail"} · extracted ${s.extracted ?? "(nothing)"}`,
                }),
                ...outputView(s.output, s.reasoning),
              ]),
            ),
          )
        : null,
      r.extraction
        ? details("answer extraction call", [
            ...messagesView(r.extraction.messages),
            ...outputView(r.extraction.output),
          ])
        : null,
      details(`messages sent (${r.messages?.length ?? 0})`, messagesView(r.messages), "", true),
      r.vars && Object.keys(r.vars).length
        ? details("input variables", [
            dl(Object.entries(r.vars).map(([name, value]) => [name, h("pre", { text: show(value) })])),
          ])
        : null,
    ]);
  }

  function messagesView(messages) {
    return (messages || []).map((m) =>
      h("div", { class: "msg" }, [
        h("div", { class: "role", text: m.role }),
        h("pre", { text: show(m.content) }),
      ]),
    );
  }

  /** The answer as text; its reasoning, and any <think> block left in it, folded. */
  function outputView(output, reasoning) {
    const parts = [];
    if (reasoning) parts.push(details("reasoning", [h("pre", { text: reasoning })], "think"));
    if (output === null || output === undefined) {
      parts.push(h("p", { class: "empty", text: "(no output: the call failed)" }));
      return parts;
    }
    let shown = "";
    let last = 0;
    for (const match of output.matchAll(/<think>([\s\S]*?)(?:<\/think>|$)/g)) {
      shown += output.slice(last, match.index);
      parts.push(details("<think>", [h("pre", { text: match[1] })], "think"));
      last = match.index + match[0].length;
    }
    shown += output.slice(last);
    parts.push(h("pre", { class: "output", text: shown }));
    return parts;
  }

  // ─── Assembly ───────────────────────────────────────────────────────────────────────────────────

  app.append(
    ...[
      pageHeader(),
      gatesSection(),
      changesSection(),
      summarySection(),
      sweepSection(),
      comparisonsSection(),
      casesSection(),
      h("footer", {
        text: `promptsmith report · run record version ${head.record.version}${head.record.config?.configPath ? ` · ${head.record.config.configPath}` : ""}`,
      }),
    ].filter(Boolean),
  );
  applyFilters();
  // Paper does not scroll: print the rows themselves (up to PRINT_ROWS), then go back.
  window.addEventListener("beforeprint", () => drawRows(true));
  window.addEventListener("afterprint", () => drawRows());
  document.body.dataset.ready = "true";
})();
