import { existsSync } from "node:fs";
import { loadConfig, openCache } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { CliIo } from "../io.js";

/** `promptsmith cache stats|clear`: the cache beside a config. */
export async function cacheCommand(
  action: "stats" | "clear",
  configPath: string | undefined,
  io: CliIo,
): Promise<number> {
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  // Looking must not create: no run has written a cache here yet.
  if (!existsSync(suite.cache.path)) {
    io.stdout.write(`${suite.cache.path}\nno cache yet: no run of this config has stored an answer\n`);
    return ExitCode.ok;
  }
  const cache = openCache(suite.cache.path);
  try {
    if (action === "clear") {
      io.stdout.write(`removed ${cache.clear()} cached responses from ${suite.cache.path}\n`);
      return ExitCode.ok;
    }
    const stats = cache.stats();
    io.stdout.write(
      `${suite.cache.path}\n${stats.entries} responses, ${(stats.bytes / 1024 / 1024).toFixed(1)} MB\n`,
    );
    for (const row of stats.byProvider) io.stdout.write(`  ${row.provider}  ${row.entries}\n`);
    return ExitCode.ok;
  } finally {
    cache.close();
  }
}
