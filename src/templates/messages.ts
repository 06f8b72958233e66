/**
 * Turning rendered template text into chat messages, and back into text for terminals.
 * Nothing here imports handlebars, so reporters and the CLI can print prompts without loading it.
 */
import type { ChatMessage } from "../providers/types.js";

/** A chat role a template can open a block for. */
export type Role = ChatMessage["role"];

/** The role block helpers, in the order the docs list them. */
export const ROLES: readonly Role[] = ["system", "user", "assistant"];

/** Whether a helper name is one of the role blocks. */
export function isRole(name: unknown): name is Role {
  return typeof name === "string" && (ROLES as readonly string[]).includes(name);
}

/**
 * The text a role block leaves in the rendered output around its content.
 * The nonce is fresh for every render and never reaches the template's variables,
 * so no value (a dataset field, a model output) can forge a role boundary.
 */
export function roleMarker(nonce: string, role: Role, edge: "open" | "close"): string {
  return `⟦${edge === "close" ? "/" : ""}promptsmith-${role}:${nonce}⟧`;
}

/**
 * Any role marker. One pattern for every render (the nonce is compared, not compiled in), because
 * a regex built per render with a new nonce is compiled afresh each time: 4% of a large run's CPU.
 */
const MARKER = /⟦(\/?)promptsmith-(system|user|assistant):([0-9a-f]+)⟧/g;

/**
 * Splits rendered text at the role markers of one render into messages, in order.
 * No markers: the whole text is one user message. Otherwise non-blank text between blocks becomes
 * a user message in its place, empty blocks are dropped, and consecutive same-role messages stay apart.
 */
export function splitMessages(text: string, nonce: string): ChatMessage[] {
  if (!/^[0-9a-f]+$/.test(nonce))
    throw new Error(`role marker nonce must be hex, got ${JSON.stringify(nonce)}`);
  const messages: ChatMessage[] = [];
  let open: Role | undefined;
  let cursor = 0;
  let sawMarker = false;
  for (const match of text.matchAll(MARKER)) {
    // A marker with another nonce is text (a value quoting some other render's output).
    if (match[3] !== nonce) continue;
    sawMarker = true;
    const closing = match[1] === "/";
    const role = match[2] as Role;
    const between = text.slice(cursor, match.index);
    // The role helpers refuse to nest, so an unbalanced sequence here is a bug, not user input.
    if (!closing) {
      if (open) throw new Error(`role block "${role}" opened inside "${open}"`);
      pushIfText(messages, "user", between);
      open = role;
    } else {
      if (open !== role) throw new Error(`role block "${role}" closed while "${open ?? "none"}" is open`);
      pushIfText(messages, role, between);
      open = undefined;
    }
    cursor = match.index + match[0].length;
  }
  if (open) throw new Error(`role block "${open}" never closed`);
  if (!sawMarker) return [{ role: "user", content: trimBlankLines(text) }];
  pushIfText(messages, "user", text.slice(cursor));
  return messages;
}

function pushIfText(messages: ChatMessage[], role: Role, text: string): void {
  const content = trimBlankLines(text);
  if (content !== "") messages.push({ role, content });
}

/**
 * Drops leading and trailing blank lines (and a whitespace-only text entirely) but keeps
 * indentation and trailing spaces of the lines with content: `A: ` must stay `A: `.
 */
export function trimBlankLines(text: string): string {
  const lines = text.split("\n");
  const isBlank = (line: string) => /^[ \t\r]*$/.test(line);
  let start = 0;
  let end = lines.length;
  while (start < end && isBlank(lines[start])) start++;
  while (end > start && isBlank(lines[end - 1])) end--;
  return lines.slice(start, end).join("\n");
}

/** A plain-text rendering of messages for terminals: `[system]\n…\n\n[user]\n…`. */
export function renderPromptText(messages: readonly ChatMessage[]): string {
  return messages.map((message) => `[${message.role}]\n${message.content}`).join("\n\n");
}
