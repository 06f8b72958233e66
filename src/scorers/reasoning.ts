/** A model output split into the final answer and the reasoning that preceded it. */
export interface StrippedOutput {
  /** What is left for scoring: trimmed when blocks were removed, the output unchanged otherwise. */
  answer: string;
  /** The text of the think blocks, joined by blank lines; null when the output had none. */
  reasoning: string | null;
}

const OPEN = /<think(?:ing)?>/i;
const CLOSE = /<\/think(?:ing)?>/i;

/**
 * Removes `<think>…</think>` blocks (also `<thinking>`) from an output before it is scored.
 * A block that never closes swallows the rest of the output: the model ran out of tokens while
 * thinking, so a leading unclosed block leaves the answer "". A closing tag with no opening one
 * means the chat template opened the block in the prompt (DeepSeek-R1, Qwen3): all text before
 * it is reasoning.
 */
export function stripReasoning(output: string): StrippedOutput {
  const blocks: string[] = [];
  let rest = output;
  let found = false;

  const firstClose = CLOSE.exec(rest);
  const firstOpen = OPEN.exec(rest);
  if (firstClose && (!firstOpen || firstClose.index < firstOpen.index)) {
    found = true;
    blocks.push(rest.slice(0, firstClose.index));
    rest = rest.slice(firstClose.index + firstClose[0].length);
  }

  for (let open = OPEN.exec(rest); open; open = OPEN.exec(rest)) {
    found = true;
    const after = rest.slice(open.index + open[0].length);
    const close = CLOSE.exec(after);
    if (!close) {
      blocks.push(after);
      rest = rest.slice(0, open.index);
      break;
    }
    blocks.push(after.slice(0, close.index));
    rest = rest.slice(0, open.index) + after.slice(close.index + close[0].length);
  }

  if (!found) return { answer: output, reasoning: null };
  return {
    answer: rest.trim(),
    reasoning: blocks
      .map((block) => block.trim())
      .filter(Boolean)
      .join("\n\n"),
  };
}
