/**
 * The numbers of `judge calibrate`: a judge's verdicts against people's on the same outputs
 * (agreement, Cohen's kappa, the confusion table) and against its own with other seeds.
 */
import { wilsonInterval } from "./interval.js";
import { cohenKappa, type Kappa } from "./kappa.js";

const MAX_LISTED = 20;

/** A verdict as calibration counts it. */
export type CalibrationVerdict = "pass" | "fail" | "unparsed";

/** One graded row. */
export interface CalibrationCase {
  id: string;
  /** The people's verdict; null when the row's label could not be read. */
  human: "pass" | "fail" | null;
  /** The judge's verdict with each seed, first seed first. */
  judge: CalibrationVerdict[];
  /** The judge's reason with the first seed. */
  reason: string;
}

/** What `judge calibrate` measures. */
export interface Calibration {
  /** The judge's column name, its provider and the field holding the human labels. */
  judge: string;
  provider: string;
  humanLabel: string;
  /** The seeds the judge was asked with. */
  seeds: number[];
  /** Rows read, rows whose label could be read, and rows whose first verdict could not be. */
  rows: number;
  labelled: number;
  unparsed: number;
  /** Rows compared: labelled, and a readable first verdict. */
  n: number;
  /** Share of compared rows where the judge agrees with the people, with its Wilson 95% interval. */
  accuracy: number;
  accuracyCi95: [number, number];
  /** Cohen's kappa of judge vs people (first seed), null when undefined (one category only). */
  kappa: Kappa | null;
  /** Counts by judge verdict (rows) and human verdict (columns). */
  confusion: {
    judgePass: { humanPass: number; humanFail: number };
    judgeFail: { humanPass: number; humanFail: number };
    judgeUnparsed: { humanPass: number; humanFail: number };
  };
  /** Rows graded readably with every seed, and how many of them got more than one verdict. */
  selfConsistency?: { n: number; flipped: number; flipRate: number; flippedIds: string[] };
  /** The rows where judge and people disagree (at most 20). */
  disagreements: CalibrationCase[];
  /** Rows whose human label could not be read (at most 20 ids). */
  unlabelledIds: string[];
}

/** The numbers of a calibration from its graded rows (pure: the command's tests and reports read these). */
export function summarizeCalibration(
  graded: readonly CalibrationCase[],
  about: { judge: string; provider: string; humanLabel: string; seeds: number[] },
): Calibration {
  const confusion = {
    judgePass: { humanPass: 0, humanFail: 0 },
    judgeFail: { humanPass: 0, humanFail: 0 },
    judgeUnparsed: { humanPass: 0, humanFail: 0 },
  };
  const disagreements: CalibrationCase[] = [];
  const unlabelledIds: string[] = [];
  let labelled = 0;
  let unparsed = 0;
  for (const row of graded) {
    if (row.judge[0] === "unparsed") unparsed++;
    if (row.human === null) {
      if (unlabelledIds.length < MAX_LISTED) unlabelledIds.push(row.id);
      continue;
    }
    labelled++;
    const column = row.human === "pass" ? "humanPass" : "humanFail";
    const line =
      row.judge[0] === "pass"
        ? confusion.judgePass
        : row.judge[0] === "fail"
          ? confusion.judgeFail
          : confusion.judgeUnparsed;
    line[column]++;
    if (row.judge[0] !== "unparsed" && row.judge[0] !== row.human && disagreements.length < MAX_LISTED)
      disagreements.push(row);
  }
  const agree = confusion.judgePass.humanPass + confusion.judgeFail.humanFail;
  const n = agree + confusion.judgePass.humanFail + confusion.judgeFail.humanPass;
  const kappa = cohenKappa([
    [confusion.judgePass.humanPass, confusion.judgePass.humanFail],
    [confusion.judgeFail.humanPass, confusion.judgeFail.humanFail],
  ]);
  const result: Calibration = {
    ...about,
    rows: graded.length,
    labelled,
    unparsed,
    n,
    accuracy: n === 0 ? 0 : agree / n,
    accuracyCi95: wilsonInterval(agree, n),
    kappa,
    confusion,
    disagreements,
    unlabelledIds,
  };
  if (about.seeds.length > 1) {
    const readable = graded.filter((row) => row.judge.every((v) => v !== "unparsed"));
    const flipped = readable.filter((row) => row.judge.some((v) => v !== row.judge[0]));
    result.selfConsistency = {
      n: readable.length,
      flipped: flipped.length,
      flipRate: readable.length === 0 ? 0 : flipped.length / readable.length,
      flippedIds: flipped.slice(0, MAX_LISTED).map((row) => row.id),
    };
  }
  return result;
}
