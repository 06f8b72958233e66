/** `promptsmith compare`: the terminal report and the pull-request comment (Markdown) of a CompareRecord. */
import { Chalk } from "chalk";
import type { CompareRecord, Flip } from "../record/types.js";
import { formatP } from "../stats/gates.js";
import { comparisonCells, comparisonLines, failedGateLines } from "./comparisons.js";
import { escapeMarkdown, gatesList, markdownTable } from "./markdown.js";
import { oneLine, percent, sanitizeForTerminal, showValue } from "./text.js";

/** Options of the terminal compare report. */
export interface CompareReportOptions {
  color?: boolean;
  width?: number;
  /** Flips shown in each direction (default 10). */
  maxFlips?: number;
}

/** The terminal report of `compare`: per variant both accuracies and the paired difference, then the flips. */
export function renderCompareTerminal(record: CompareRecord, options: CompareReportOptions = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = Math.max(60, options.width ?? 100);
  const max = options.maxFlips ?? 10;
  const lines: string[] = [
    c.bold(sanitizeForTerminal(`promptsmith compare · ${record.base.path} → ${record.head.path}`)),
  ];
  if (record.comparisons.length === 0) {
    lines.push("", c.yellow("no variant (prompt · provider) is in both runs: nothing to pair"));
  } else {
    lines.push("");
    const header = ["variant", "base", "head"];
    const rows = record.comparisons.map((x) => [
      `${x.prompt} · ${x.provider}${x.metric === "score" ? " (score)" : ""}`,
      x.metric === "accuracy" ? percent(x.baselineValue) : x.baselineValue.toFixed(3),
      x.metric === "accuracy" ? percent(x.value) : x.value.toFixed(3),
    ]);
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => sanitizeForTerminal(r[i]).length)),
    );
    lines.push(
      c.dim(header.map((h, i) => (i === 0 ? h.padEnd(widths[i]) : h.padStart(widths[i]))).join("  ")),
    );
    for (const row of rows)
      lines.push(
        row
          .map((cell, i) =>
            i === 0 ? sanitizeForTerminal(cell).padEnd(widths[i]) : cell.padStart(widths[i]),
          )
          .join("  "),
      );
    lines.push(
      ...comparisonLines(record.comparisons, c, {
        alpha: record.alpha,
        title: "Head against base, each variant paired with itself by case",
      }),
    );
  }
  const { toFail, toPass, toFailCount, toPassCount } = record.flips;
  if (toFailCount > 0) {
    lines.push("", c.bold(`Passed before, fail now (${toFailCount})`));
    for (const flip of toFail.slice(0, max)) lines.push(...flipLines(flip, c, width, c.red("✗")));
    if (toFailCount > Math.min(max, toFail.length))
      lines.push(
        c.dim(`  … and ${toFailCount - Math.min(max, toFail.length)} more (--json lists ${toFail.length})`),
      );
  }
  if (toPassCount > 0) {
    lines.push("", c.bold(`Failed before, pass now (${toPassCount})`));
    for (const flip of toPass.slice(0, max)) lines.push(...flipLines(flip, c, width, c.green("✓")));
    if (toPassCount > Math.min(max, toPass.length))
      lines.push(
        c.dim(`  … and ${toPassCount - Math.min(max, toPass.length)} more (--json lists ${toPass.length})`),
      );
  }
  lines.push(...unpairedLines(record).map((line) => c.yellow(line)));
  lines.push(...failedGateLines(record.gates, c));
  return `${lines.join("\n")}\n`;
}

function flipLines(flip: Flip, c: InstanceType<typeof Chalk>, width: number, mark: string): string[] {
  const side = (name: string, s: Flip["base"]) =>
    `    ${name} ${s.error ? c.red(sanitizeForTerminal(oneLine(s.error, width - 12))) : `${c.bold(sanitizeForTerminal(oneLine(s.extracted ?? "(nothing)", 30)))}  ${c.dim(sanitizeForTerminal(oneLine(s.output ?? "", width - 42)))}`}`;
  return [
    `  ${mark} ${sanitizeForTerminal(`${flip.prompt} · ${flip.provider} · case ${flip.id}`)}  expected ${c.green(sanitizeForTerminal(oneLine(showValue(flip.expected), 40)))}`,
    side("base", flip.base),
    side("head", flip.head),
  ];
}

function unpairedLines(record: CompareRecord): string[] {
  const lines: string[] = [];
  const { baseOnly, headOnly, baseOnlyIds, headOnlyIds } = record.unpaired;
  const ids = (list: string[], count: number) => `${list.join(", ")}${count > list.length ? ", …" : ""}`;
  if (baseOnly > 0)
    lines.push(
      `${baseOnly} ${baseOnly === 1 ? "case is" : "cases are"} in the base run only, not paired: ${ids(baseOnlyIds, baseOnly)}`,
    );
  if (headOnly > 0)
    lines.push(
      `${headOnly} ${headOnly === 1 ? "case is" : "cases are"} in the head run only, not paired: ${ids(headOnlyIds, headOnly)}`,
    );
  for (const v of record.variants.baseOnly)
    lines.push(`variant ${v.prompt} · ${v.provider} is in the base run only`);
  for (const v of record.variants.headOnly)
    lines.push(`variant ${v.prompt} · ${v.provider} is in the head run only`);
  if (lines.length > 0) lines.unshift("");
  return lines.map(sanitizeForTerminal);
}

/**
 * A pull-request comment: the verdict in one line, a table per variant (base, head, Δ with its
 * interval, p, wins/losses, verdict), failed gates, and the flips in a collapsed list.
 */
export function renderCompareMarkdown(record: CompareRecord, options: { maxFlips?: number } = {}): string {
  const max = options.maxFlips ?? 25;
  const failed = (record.gates ?? []).filter((g) => !g.passed);
  const worse = record.comparisons.filter((x) => x.verdict === "worse");
  const better = record.comparisons.filter((x) => x.verdict === "better");
  const out: string[] = ["### promptsmith compare", ""];
  out.push(
    failed.length > 0
      ? `**✗ ${failed.length} ${failed.length === 1 ? "gate failed" : "gates failed"}.**`
      : worse.length > 0
        ? `**${worse.length} ${worse.length === 1 ? "variant is" : "variants are"} significantly worse.**`
        : better.length > 0
          ? `**${better.length} ${better.length === 1 ? "variant is" : "variants are"} significantly better; none worse.**`
          : "**No detectable difference.**",
    "",
  );
  if (record.comparisons.length > 0) {
    const rows = record.comparisons.map((x) => {
      const [name, delta, ci, , , winsLosses, verdict] = comparisonCells(x, true);
      const value = (v: number) => (x.metric === "accuracy" ? percent(v) : v.toFixed(3));
      return [
        escapeMarkdown(name),
        value(x.baselineValue),
        value(x.value),
        delta,
        ci,
        formatP(x.p),
        formatP(x.pHolm),
        winsLosses,
        verdict === "better" ? "✅ better" : verdict === "worse" ? "❌ worse" : verdict,
      ];
    });
    out.push(
      markdownTable(
        ["variant", "base", "head", "Δ", "95% CI", "p", "p (Holm)", "wins / losses", "verdict"],
        rows,
        ["left", "right", "right", "right", "right", "right", "right", "right", "left"],
      ),
    );
    out.push(
      "",
      `<sub>Paired by case id; Δ in accuracy points. McNemar's exact test and Newcombe's interval (the paired bootstrap for scores); p Holm-adjusted across variants; α ${record.alpha}.</sub>`,
      "",
    );
  }
  if (record.gates && failed.length > 0) out.push(gatesList(record.gates), "");
  const { toFail, toPass, toFailCount, toPassCount } = record.flips;
  const flipList = (title: string, flips: Flip[], count: number) => {
    if (count === 0) return;
    // Cut to length before escaping, so no escape is cut in half.
    const side = (s: Flip["base"]) =>
      escapeMarkdown(oneLine(s.error ?? `${s.extracted ?? "(nothing)"} — ${s.output ?? ""}`, 120));
    const rows = flips
      .slice(0, max)
      .map((f) => [
        escapeMarkdown(f.id),
        escapeMarkdown(`${f.prompt} · ${f.provider}`),
        escapeMarkdown(oneLine(showValue(f.expected), 60)),
        side(f.base),
        side(f.head),
      ]);
    out.push(
      `<details><summary>${title} (${count})</summary>`,
      "",
      markdownTable(["case", "variant", "expected", "base", "head"], rows),
    );
    if (count > Math.min(max, flips.length))
      out.push("", `… and ${count - Math.min(max, flips.length)} more.`);
    out.push("", "</details>", "");
  };
  flipList("Passed before, fail now", toFail, toFailCount);
  flipList("Failed before, pass now", toPass, toPassCount);
  const unpaired = unpairedLines(record).filter(Boolean);
  if (unpaired.length > 0) out.push(...unpaired.map((line) => `- ${escapeMarkdown(line)}`), "");
  return `${out.join("\n").trimEnd()}\n`;
}
