/**
 * `check-leaks`: every test case of a config that appears, exactly or nearly, in one of its example
 * pools or context corpora, with the file and line of both sides. A dataset check for CI: it reads
 * the pools and corpora once, then streams the test set, so it is linear in their sizes.
 */
import path from "node:path";
import type { Suite } from "../config/types.js";
import { readCases } from "../dataset/index.js";
import {
  type ContainmentIndex,
  chunkDocuments,
  createContainmentIndex,
  createShotGuard,
  loadCorpus,
  type ShotGuard,
} from "../fewshot/index.js";
import type { LeakFinding, LeakPlace, LeakReport } from "../record/leak-report.js";
import { loadShotPool } from "./prepare.js";

/** Options of checkLeaks(). */
export interface CheckLeaksOptions {
  suite: Suite;
  /** Gets each finding as it is found, and the report keeps none: a copied test set may have millions. */
  onFinding?: (finding: LeakFinding) => void;
}

interface PoolCheck {
  guard: ShotGuard;
  file: string;
  ids: string[];
  lines?: number[];
}

interface CorpusCheck {
  index: ContainmentIndex;
  field: string;
  chunks: { id: string; file: string; line: number }[];
}

/** Checks every test case of `suite` against every example pool and corpus its prompts name. */
export async function checkLeaks(options: CheckLeaksOptions): Promise<LeakReport> {
  const { suite } = options;
  const report: LeakReport = { cases: 0, pools: [], corpora: [], exact: 0, near: 0, findings: [] };
  const pools: PoolCheck[] = [];
  const seenPools = new Set<string>();
  const corpora: CorpusCheck[] = [];
  const seenCorpora = new Set<string>();
  for (const prompt of suite.prompts) {
    const shots = prompt.shots;
    // Every pool of the config, whatever its k and leak policy: this checks the data, not a run.
    if (shots && !seenPools.has(`${shots.from}\u0000${shots.field}\u0000${shots.label}`)) {
      seenPools.add(`${shots.from}\u0000${shots.field}\u0000${shots.label}`);
      const pool = await loadShotPool(shots, suite);
      if (!report.pools.some((p) => p.file === shots.from))
        report.pools.push({ file: shots.from, examples: pool.rows.length });
      pools.push({
        guard: createShotGuard(pool.rows, {
          field: shots.field,
          label: shots.label,
          expected: suite.tests.expected,
          leak: "warn",
          excludeSelf: pool.excludeSelf,
        }),
        file: shots.from,
        ids: pool.rows.map((row) => row.id),
        ...(pool.lines ? { lines: pool.lines } : {}),
      });
    }
    const context = prompt.context;
    if (context && !seenCorpora.has(`${context.corpus}\u0000${context.field}`)) {
      seenCorpora.add(`${context.corpus}\u0000${context.field}`);
      const chunks = chunkDocuments(await loadCorpus(context.corpus));
      if (!report.corpora.some((c) => c.dir === context.corpus))
        report.corpora.push({ dir: context.corpus, passages: chunks.length });
      corpora.push({
        index: createContainmentIndex(chunks.map((chunk) => chunk.text)),
        field: context.field,
        chunks: chunks.map((chunk) => ({
          id: chunk.id,
          file: path.join(context.corpus, chunk.source),
          line: chunk.line,
        })),
      });
    }
  }

  for await (const testCase of readCases(suite.tests.path, { expectedField: suite.tests.expected })) {
    report.cases++;
    const place: LeakPlace = { id: testCase.id, file: suite.tests.path };
    if (testCase.line !== undefined) place.line = testCase.line;
    // One pool may be checked under two fields; a row found twice is listed once.
    const listed = new Set<string>();
    const found = (finding: LeakFinding) => {
      const key = `${finding.in}\u0000${finding.copy.file}\u0000${finding.copy.id}`;
      if (listed.has(key)) return;
      listed.add(key);
      if (finding.kind === "exact") report.exact++;
      else report.near++;
      if (options.onFinding) options.onFinding(finding);
      else report.findings.push(finding);
    };
    for (const pool of pools) {
      for (const leak of pool.guard.check(testCase)) {
        const line = pool.lines?.[leak.position];
        found({
          case: place,
          in: "shots",
          copy: { id: pool.ids[leak.position], file: pool.file, ...(line ? { line } : {}) },
          kind: leak.kind,
          similarity: round(leak.similarity),
        });
      }
    }
    for (const corpus of corpora) {
      const query = testCase.vars[corpus.field];
      const question = typeof query === "string" ? query : JSON.stringify(query ?? "");
      for (const match of corpus.index.find(question, testCase.expected)) {
        found({
          case: place,
          in: "context",
          copy: corpus.chunks[match.position],
          kind: match.kind,
          similarity: round(match.similarity),
        });
      }
    }
  }
  return report;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
