import { UserError } from "../errors.js";
import type { Provider, ProviderError } from "../providers/types.js";
import type { CaseResult } from "../record/types.js";
import type { Job } from "./execute.js";
import { drawsOf } from "./jobs.js";
import type { RenderedJob } from "./prepare.js";

/** A call that failed after its retries, recorded on its case: data, not an exception. */
export function failedCase(job: Job, rendered: RenderedJob, kind: string, message: string): CaseResult {
  return {
    id: job.testCase.id,
    prompt: job.variant.prompt.id,
    provider: job.bound.provider.label,
    ...(drawsOf(job.variant) > 1 ? { draw: job.draw } : {}),
    ...(job.repeats > 1 ? { repeat: job.repeat } : {}),
    vars: job.testCase.vars,
    messages: rendered.messages,
    ...(rendered.shots ? { shots: rendered.shots } : {}),
    ...(rendered.context ? { context: rendered.context } : {}),
    ...(rendered.leaks && rendered.leaks.length > 0 ? { leaks: rendered.leaks } : {}),
    promptHash: rendered.promptHash,
    output: null,
    extracted: null,
    expected: job.testCase.expected,
    pass: false,
    score: 0,
    reason: `error: ${message}`,
    unparsed: false,
    latencyMs: 0,
    tokens: { prompt: 0, completion: 0 },
    error: { kind, message },
  };
}

/** A provider failure that ends a run (or a single `run`), as a user error with a hint. */
export function providerFailure(provider: Pick<Provider, "label">, error: ProviderError): UserError {
  const auth = error.kind === "auth";
  return new UserError({
    code: auth ? "provider-auth" : "provider-unreachable",
    message: `provider ${provider.label}: ${error.message}`,
    hint:
      error.hint ??
      (auth
        ? "check the API key in the variable named by the provider's apiKeyEnv (default OPENAI_API_KEY)"
        : "is the server running? check baseURL (or OPENAI_BASE_URL) and the model name"),
  });
}
