import type { CompletionRequest, Provider, ProviderSpec } from "../../src/providers/types.js";

/** The text of a request's last message: what most scripted answers look at. */
export const lastMessage = (request: CompletionRequest): string => request.messages.at(-1)?.content ?? "";

/**
 * A provider for `evaluate({ createProvider })` whose answers come from `answer`: the edge of the
 * process, not a mock of ours. `answer` may wait, keep count, or throw (a ProviderError is a
 * failed call); every answer reports 3 prompt and 1 completion token.
 */
export function scriptedProvider(
  answer: (request: CompletionRequest) => string | Promise<string>,
): (spec: ProviderSpec) => Promise<Provider> {
  return async (spec) => ({
    id: spec.id,
    label: spec.label,
    async complete(request) {
      return { outputs: [await answer(request)], usage: { prompt: 3, completion: 1 }, latencyMs: 1 };
    },
  });
}
