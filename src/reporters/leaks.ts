/**
 * The contamination guard's lines: one per prompt, saying how many cases had an example or
 * passage excluded or flagged as a copy of themselves, zero included, so a reader knows it looked.
 */

import type { LeakFinding, LeakPlace, LeakReport } from "../record/leak-report.js";
import type { CaseLeak, LeakCounts, RunRecord } from "../record/types.js";
import { sanitizeForTerminal } from "./text.js";

/** What the guard checked for a prompt. */
export type Guarded = readonly ("shots" | "context")[];

function among(guarded: Guarded): string {
  const shots = guarded.includes("shots");
  const context = guarded.includes("context");
  return shots && context ? "examples or passages" : shots ? "examples" : "passages";
}

/** One line for a prompt: of `total` results, how many had a copy among their examples or passages. */
export function leakLine(
  name: string,
  total: number,
  counts: LeakCounts | undefined,
  guarded: Guarded,
): string {
  const head = `leak guard · ${sanitizeForTerminal(name)}: `;
  const cases = `${total} ${total === 1 ? "case" : "cases"}`;
  if (!counts || counts.cases === 0)
    return `${head}none of ${cases} had a copy among their ${among(guarded)}`;
  return `${head}${counts.cases} of ${cases} had a copy among their ${among(guarded)}: ${counts.excluded} excluded, ${counts.flagged} flagged`;
}

/** What a recorded prompt's guard checked: shots (unless `leak: allow` or k = 0) and context. */
function guardedOf(prompt: RunRecord["config"]["prompts"][number]): Guarded {
  const guarded: ("shots" | "context")[] = [];
  const shots = prompt.shots as { k?: number; leak?: string } | undefined;
  if (shots && (shots.k ?? 0) > 0 && shots.leak !== "allow") guarded.push("shots");
  if (prompt.context) guarded.push("context");
  return guarded;
}

/**
 * The guard's lines of a run: one per prompt that had examples or passages to check (one per
 * provider only where the providers' counts differ, as in a run stopped part-way).
 */
export function leakLines(record: RunRecord): string[] {
  const lines: string[] = [];
  for (const prompt of record.config.prompts) {
    const guarded = guardedOf(prompt);
    if (guarded.length === 0) continue;
    const rows = record.summary.filter((row) => row.prompt === prompt.id);
    if (rows.length === 0) continue;
    const same = rows.every(
      (row) => row.total === rows[0].total && JSON.stringify(row.leaks) === JSON.stringify(rows[0].leaks),
    );
    for (const row of same ? rows.slice(0, 1) : rows) {
      const name = same ? prompt.id : `${prompt.id} · ${row.provider}`;
      lines.push(leakLine(name, row.total, row.leaks, guarded));
    }
  }
  return lines;
}

/** The guard's line for one rendered case (`render`): what it left out or flagged, or that it found nothing. */
export function leakNote(
  prompt: string,
  caseId: string,
  guarded: Guarded,
  leaks: readonly CaseLeak[],
): string {
  const head = `leak guard · ${sanitizeForTerminal(prompt)} · case ${sanitizeForTerminal(caseId)}: `;
  if (leaks.length === 0) {
    const what = among(guarded).replace(/s\b/g, "");
    return `${head}no ${what} is a copy of this case`;
  }
  const groups = new Map<string, CaseLeak[]>();
  for (const leak of leaks) {
    const key = `${leak.in === "shots" ? "example" : "passage"} ${leak.action}`;
    groups.set(key, [...(groups.get(key) ?? []), leak]);
  }
  const parts = [...groups].map(([key, group]) => {
    const [noun, action] = key.split(" ");
    const each = group.map((leak) => {
      const kind = leak.kind === "exact" ? "exact copy" : `near-copy ${Math.round(leak.similarity * 100)}%`;
      const shown = leak.action === "flagged" ? (leak.shown ? ", shown" : ", not shown") : "";
      return `${sanitizeForTerminal(leak.id)} at ${sanitizeForTerminal(leak.source)}, ${kind}${shown}`;
    });
    return `${group.length} ${noun}${group.length === 1 ? "" : "s"} ${action} (${each.join("; ")})`;
  });
  return `${head}${parts.join("; ")}`;
}

/** One line of `check-leaks`: the kind, the case and where its copy is; `place` says how to show a file. */
export function renderLeakFinding(finding: LeakFinding, place: (file: string) => string): string {
  const at = (side: LeakPlace) =>
    sanitizeForTerminal(side.line !== undefined ? `${place(side.file)}:${side.line}` : place(side.file));
  const what = finding.in === "shots" ? "example" : "passage";
  const share = `${Math.round(finding.similarity * 100)}% of its word 3-grams`;
  const detail =
    finding.kind === "exact" ? "" : `: ${share}${finding.in === "context" ? ", and the answer" : ""}`;
  return `${finding.kind.padEnd(5)}  ${at(finding.case)} case ${sanitizeForTerminal(finding.case.id)}  in ${at(finding.copy)} (${what} ${sanitizeForTerminal(finding.copy.id)})${detail}`;
}

/** The last line of `check-leaks`: what was checked, and how many copies of each kind were found. */
export function renderLeakSummary(report: LeakReport): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const sources: string[] = [];
  if (report.pools.length > 0) {
    const examples = report.pools.reduce((n, p) => n + p.examples, 0);
    sources.push(
      `${count(report.pools.length, "example pool", "example pools")} (${count(examples, "example", "examples")})`,
    );
  }
  if (report.corpora.length > 0) {
    const passages = report.corpora.reduce((n, c) => n + c.passages, 0);
    sources.push(
      `${count(report.corpora.length, "corpus", "corpora")} (${count(passages, "passage", "passages")})`,
    );
  }
  const cases = count(report.cases, "case", "cases");
  if (sources.length === 0) return `${cases}: the config has no example pool or corpus to check`;
  return `${cases} against ${sources.join(" and ")}: ${count(report.exact, "exact copy", "exact copies")}, ${count(report.near, "near-copy", "near-copies")}`;
}
