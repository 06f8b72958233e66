/**
 * JUnit XML (`-o results.xml`), the format every CI shows as tests: one `<testsuite>` per
 * prompt × provider, one `<testcase>` per case (name = case id, classname = prompt · provider),
 * `<failure>` for a wrong answer (type "wrong") or one that could not be read (type "unparsed", or
 * `<skipped>` when asked), `<error>` for a call that failed. A case run several times (`repeat: k`)
 * is one test case, folded as the summary folds it, so the counts are the summary's. Failed quality gates, when the record
 * has them, are a last suite of their own, so a gate that fails is red in the CI's test view too.
 * Model output is untrusted: characters XML 1.0 cannot hold (and other control characters) are
 * removed, everything else is escaped, so any output gives a well-formed file.
 */
import type { CaseResult, Comparison, GateResult, RunRecord, SummaryRow } from "../record/types.js";
import { emptyTally, foldedFailure, foldedPass, type RepeatRequire, tallyRun } from "../stats/fold.js";
import { oneLine, showValue } from "./text.js";

/** Options of the JUnit reporter. */
export interface JunitOptions {
  /** How an unparsed answer counts: a failure of type "unparsed" (default) or a skipped test. */
  unparsed?: "failure" | "skipped";
}

/** Output longer than this is cut in a failure's text: CI views choke on megabyte test logs. */
const MAX_OUTPUT = 10_000;

// Everything XML 1.0 allows (tab, newline, carriage return and the ranges below) except DEL and
// the C1 controls, which it allows but which no CI view shows usefully; lone surrogates fall out too.
const NOT_XML = /[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Text for an XML element: unusable characters removed, `&`, `<`, `>` escaped. */
export function xmlText(text: string): string {
  return text.replace(NOT_XML, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Text for a double-quoted XML attribute: as xmlText, plus quotes and the whitespace a parser would fold. */
export function xmlAttribute(text: string): string {
  return xmlText(text)
    .replace(/"/g, "&quot;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;")
    .replace(/\t/g, "&#9;");
}

const attributes = (values: Record<string, string | number | undefined>): string =>
  Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${xmlAttribute(String(value))}"`)
    .join("");

/** Seconds with millisecond precision, as JUnit's `time` wants them. */
const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

interface Tally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  timeMs: number;
}

/** The JUnit XML of a run record (every case in the record becomes a test case). */
export function renderJunit(record: RunRecord, options: JunitOptions = {}): string {
  const skipUnparsed = options.unparsed === "skipped";
  const groups = new Map<string, CaseResult[]>();
  const keyOf = (prompt: string, provider: string) => `${prompt}\u0000${provider}`;
  // Suites in the summary's order; variants with cases but no summary row (a partial record) after.
  for (const row of record.summary) groups.set(keyOf(row.prompt, row.provider), []);
  for (const result of record.cases) {
    const key = keyOf(result.prompt, result.provider);
    let list = groups.get(key);
    if (!list) {
      list = [];
      groups.set(key, list);
    }
    list.push(result);
  }
  const rows = new Map(record.summary.map((row) => [keyOf(row.prompt, row.provider), row]));
  const comparisons = new Map((record.comparisons ?? []).map((c) => [keyOf(c.prompt, c.provider), c]));
  // JUnit's timestamp is an xs:dateTime without a zone: the run's start in UTC.
  const timestamp = record.startedAt.slice(0, 19);

  const total: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 };
  const suites: string[] = [];
  let id = 0;
  for (const [key, cases] of groups) {
    const [prompt, provider] = key.split("\u0000");
    const tally: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 };
    const require = rows.get(key)?.repeat?.require ?? "majority";
    const body = unitsOf(cases).map((runs) =>
      runs.length === 1 && runs[0].repeat === undefined
        ? testCase(runs[0], `${prompt} · ${provider}`, skipUnparsed, tally)
        : repeatedCase(runs, `${prompt} · ${provider}`, require, skipUnparsed, tally),
    );
    const properties = suiteProperties(rows.get(key), comparisons.get(key));
    suites.push(
      `  <testsuite${attributes({
        name: `${prompt} · ${provider}`,
        id: id++,
        tests: tally.tests,
        failures: tally.failures,
        errors: tally.errors,
        skipped: tally.skipped,
        time: seconds(tally.timeMs),
        timestamp,
      })}>\n${properties}${body.join("")}  </testsuite>\n`,
    );
    add(total, tally);
  }
  if (record.gates && record.gates.length > 0) {
    const tally: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 };
    const body = record.gates.map((gate) => gateCase(gate, tally));
    suites.push(
      `  <testsuite${attributes({
        name: "promptsmith quality gates",
        id: id++,
        tests: tally.tests,
        failures: tally.failures,
        errors: 0,
        skipped: 0,
        time: "0.000",
        timestamp,
      })}>\n${body.join("")}  </testsuite>\n`,
    );
    add(total, tally);
  }
  const name = ["promptsmith", record.config.description].filter(Boolean).join(" · ");
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites${attributes({
      name,
      tests: total.tests,
      failures: total.failures,
      errors: total.errors,
      skipped: total.skipped,
      time: seconds(total.timeMs),
      timestamp,
    })}>\n${suites.join("")}</testsuites>\n`
  );
}

function add(into: Tally, more: Tally): void {
  into.tests += more.tests;
  into.failures += more.failures;
  into.errors += more.errors;
  into.skipped += more.skipped;
  into.timeMs += more.timeMs;
}

/** The variant's numbers as `<property>`s: accuracy and its interval, and the comparison when there is one. */
function suiteProperties(row: SummaryRow | undefined, comparison: Comparison | undefined): string {
  const values: [string, string | number][] = [];
  if (row) {
    values.push(
      ["accuracy", row.accuracy],
      ["accuracy.ci95.low", row.ci95[0]],
      ["accuracy.ci95.high", row.ci95[1]],
      ["unparsed", row.unparsed],
    );
    if (row.meanScore !== undefined) values.push(["score.mean", row.meanScore]);
  }
  if (comparison) {
    values.push(
      ["comparison.baseline", `${comparison.baseline.prompt} · ${comparison.baseline.provider}`],
      ["comparison.metric", comparison.metric],
      ["comparison.delta", comparison.delta],
      ["comparison.ci95.low", comparison.ci95[0]],
      ["comparison.ci95.high", comparison.ci95[1]],
      ["comparison.p", comparison.p],
      ["comparison.pHolm", comparison.pHolm],
      ["comparison.verdict", comparison.verdict],
    );
  }
  if (values.length === 0) return "";
  const lines = values.map(([name, value]) => `      <property${attributes({ name, value })}/>\n`);
  return `    <properties>\n${lines.join("")}    </properties>\n`;
}

function testCase(result: CaseResult, classname: string, skipUnparsed: boolean, tally: Tally): string {
  tally.tests++;
  tally.timeMs += result.latencyMs;
  const name = [
    result.id,
    result.draw !== undefined ? `draw ${result.draw}` : undefined,
    result.repeat !== undefined ? `run ${result.repeat}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(" · ");
  const open = `    <testcase${attributes({ name, classname, time: seconds(result.latencyMs) })}`;
  if (result.error) {
    tally.errors++;
    const message = `${result.error.kind}: ${result.error.message}`;
    return `${open}>\n      <error${attributes({ message: oneLine(message, 500), type: result.error.kind })}>${xmlText(message)}</error>\n    </testcase>\n`;
  }
  if (result.pass) return `${open}/>\n`;
  const expected = oneLine(showValue(result.expected), 200);
  if (result.unparsed && skipUnparsed) {
    tally.skipped++;
    return `${open}>\n      <skipped${attributes({ message: `unparsed: no answer could be read (expected ${expected})` })}/>\n    </testcase>\n`;
  }
  tally.failures++;
  const type = result.unparsed ? "unparsed" : "wrong";
  const message = result.unparsed
    ? `no answer could be read (expected ${expected})`
    : `expected ${expected}, extracted ${oneLine(result.extracted ?? "(nothing)", 200)}`;
  const output = result.output ?? "";
  const text = [
    `expected: ${showValue(result.expected)}`,
    `extracted: ${result.extracted ?? "(nothing)"}`,
    `reason: ${result.reason}`,
    "output:",
    clip(output),
  ].join("\n");
  return `${open}>\n      <failure${attributes({ message, type })}>${xmlText(text)}</failure>\n    </testcase>\n`;
}

/** The cases of one variant, a repeated case's runs (which come one after another) kept together. */
function unitsOf(cases: CaseResult[]): CaseResult[][] {
  const units: CaseResult[][] = [];
  for (const result of cases) {
    const last = units.at(-1);
    if (result.repeat !== undefined && last && last[0].id === result.id && last[0].draw === result.draw)
      last.push(result);
    else units.push([result]);
  }
  return units;
}

/** A case run k times, as one test case: passed, errored or failed as the summary folds its runs. */
function repeatedCase(
  runs: CaseResult[],
  classname: string,
  require: RepeatRequire,
  skipUnparsed: boolean,
  tally: Tally,
): string {
  const fold = emptyTally();
  for (const run of runs) tallyRun(fold, run);
  const [first] = runs;
  const timeMs = runs.reduce((ms, run) => ms + run.latencyMs, 0);
  tally.tests++;
  tally.timeMs += timeMs;
  const name = [first.id, first.draw !== undefined ? `draw ${first.draw}` : undefined]
    .filter((part) => part !== undefined)
    .join(" · ");
  const open = `    <testcase${attributes({ name, classname, time: seconds(timeMs) })}`;
  if (foldedPass(fold, require)) return `${open}/>\n`;
  const verdict = `${fold.passes} of ${runs.length} runs passed (require: ${require})`;
  const lines = runs.map(
    (run) =>
      `run ${run.repeat ?? 0}: ${run.error ? `error ${run.error.kind}: ${run.error.message}` : `${run.pass ? "passed" : run.unparsed ? "unparsed" : "wrong"}, extracted ${run.extracted ?? "(nothing)"}`}`,
  );
  const shown = runs.find((run) => !run.pass && !run.error) ?? first;
  const text = [
    verdict,
    `expected: ${showValue(first.expected)}`,
    ...lines,
    ...(shown.output ? [`output of run ${shown.repeat ?? 0}:`, clip(shown.output)] : []),
  ].join("\n");
  const kind = foldedFailure(fold);
  if (kind === "error") {
    tally.errors++;
    return `${open}>\n      <error${attributes({ message: `every run failed: ${oneLine(`${first.error?.kind}: ${first.error?.message}`, 400)}`, type: first.error?.kind ?? "error" })}>${xmlText(text)}</error>\n    </testcase>\n`;
  }
  if (kind === "unparsed" && skipUnparsed) {
    tally.skipped++;
    return `${open}>\n      <skipped${attributes({ message: `unparsed: ${verdict}` })}/>\n    </testcase>\n`;
  }
  tally.failures++;
  return `${open}>\n      <failure${attributes({ message: verdict, type: kind === "unparsed" ? "unparsed" : "wrong" })}>${xmlText(text)}</failure>\n    </testcase>\n`;
}

function clip(output: string): string {
  return output.length > MAX_OUTPUT
    ? `${output.slice(0, MAX_OUTPUT)}\n… (${output.length - MAX_OUTPUT} more characters)`
    : output;
}

function gateCase(gate: GateResult, tally: Tally): string {
  tally.tests++;
  const open = `    <testcase${attributes({
    name: `${gate.rule}: ${gate.prompt} · ${gate.provider}`,
    classname: "gates",
    time: "0.000",
  })}`;
  if (gate.passed) return `${open}/>\n`;
  tally.failures++;
  return `${open}>\n      <failure${attributes({ message: gate.message, type: `gate:${gate.rule}` })}>${xmlText(
    `${gate.message}\nmeasured ${gate.actual}, limit ${gate.limit}`,
  )}</failure>\n    </testcase>\n`;
}
