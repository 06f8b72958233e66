/**
 * `compare` and `eval --against`: two runs of the same cases, paired by (case id, prompt,
 * provider). Both files are read as streams: the base run is held as a hash index of one number
 * per case and variant, the head run streams past it, and the base is read once more for the
 * answers of the cases that flipped.
 */
import { basename } from "node:path";
import { DEFAULT_COMPARE } from "../config/defaults.js";
import type { CompareSettings } from "../config/types.js";
import { UserError } from "../errors.js";
import { createKeySet, cyrb53 } from "../key-set.js";
import { openRecordStream, type RecordStream } from "../record/read.js";
import type { CaseResult, CompareRecord, Flip } from "../record/types.js";
import {
  type BaseIndex,
  createBaseIndex,
  createCaseGrouper,
  createComparisonAccumulator,
  variantKey,
} from "../stats/comparisons.js";
import type { RepeatRequire } from "../stats/fold.js";
import { judgeGates } from "../stats/gates.js";

/** Flips listed in each direction; the counts are exact. */
const FLIPS_LISTED = 200;
/** One-sided case ids listed in each direction. */
const UNPAIRED_LISTED = 20;
/** Characters of an output kept for a flip's line. */
const SNIPPET = 160;

/** How two runs are folded and judged. */
export interface CompareOptions {
  compare?: Partial<CompareSettings>;
  /** How repeated runs of a case count (default: the head run's `require`, else majority). */
  require?: RepeatRequire;
  /** Judge the regression gate: a variant significantly worse, or worse by more than maxDrop points. */
  failOnRegression?: boolean;
  /** Percentage points of accuracy a variant may lose, whatever the p-value. */
  maxDrop?: number;
  /** Seed of the bootstrap (default: the head run's). */
  seed?: number;
}

/** Reads a results file into the index `eval --against` and `compare` pair the head run with. */
export async function loadBaseIndex(
  path: string,
  options: { require?: RepeatRequire; onError: CompareSettings["onError"] },
): Promise<BaseIndex & { header: RecordStream["header"] }> {
  const stream = await openRecordStream(path);
  const builder = createBaseIndex(options);
  for await (const result of stream.cases) grouped(path, () => builder.add(result));
  return Object.assign(builder.finish(), { header: stream.header });
}

/** Compares two results files: per variant the paired difference, the flipped cases, what is one-sided. */
export async function compareRecordFiles(
  basePath: string,
  headPath: string,
  options: CompareOptions = {},
): Promise<CompareRecord> {
  const head = await openRecordStream(headPath);
  const compare: CompareSettings = { ...DEFAULT_COMPARE, ...head.header.config.compare, ...options.compare };
  const require = options.require ?? head.header.config.repeat?.require;
  const index = await loadBaseIndex(basePath, { require, onError: compare.onError });
  const baseHeader = index.header;

  const comparisons = createComparisonAccumulator({
    baseline: {},
    compare,
    seed: options.seed ?? head.header.seed ?? 1,
    require,
    against: index,
  });
  const unitKey = (prompt: string, provider: string, id: string) => `${prompt}\u0000${provider}\u0000${id}`;
  const unitHash = (prompt: string, provider: string, id: string) => cyrb53(unitKey(prompt, provider, id));
  const headUnits = createKeySet();
  // One-sided cases are counted once, however many variants lack them.
  const headOnlyCases = createKeySet();
  const baseOnlyCases = createKeySet();
  const flips = new Map<number, Flip & { toFail: boolean }>();
  let toFailCount = 0;
  let toPassCount = 0;
  const unpaired = { baseOnly: 0, headOnly: 0, baseOnlyIds: [] as string[], headOnlyIds: [] as string[] };
  const headVariants = new Map<string, { prompt: string; provider: string }>();

  /** The current case's first result per variant, for the lines of a flip. */
  let detailsId: string | undefined;
  let details = new Map<string, CaseResult>();
  const grouper = createCaseGrouper({ require, onError: compare.onError }, (id, values) => {
    for (const [k, { prompt, provider, value }] of values) {
      const base = index.get(prompt, provider, id);
      if (!base) continue;
      const passedBefore = base.accuracy === 1;
      const passedNow = value.accuracy === 1;
      const binary = (v: number) => v === 0 || v === 1;
      if (!binary(base.accuracy) || !binary(value.accuracy) || passedBefore === passedNow) continue;
      // A pair left out for an error is no flip either.
      if (compare.onError === "exclude" && (base.errored || value.errored)) continue;
      const toFail = passedBefore && !passedNow;
      const listed = toFail ? toFailCount++ : toPassCount++;
      if (listed >= FLIPS_LISTED) continue;
      const result = details.get(k)!;
      flips.set(unitHash(prompt, provider, id), {
        id,
        prompt,
        provider,
        expected: result.expected,
        base: { extracted: null, output: null },
        head: sideOf(result),
        toFail,
      });
    }
  });

  for await (const result of head.cases) {
    grouped(headPath, () => {
      comparisons.add(result);
      grouper.add(result);
    });
    if (result.id !== detailsId) {
      detailsId = result.id;
      details = new Map();
    }
    const k = variantKey(result.prompt, result.provider);
    if (!details.has(k)) details.set(k, result);
    if (!headVariants.has(k)) headVariants.set(k, { prompt: result.prompt, provider: result.provider });
    if (headUnits.add(unitKey(result.prompt, result.provider, result.id))) {
      if (
        index.count(result.prompt, result.provider) > 0 &&
        !index.get(result.prompt, result.provider, result.id) &&
        headOnlyCases.add(result.id)
      ) {
        unpaired.headOnly++;
        if (unpaired.headOnlyIds.length < UNPAIRED_LISTED) unpaired.headOnlyIds.push(result.id);
      }
    }
  }
  grouper.flush();

  // Once more through the base: the answers of the flipped cases, and the cases the head lacks.
  const baseStream = await openRecordStream(basePath);
  for await (const result of baseStream.cases) {
    const h = unitHash(result.prompt, result.provider, result.id);
    const flip = flips.get(h);
    if (flip && flip.base.output === null && flip.base.error === undefined) flip.base = sideOf(result);
    const k = variantKey(result.prompt, result.provider);
    if (
      headVariants.has(k) &&
      headUnits.add(unitKey(result.prompt, result.provider, result.id)) &&
      baseOnlyCases.add(result.id)
    ) {
      unpaired.baseOnly++;
      if (unpaired.baseOnlyIds.length < UNPAIRED_LISTED) unpaired.baseOnlyIds.push(result.id);
    }
  }

  const baseVariants = index.variants();
  const paired = comparisons.comparisons().filter((c) => index.count(c.prompt, c.provider) > 0);
  const listed = [...flips.values()];
  const strip = ({ toFail: _t, ...flip }: Flip & { toFail: boolean }): Flip => flip;
  const record: CompareRecord = {
    base: { path: basePath, runId: baseHeader.runId, startedAt: baseHeader.startedAt },
    head: { path: headPath, runId: head.header.runId, startedAt: head.header.startedAt },
    comparisons: paired,
    flips: {
      toFail: listed.filter((f) => f.toFail).map(strip),
      toPass: listed.filter((f) => !f.toFail).map(strip),
      toFailCount,
      toPassCount,
    },
    unpaired,
    variants: {
      baseOnly: baseVariants.filter((v) => !headVariants.has(variantKey(v.prompt, v.provider))),
      headOnly: [...headVariants.values()].filter((v) => index.count(v.prompt, v.provider) === 0),
    },
    alpha: compare.alpha,
  };
  if (options.failOnRegression) {
    record.gates = judgeGates({
      summary: [],
      comparisons: paired,
      regression: { alpha: compare.alpha, maxDrop: options.maxDrop, against: basename(basePath) },
    });
  }
  return record;
}

/**
 * Runs `add` on a result of `path`; a record whose results are not grouped by case (all of a
 * case's results together, as promptsmith writes them) is the file's problem, said as such.
 */
function grouped(path: string, add: () => void): void {
  try {
    add();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UserError({
      code: "run-not-found",
      location: { file: path },
      message: error.message,
      hint: "compare results files written by promptsmith eval -o (or merge); their cases are grouped",
    });
  }
}

/** One run's answer to a flipped case, on one line. */
function sideOf(result: CaseResult): Flip["base"] {
  const output = result.output === null ? null : result.output.replace(/\s+/g, " ").trim().slice(0, SNIPPET);
  return {
    extracted: result.extracted,
    output,
    ...(result.error ? { error: `${result.error.kind}: ${result.error.message}` } : {}),
  };
}
