import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import { type SourceLocation, UserError } from "../errors.js";

/** A path into the config value, as zod reports it: `["prompts", 1, "template"]`. */
export type ConfigPath = ReadonlyArray<string | number>;

/** A parsed config value together with a way back from a path to where it was written. */
export interface ConfigSource {
  /** The file name used in locations. */
  file: string;
  /** The plain value (objects, arrays, scalars). */
  value: unknown;
  /** Where the value at `path` was written, else where its nearest written parent was. */
  locate(path: ConfigPath): SourceLocation;
  /** Where the key of the entry at `path` was written (for unknown keys); else as `locate`. */
  locateKey(path: ConfigPath): SourceLocation;
}

// yaml error codes worth a specific hint; anything else gets a generic one.
const SYNTAX_HINTS: Record<string, string> = {
  DUPLICATE_KEY: "each key may appear once in a mapping: remove or rename one of them",
  TAB_AS_INDENT: "indent with spaces: YAML does not allow tabs for indentation",
  BAD_INDENT: "line this up with the other entries of the same list or mapping",
  MULTIPLE_DOCS: "a config is one YAML document: remove the extra `---`",
  MISSING_CHAR: "look for an unclosed bracket, brace or quote",
  UNEXPECTED_TOKEN: "look for an unclosed bracket, brace or quote, or a stray character",
  // `a: b: c`, typically `id: openai:x` where the value itself holds ": " or ends in ":".
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": " or ends with ":", e.g. id: "openai:gpt-4o-mini"',
  MULTILINE_IMPLICIT_KEY: "a key must fit on one line and be followed by `: `",
};

/**
 * Parses YAML or JSON (JSON is read as YAML, so both get positions). Throws "config-syntax"
 * at the first syntax error, since later ones are usually echoes of it.
 */
export function parseConfigSource(text: string, file: string): ConfigSource {
  const lineCounter = new LineCounter();
  // `merge`: `<<: *params` lets providers share parameters without repeating them.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const first = doc.errors[0];
  if (first) {
    const isJson = file.toLowerCase().endsWith(".json");
    throw new UserError({
      code: "config-syntax",
      message: first.message.split("\n")[0],
      location: at(first.pos[0]),
      hint:
        SYNTAX_HINTS[first.code] ??
        `check the ${isJson ? "JSON" : "YAML"} syntax on this line and the one before`,
    });
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // toJS throws on unresolvable aliases (`*name` with no `&name`) and alias bombs.
    throw new UserError({
      code: "config-syntax",
      message: error instanceof Error ? error.message : String(error),
      location: { file },
      hint: "check the anchors (&name) and aliases (*name) in the file",
      cause: error,
    });
  }

  const nodeAt = (path: ConfigPath): Node | undefined => {
    const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
    return node && typeof node === "object" && "range" in node ? (node as Node) : undefined;
  };
  const locate = (path: ConfigPath): SourceLocation => {
    for (let length = path.length; length >= 0; length--) {
      const range = nodeAt(path.slice(0, length))?.range;
      if (range) return at(range[0]);
    }
    return { file, line: 1, column: 1 };
  };
  const locateKey = (path: ConfigPath): SourceLocation => {
    if (path.length > 0) {
      const parent = nodeAt(path.slice(0, -1));
      const key = String(path[path.length - 1]);
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) return at(range[0]);
      }
    }
    return locate(path);
  };
  return { file, value, locate, locateKey };
}

/** A source for a config built in code: no positions, so locations name only the file. */
export function createInlineSource(value: unknown, file = "<inline>"): ConfigSource {
  const locate = (): SourceLocation => ({ file });
  return { file, value, locate, locateKey: locate };
}

/** A config path as users read it: `prompts[1].template`, `providers[0].params`. */
export function formatConfigPath(path: ConfigPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
