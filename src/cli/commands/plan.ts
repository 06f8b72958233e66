import { loadConfig, plan, renderPlan } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/** `promptsmith plan`: what the configured cases can show, and what a named difference needs. */
export async function planCommand(
  configPath: string | undefined,
  flags: FlagValues<"from" | "delta" | "alpha" | "power" | "json">,
  io: CliIo,
): Promise<number> {
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  const result = await plan({
    suite,
    from: flags.from,
    delta: flags.delta,
    alpha: flags.alpha,
    power: flags.power,
  });
  io.stdout.write(
    flags.json
      ? `${JSON.stringify(result, (_k, v) => (v === Number.POSITIVE_INFINITY ? null : v), 2)}\n`
      : renderPlan(result),
  );
  return ExitCode.ok;
}
