import { calibrateJudge, loadConfig, renderCalibration } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/** `promptsmith judge calibrate`: the judge's agreement with human labels, and its self-consistency. */
export async function judgeCalibrateCommand(
  configPath: string | undefined,
  flags: FlagValues<"scorer" | "seeds" | "limit" | "concurrency" | "cache" | "json">,
  io: CliIo,
): Promise<number> {
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  if (suite.providerNote) io.stderr.write(`${suite.providerNote}\n`);
  const result = await calibrateJudge({
    suite,
    scorer: flags.scorer,
    seeds: flags.seeds,
    limit: flags.limit,
    concurrency: flags.concurrency,
    cache: flags.cache === false ? "off" : undefined,
    env: io.env,
  });
  io.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderCalibration(result));
  return ExitCode.ok;
}
