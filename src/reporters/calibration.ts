import type { Calibration } from "../stats/calibration.js";
import { percent, sanitizeForTerminal } from "./text.js";

/** The report of `judge calibrate`: agreement with the people, the confusion table, self-consistency. */
export function renderCalibration(result: Calibration): string {
  const lines: string[] = [];
  const seeds = result.seeds.length === 1 ? `seed ${result.seeds[0]}` : `seeds ${result.seeds.join(", ")}`;
  lines.push(
    sanitizeForTerminal(
      `judge ${result.judge} (${result.provider}) against ${result.humanLabel} · ${result.rows} rows · ${seeds}`,
    ),
    "",
  );
  if (result.n === 0) {
    lines.push("no row had both a readable human label and a readable verdict: nothing to compare");
  } else {
    const [low, high] = result.accuracyCi95;
    lines.push(
      `agreement  ${percent(result.accuracy)} (95% CI ${percent(low)}–${percent(high)}) on ${result.n} rows`,
    );
    if (result.kappa) {
      const k = result.kappa;
      lines.push(
        `kappa      ${k.kappa.toFixed(3)} (95% CI ${k.ci95[0].toFixed(3)}–${k.ci95[1].toFixed(3)}; SE ${k.se.toFixed(3)}, Fleiss-Cohen-Everitt)`,
      );
    } else {
      lines.push("kappa      undefined: the judge and the people used a single verdict between them");
    }
  }
  const c = result.confusion;
  const cells = [
    ["", "human pass", "human fail"],
    ["judge pass", String(c.judgePass.humanPass), String(c.judgePass.humanFail)],
    ["judge fail", String(c.judgeFail.humanPass), String(c.judgeFail.humanFail)],
    ["unparsed", String(c.judgeUnparsed.humanPass), String(c.judgeUnparsed.humanFail)],
  ];
  const widths = cells[0].map((_v, i) => Math.max(...cells.map((row) => row[i].length)));
  lines.push(
    "",
    ...cells.map((row) =>
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "),
    ),
  );
  if (result.selfConsistency) {
    const s = result.selfConsistency;
    lines.push(
      "",
      `self-consistency: ${s.flipped} of ${s.n} rows (${percent(s.flipRate)}) got different verdicts across the seeds` +
        (s.flippedIds.length > 0 ? `: ${sanitizeForTerminal(s.flippedIds.join(", "))}` : ""),
    );
  }
  if (result.unparsed > 0)
    lines.push(
      `unparsed: ${result.unparsed} ${result.unparsed === 1 ? "verdict" : "verdicts"} could not be read (first seed)`,
    );
  if (result.rows > result.labelled) {
    lines.push(
      `unlabelled: ${result.rows - result.labelled} ${result.rows - result.labelled === 1 ? "row has" : "rows have"} no readable ${sanitizeForTerminal(result.humanLabel)}` +
        (result.unlabelledIds.length > 0 ? ` (${sanitizeForTerminal(result.unlabelledIds.join(", "))})` : ""),
    );
  }
  if (result.disagreements.length > 0) {
    lines.push("", "disagreements");
    for (const row of result.disagreements) {
      lines.push(
        sanitizeForTerminal(`  ${row.id}: people ${row.human}, judge ${row.judge[0]} — ${row.reason}`),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
