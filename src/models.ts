/**
 * The built-in local model: the default when a config names no provider and no OpenAI-compatible
 * endpoint is configured. A leaf module so both config/ (defaults) and providers/ (loading) use
 * one definition.
 */

/** Qwen2.5 0.5B Instruct, Q4_K_M quantisation (about 400 MB): small, instruction-tuned, widely used. */
export const DEFAULT_LOCAL_MODEL =
  "hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf";

/** The model ref used when none is given: env `PROMPTSMITH_LOCAL_MODEL`, else `DEFAULT_LOCAL_MODEL`. */
export function defaultLocalModelRef(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PROMPTSMITH_LOCAL_MODEL?.trim();
  return fromEnv ? fromEnv : DEFAULT_LOCAL_MODEL;
}
