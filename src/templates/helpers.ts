/**
 * The helpers a prompt writer can call, and the role block helpers.
 * Plain functions with Handlebars' calling convention (arguments, then an options object),
 * so this file does not import handlebars.
 */
import { isRole, type Role, roleMarker } from "./messages.js";

/** The part of Handlebars' helper options object that promptsmith reads. */
export interface HelperCallOptions {
  /** The block's body; absent when the helper is called as `{{name}}` rather than `{{#name}}…{{/name}}`. */
  fn?: (context: unknown, options?: { data?: unknown }) => string;
  data?: Record<string, unknown>;
  /** Where the call is in the template: 1-based line, 0-based column. */
  loc?: { start: { line: number; column: number } };
}

/** A helper was called in a way that cannot work; the engine turns it into a located UserError. */
export class HelperUsageError extends Error {
  readonly loc?: { line: number; column: number };
  readonly hint?: string;

  constructor(message: string, options: { loc?: HelperCallOptions["loc"]; hint?: string } = {}) {
    super(message);
    this.name = "HelperUsageError";
    this.loc = options.loc?.start;
    this.hint = options.hint;
  }
}

/** The `@data` key carrying the per-render nonce of the role markers. */
export const NONCE_KEY = "promptsmithNonce";
/** The `@data` key naming the role block being rendered, to refuse nesting across partials. */
export const ROLE_KEY = "promptsmithRole";

/** How a value helper is called: its argument count and whether a missing variable in it is an error. */
export interface HelperSpec {
  fn: (...args: unknown[]) => unknown;
  minArgs: number;
  maxArgs: number;
  /**
   * True: `{{upper qestion}}` fails like `{{qestion}}` would. False for helpers whose point is
   * an absent value (`default`, `eq`), where Handlebars' lenient argument lookup is wanted.
   */
  strictArgs: boolean;
  /** One line for templates/README.md and hints. */
  usage: string;
}

function toText(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

function toNumber(helper: string, value: unknown, loc: HelperCallOptions["loc"]): number {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) {
    throw new HelperUsageError(
      `helper "${helper}" expects a number, received ${JSON.stringify(value) ?? "undefined"}`,
      {
        loc,
        hint: `pass a number or a numeric field to ${helper}, e.g. {{${helper} @index}}`,
      },
    );
  }
  return number;
}

/** Splits Handlebars' arguments into the positional ones and the options object it appends. */
function split(args: unknown[]): [unknown[], HelperCallOptions] {
  return [args.slice(0, -1), (args[args.length - 1] ?? {}) as HelperCallOptions];
}

/** 0 → A, 25 → Z, 26 → AA: spreadsheet-style labels, so any number of choices gets a label. */
function letterOf(index: number): string {
  let n = index + 1;
  let label = "";
  while (n > 0) {
    const rem = (n - 1) % 26;
    label = String.fromCharCode(65 + rem) + label;
    n = Math.floor((n - 1) / 26);
  }
  return label;
}

/** The value helpers by name. */
export const HELPERS: Readonly<Record<string, HelperSpec>> = {
  json: {
    minArgs: 1,
    maxArgs: 2,
    strictArgs: true,
    usage: "{{json value}} or {{json value 2}}: JSON.stringify, with an optional indent",
    fn: (...raw) => {
      const [[value, indent], options] = split(raw);
      const space = indent === undefined ? undefined : toNumber("json", indent, options.loc);
      return JSON.stringify(value, null, space) ?? "";
    },
  },
  trim: {
    minArgs: 1,
    maxArgs: 1,
    strictArgs: true,
    usage: "{{trim text}}: without leading and trailing whitespace",
    fn: (...raw) => toText(split(raw)[0][0]).trim(),
  },
  upper: {
    minArgs: 1,
    maxArgs: 1,
    strictArgs: true,
    usage: "{{upper text}}: upper case",
    fn: (...raw) => toText(split(raw)[0][0]).toUpperCase(),
  },
  lower: {
    minArgs: 1,
    maxArgs: 1,
    strictArgs: true,
    usage: "{{lower text}}: lower case",
    fn: (...raw) => toText(split(raw)[0][0]).toLowerCase(),
  },
  join: {
    minArgs: 1,
    maxArgs: 2,
    strictArgs: true,
    usage: '{{join list}} or {{join list " | "}}: the items joined by the separator (default ", ")',
    fn: (...raw) => {
      const [[list, separator]] = split(raw);
      const sep = separator === undefined ? ", " : toText(separator);
      return Array.isArray(list) ? list.map(toText).join(sep) : toText(list);
    },
  },
  inc: {
    minArgs: 1,
    maxArgs: 1,
    strictArgs: true,
    usage: "{{inc @index}}: n + 1, for 1-based numbering",
    fn: (...raw) => {
      const [[n], options] = split(raw);
      return toNumber("inc", n, options.loc) + 1;
    },
  },
  letter: {
    minArgs: 1,
    maxArgs: 1,
    strictArgs: true,
    usage: "{{letter @index}}: 0 → A, 1 → B, … 25 → Z, 26 → AA; for choice labels",
    fn: (...raw) => {
      const [[n], options] = split(raw);
      const index = toNumber("letter", n, options.loc);
      if (!Number.isInteger(index) || index < 0) {
        throw new HelperUsageError(`helper "letter" expects a whole number ≥ 0, received ${index}`, {
          loc: options.loc,
          hint: "letter counts from 0, like @index",
        });
      }
      return letterOf(index);
    },
  },
  add: {
    minArgs: 2,
    maxArgs: 2,
    strictArgs: true,
    usage: "{{add a b}}: a + b as numbers",
    fn: (...raw) => {
      const [[a, b], options] = split(raw);
      return toNumber("add", a, options.loc) + toNumber("add", b, options.loc);
    },
  },
  eq: {
    minArgs: 2,
    maxArgs: 2,
    strictArgs: false,
    usage: "{{#if (eq a b)}}…{{/if}}: true when a === b (a missing field is undefined, not an error)",
    fn: (...raw) => {
      const [[a, b]] = split(raw);
      return a === b;
    },
  },
  default: {
    minArgs: 2,
    maxArgs: 2,
    strictArgs: false,
    usage: '{{default value "fallback"}}: the value, or the fallback when it is missing, null or ""',
    fn: (...raw) => {
      const [[value, fallback]] = split(raw);
      return value === undefined || value === null || value === "" ? fallback : value;
    },
  },
};

/**
 * `{{#system}}…{{/system}}` and its siblings: wrap the block's output in this render's markers.
 * The engine splits the markers into messages after rendering (see splitMessages).
 */
export function createRoleHelper(role: Role): (this: unknown, ...args: unknown[]) => string {
  return function roleBlock(this: unknown, ...args: unknown[]): string {
    const [params, options] = split(args);
    if (!options.fn) {
      throw new HelperUsageError(`{{${role}}} is a role block; write {{#${role}}}…{{/${role}}}`, {
        loc: options.loc,
        hint: `to print a variable named "${role}", write {{this.${role}}}`,
      });
    }
    if (params.length > 0) {
      throw new HelperUsageError(`role block {{#${role}}} takes no arguments`, { loc: options.loc });
    }
    const data = options.data ?? {};
    const nonce = data[NONCE_KEY];
    if (typeof nonce !== "string") throw new Error("role block rendered without a nonce in @data");
    const outer = data[ROLE_KEY];
    // Reached only through a partial: a nested block in one file is refused when it is compiled.
    if (isRole(outer)) {
      throw new HelperUsageError(
        `{{#${role}}} is nested inside {{#${outer}}}; role blocks cannot be nested`,
        {
          loc: options.loc,
          hint: `close {{/${outer}}} before opening {{#${role}}}`,
        },
      );
    }
    // Handlebars' createFrame, written out: a child frame that remembers which role it is in.
    const frame = { ...data, _parent: data, [ROLE_KEY]: role };
    return (
      roleMarker(nonce, role, "open") + options.fn(this, { data: frame }) + roleMarker(nonce, role, "close")
    );
  };
}
