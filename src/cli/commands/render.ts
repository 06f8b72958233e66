import { leakNote, loadConfig, renderPrompt, renderPromptText } from "../../index.js";
import { ExitCode } from "../exit-codes.js";
import type { FlagValues } from "../flags.js";
import type { CliIo } from "../io.js";

/** `promptsmith render`: the exact messages of one case, for each prompt; no network. */
export async function renderCommand(
  configPath: string | undefined,
  flags: FlagValues<"case" | "prompt" | "json">,
  io: CliIo,
): Promise<number> {
  const suite = await loadConfig(configPath, { env: io.env, cwd: io.cwd });
  const rendered = await renderPrompt({ suite, caseId: flags.case, prompts: flags.prompt });
  // On stderr: stdout stays the messages (or the JSON, which carries `leaks` itself).
  for (const r of rendered) {
    if (r.guarded) io.stderr.write(`${leakNote(r.prompt, r.caseId, r.guarded, r.leaks ?? [])}\n`);
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(rendered, null, 2)}\n`);
    return ExitCode.ok;
  }
  const blocks = rendered.map(
    (r) => `=== ${r.prompt} · case ${r.caseId} ===\n${renderPromptText(r.messages)}`,
  );
  io.stdout.write(`${blocks.join("\n\n")}\n`);
  return ExitCode.ok;
}
