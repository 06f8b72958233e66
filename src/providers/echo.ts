/** The `echo` provider: answers with the rendered prompt itself, so a suite runs with no model at all. */
import {
  type ChatMessage,
  type CompletionRequest,
  type CompletionResponse,
  type Provider,
  ProviderError,
  type ProviderSpec,
} from "./types.js";

/** The prompt as one text: a lone user message verbatim, otherwise one `role: content` line per message. */
export function renderEchoText(messages: ChatMessage[]): string {
  if (messages.length === 1 && messages[0].role === "user") return messages[0].content;
  return messages.map((message) => `${message.role}: ${message.content}`).join("\n");
}

/** Create the echo provider; it makes no calls and reports zero usage. */
export function createEchoProvider(spec: ProviderSpec): Provider {
  return {
    id: spec.id,
    label: spec.label || spec.id,
    async complete(request: CompletionRequest): Promise<CompletionResponse> {
      const started = performance.now();
      if (request.signal?.aborted) throw new ProviderError("aborted", "request aborted before it was sent");
      const text = renderEchoText(request.messages);
      const n = Math.max(1, request.n ?? 1);
      const outputs: string[] = [];
      for (let i = 0; i < n; i++) {
        if (request.signal?.aborted) throw new ProviderError("aborted", "request aborted");
        request.onToken?.(text);
        outputs.push(text);
      }
      return {
        outputs,
        usage: { prompt: 0, completion: 0 },
        latencyMs: performance.now() - started,
        model: "echo",
      };
    },
  };
}
