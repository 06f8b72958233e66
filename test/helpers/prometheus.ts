/**
 * A strict reader of the Prometheus text exposition format 0.0.4, written from its specification
 * (prometheus.io/docs/instrumenting/exposition_formats/, "Text format details") rather than from
 * prom-client, so a test that reads /metrics through it checks the format, not the library against itself.
 * Every line must be a HELP, TYPE, comment, blank or sample line; anything else throws with its line number.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family: its TYPE, HELP and samples. */
export interface Family {
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_NAME = "[a-zA-Z_][a-zA-Z0-9_]*";
// A label value: any characters, with backslash, double quote and line feed escaped.
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const LABEL = `${LABEL_NAME}=${LABEL_VALUE}`;
const FLOAT = "[+-]?(?:Inf|NaN|(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";
const SAMPLE = new RegExp(
  `^(${METRIC_NAME})(?:\\{((?:${LABEL}(?:,${LABEL})*)?,?)\\})?[ \\t]+(${FLOAT})(?:[ \\t]+(-?\\d+))?[ \\t]*$`,
);
const HELP = new RegExp(`^# HELP (${METRIC_NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);

/** Parses and checks an exposition; throws `line N: …` at the first line or rule it breaks. */
export function parseExposition(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, Family>();
  const helped = new Set<string>();
  // Families whose samples are over: a family's samples must not be interleaved with another's.
  const closed = new Set<string>();
  let current: string | undefined;
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((line, index) => {
    const fail = (message: string): never => {
      throw new Error(`line ${index + 1}: ${message}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === "") return;
    const help = HELP.exec(line);
    if (help) {
      if (helped.has(help[1])) fail("a second HELP for the metric");
      helped.add(help[1]);
      const family = families.get(help[1]);
      if (family) family.help = unescapeHelp(help[2]);
      else families.set(help[1], { type: "untyped", help: unescapeHelp(help[2]), samples: [] });
      return;
    }
    const type = TYPE.exec(line);
    if (type) {
      const family = families.get(type[1]);
      if (family && (family.samples.length > 0 || family.type !== "untyped"))
        fail("TYPE after the metric's samples, or a second TYPE");
      families.set(type[1], { help: family?.help, samples: [], type: type[2] as Family["type"] });
      return;
    }
    if (line.startsWith("#")) {
      if (/^#\s*(HELP|TYPE)\b/.test(line)) fail("malformed HELP or TYPE line");
      return;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) fail('not a sample line (name{label="value",…} value [timestamp])');
    const [, name, labelText = "", valueText] = sample as RegExpExecArray;
    const family = familyOf(name, families);
    if (current !== family && current !== undefined) closed.add(current);
    if (closed.has(family)) fail(`samples of ${family} are split by another metric's`);
    current = family;
    const labels: Record<string, string> = {};
    for (const match of labelText.matchAll(new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, "g"))) {
      if (match[1] in labels) fail(`label ${match[1]} given twice`);
      labels[match[1]] = unescapeLabel(match[2].slice(1, -1));
    }
    const value = Number(valueText.replace(/^\+?Inf$/, "Infinity").replace(/^-Inf$/, "-Infinity"));
    const entry = families.get(family) ?? { type: "untyped" as const, samples: [] };
    families.set(family, entry);
    if (entry.type === "counter" && !(value >= 0)) fail("a counter below 0");
    entry.samples.push({ name, labels, value });
  });
  for (const [name, family] of families) if (family.type === "histogram") checkHistogram(name, family);
  return families;
}

/** A histogram's samples `_bucket` (with `le`, cumulative, ending at +Inf), `_sum` and `_count`, per label set. */
function checkHistogram(name: string, family: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name === `${name}_bucket`) {
      if (le === undefined) throw new Error(`${name}_bucket without an le label`);
      const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
      if (Number.isNaN(bound)) throw new Error(`${name}_bucket has le="${le}", not a number`);
      group.buckets.push([bound, sample.value]);
    } else if (sample.name === `${name}_sum`) group.sum = sample.value;
    else if (sample.name === `${name}_count`) group.count = sample.value;
    else throw new Error(`${sample.name} is not a sample name of the histogram ${name}`);
  }
  for (const group of groups.values()) {
    const last = group.buckets.at(-1);
    if (!last || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${name} lacks its le="+Inf" bucket`);
    for (let i = 1; i < group.buckets.length; i++) {
      const [bound, count] = group.buckets[i];
      const [previousBound, previousCount] = group.buckets[i - 1];
      if (!(bound > previousBound)) throw new Error(`${name} buckets are not in increasing le order`);
      if (count < previousCount) throw new Error(`${name} bucket counts are not cumulative`);
    }
    if (group.count === undefined || group.sum === undefined) throw new Error(`${name} lacks _sum or _count`);
    if (group.count !== last[1]) throw new Error(`${name}_count differs from its le="+Inf" bucket`);
  }
}

/** The family a sample belongs to: its own name, or the histogram/summary its suffix points at. */
function familyOf(name: string, families: Map<string, Family>): string {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  const family = families.get(base);
  if (family && (family.type === "histogram" || family.type === "summary")) return base;
  return name;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\([\\n])/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
}

function unescapeLabel(text: string): string {
  return text.replace(/\\([\\"n])/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/**
 * The sum of the samples named `name` whose labels include `labels` (all of a counter's series when none
 * are given); 0 when there is none, as for a counter that has not moved yet.
 */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) sum += sample.value;
    }
  }
  return sum;
}
