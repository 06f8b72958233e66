import path from "node:path";
import {
  checkLeaks,
  type LeakFinding,
  type LeakPlace,
  loadConfig,
  renderLeakFinding,
  renderLeakSummary,
} from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/**
 * `promptsmith check-leaks`: the test cases that appear, exactly or nearly, in an example pool or
 * corpus of the config, with file and line of both. Exit 1 on an exact copy: a CI gate for datasets.
 */
export async function checkLeaksCommand(
  configPath: string | undefined,
  flags: FlagValues<"json">,
  io: CliIo,
): Promise<number> {
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  // Paths as the person at this terminal would type them; builtin pools stay as named.
  const place = (file: string) =>
    file.startsWith("builtin:") ? file : path.relative(io.cwd, file).split(path.sep).join("/") || file;
  const relative = (side: LeakPlace): LeakPlace => ({ ...side, file: place(side.file) });
  let report: Awaited<ReturnType<typeof checkLeaks>>;
  if (flags.json) {
    report = await checkLeaks({ suite });
    const findings = report.findings.map((f: LeakFinding) => ({
      ...f,
      case: relative(f.case),
      copy: relative(f.copy),
    }));
    const json = {
      cases: report.cases,
      pools: report.pools.map((p) => ({ ...p, file: place(p.file) })),
      corpora: report.corpora.map((c) => ({ ...c, dir: place(c.dir) })),
      exact: report.exact,
      near: report.near,
      findings,
    };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    // Streamed: a test set copied into its pool lists every case, and the list starts at once.
    report = await checkLeaks({
      suite,
      onFinding: (finding) => io.stdout.write(`${renderLeakFinding(finding, place)}\n`),
    });
    if (report.exact + report.near > 0) io.stdout.write("\n");
    io.stdout.write(`${renderLeakSummary(report)}\n`);
  }
  if (report.exact === 0) return ExitCode.ok;
  io.stderr.write(
    `error: ${report.exact} exact ${report.exact === 1 ? "copy" : "copies"} of test cases in the example pools or corpora\n` +
      "  hint: remove the copies from the pool or corpus; runs leave exact copies out of the examples (shots.leak) and can drop copied passages (context.exclude: copies)\n",
  );
  return ExitCode.gateFailed;
}
