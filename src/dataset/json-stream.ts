/**
 * Splits a JSON dataset into its rows as the text streams in: a top-level array, or the array under
 * one key of a top-level object (`{"cases": [...]}`). Each element's text is handed to JSON.parse,
 * so values mean exactly what they mean to JSON.parse; this scanner only finds where elements start
 * and end, and checks the punctuation between them. Memory holds one element and one chunk, so a
 * JSON file of any size reads as flat as JSONL.
 */

/** One element of the array: its parsed value and where it starts. */
export interface JsonElement {
  value: unknown;
  /** 1-based line of the element's first character. */
  line: number;
  /** 0-based index in the array. */
  index: number;
}

/** A problem in the text, located; the caller turns it into a user error. */
export class JsonStreamError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    /** `syntax`: not valid JSON. `shape`: valid so far, but not an array of rows. */
    readonly kind: "syntax" | "shape",
    /** For `shape`: the value found instead, when it was read whole. */
    readonly found?: unknown,
  ) {
    super(message);
  }
}

type State =
  | "start"
  | "object-key" // in the top-level object, before a key or its closing brace
  | "object-next-key" // after a ',' in the top-level object: a key must follow
  | "object-colon"
  | "object-value"
  | "object-next" // after a value: ',' or '}'
  | "array-first" // just after '[': an element or ']'
  | "array-element" // after ',': an element
  | "array-next" // after an element: ',' or ']'
  | "after-array" // the array under the key closed: back in the object
  | "end";

const SPACE = new Set([" ", "\t", "\n", "\r"]);

/**
 * Feed it text with `push`, then call `end`; both return the elements completed so far.
 * `key` names the array inside a top-level object; a top-level array is read as it is.
 */
export class JsonArrayScanner {
  private buf = "";
  private pos = 0;
  /** Line number of buf[0], and how far into buf lines have been counted (for `lineAt`). */
  private bufLine = 1;
  private countedTo = 0;
  private countedLine = 1;
  /** Characters of buf[0]'s line that came before it (already dropped). */
  private columnBase = 0;
  private state: State = "start";
  private index = 0;
  private currentKey: string | undefined;
  private keySeen = false;
  private topLevelObject = false;
  private first = true;
  /** How far the scan of a container cut off by the end of the buffer got. */
  private partial: { start: number; at: number; depth: number } | undefined;

  /** With `keepOthers`, the values of the top-level object's other keys, as they are read. */
  readonly others: Record<string, unknown> = Object.create(null);
  private readonly keepOthers: boolean;
  private keysBeforeArray: readonly string[] = [];

  /** `keepOthers`: keep the other keys' values in `others` (a run record's header), instead of dropping them. */
  constructor(
    private readonly key: string,
    options: { keepOthers?: boolean } = {},
  ) {
    this.keepOthers = options.keepOthers === true;
  }

  push(text: string): JsonElement[] {
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // Drop what is consumed, keeping the line and column of the new buf[0].
    const line = this.lineAt(this.pos);
    const dropped = this.buf.slice(0, this.pos);
    const newline = dropped.lastIndexOf("\n");
    this.columnBase = newline === -1 ? this.columnBase + dropped.length : dropped.length - newline - 1;
    this.buf = this.buf.slice(this.pos) + text;
    if (this.partial)
      this.partial = {
        ...this.partial,
        start: this.partial.start - this.pos,
        at: this.partial.at - this.pos,
      };
    this.pos = 0;
    this.bufLine = line;
    this.countedLine = line;
    this.countedTo = 0;
    return this.scan(false);
  }

  end(): JsonElement[] {
    const out = this.scan(true);
    if (this.state !== "end") {
      if (this.state === "start" && this.buf.slice(this.pos).trim() === "") return out;
      throw this.syntax(this.buf.length, "the file ends before the JSON does");
    }
    return out;
  }

  /** Whether the array under the key has begun. */
  get inArray(): boolean {
    return this.keySeen;
  }

  /** With `keepOthers`, the keys of `others` that came before the array (a run record's header). */
  get keysBefore(): readonly string[] {
    return this.keysBeforeArray;
  }

  /** Whether the rows come from under the key of a top-level object (for row field paths). */
  get underKey(): boolean {
    return this.topLevelObject;
  }

  private scan(final: boolean): JsonElement[] {
    const out: JsonElement[] = [];
    for (;;) {
      const i = this.skipSpace(this.pos);
      if (i >= this.buf.length) {
        this.pos = i;
        return out;
      }
      const c = this.buf[i];
      switch (this.state) {
        case "start":
          if (c === "[") {
            this.state = "array-first";
            this.pos = i + 1;
          } else if (c === "{") {
            this.topLevelObject = true;
            this.state = "object-key";
            this.pos = i + 1;
          } else {
            // Not a container: read it whole to say what it is.
            const endAt = this.valueEnd(i, final);
            if (endAt === -1) return out;
            const value = this.parseAt(i, endAt);
            throw this.shape(i, value);
          }
          break;
        case "object-key":
        case "object-next-key": {
          if (c === "}") {
            // `{"a": 1,}`
            if (this.state === "object-next-key") throw this.syntax(i, "a trailing comma before '}'");
            this.finishObject(i);
            break;
          }
          if (c !== '"') throw this.syntax(i, `expected a key in double quotes, found ${show(c)}`);
          const endAt = this.stringEnd(i);
          if (endAt === -1) return out;
          this.currentKey = this.parseAt(i, endAt) as string;
          this.state = "object-colon";
          this.pos = endAt;
          break;
        }
        case "object-colon":
          if (c !== ":") throw this.syntax(i, `expected ':' after a key, found ${show(c)}`);
          this.state = "object-value";
          this.pos = i + 1;
          break;
        case "object-value": {
          if (this.currentKey === this.key) {
            if (this.keySeen) throw this.syntax(i, `the key "${this.key}" appears twice`, "shape");
            if (c === "[") {
              this.keySeen = true;
              this.keysBeforeArray = Object.keys(this.others);
              this.state = "array-first";
              this.pos = i + 1;
              break;
            }
            const endAt = this.valueEnd(i, final);
            if (endAt === -1) return out;
            throw this.shape(i, this.parseAt(i, endAt), true);
          }
          const endAt = this.valueEnd(i, final);
          if (endAt === -1) return out;
          // Checked for syntax like every other value, then dropped (or kept, when asked).
          const value = this.parseAt(i, endAt);
          if (this.keepOthers) this.others[this.currentKey as string] = value;
          this.state = "object-next";
          this.pos = endAt;
          break;
        }
        case "object-next":
        case "after-array":
          if (c === ",") {
            this.state = "object-next-key";
            this.pos = i + 1;
          } else if (c === "}") {
            this.finishObject(i);
          } else throw this.syntax(i, `expected ',' or '}' after a value, found ${show(c)}`);
          break;
        case "array-first":
        case "array-element": {
          if (c === "]") {
            if (this.state === "array-element") throw this.syntax(i, "a trailing comma before ']'");
            this.closeArray(i);
            break;
          }
          const endAt = this.valueEnd(i, final);
          if (endAt === -1) return out;
          out.push({ value: this.parseAt(i, endAt), line: this.lineAt(i), index: this.index++ });
          this.state = "array-next";
          this.pos = endAt;
          break;
        }
        case "array-next":
          if (c === ",") {
            this.state = "array-element";
            this.pos = i + 1;
          } else if (c === "]") this.closeArray(i);
          else throw this.syntax(i, `expected ',' or ']' after an element, found ${show(c)}`);
          break;
        case "end":
          throw this.syntax(i, `unexpected ${show(c)} after the end of the JSON`);
      }
    }
  }

  private closeArray(i: number): void {
    this.state = this.topLevelObject ? "after-array" : "end";
    this.pos = i + 1;
  }

  private finishObject(i: number): void {
    if (!this.keySeen) throw this.shape(i, undefined);
    this.state = "end";
    this.pos = i + 1;
  }

  private skipSpace(i: number): number {
    while (i < this.buf.length && SPACE.has(this.buf[i])) i++;
    return i;
  }

  /** Index after the string starting at `i`, or -1 when the buffer ends inside it. */
  private stringEnd(i: number): number {
    for (let j = i + 1; j < this.buf.length; j++) {
      const c = this.buf.charCodeAt(j);
      if (c === 0x5c) j++;
      else if (c === 0x22) return j + 1;
    }
    return -1;
  }

  /** Index after the value starting at `i`, or -1 when more text is needed to know. */
  private valueEnd(i: number, final: boolean): number {
    const first = this.buf[i];
    if (first === '"') {
      const endAt = this.stringEnd(i);
      if (endAt === -1 && final) throw this.syntax(this.buf.length, "a string is never closed");
      return endAt;
    }
    if (first === "{" || first === "[") {
      // A value cut by the end of the buffer is scanned on from where it stopped, not from its
      // start, so one value spanning many chunks costs one pass.
      const resumed = this.partial?.start === i ? this.partial : undefined;
      let depth = resumed?.depth ?? 0;
      let j = resumed?.at ?? i;
      for (; j < this.buf.length; j++) {
        const c = this.buf.charCodeAt(j);
        if (c === 0x22) {
          const endAt = this.stringEnd(j);
          if (endAt === -1) break;
          j = endAt - 1;
        } else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) {
            this.partial = undefined;
            return j + 1;
          }
        }
      }
      if (final) throw this.syntax(this.buf.length, `a ${first === "{" ? "'{'" : "'['"} is never closed`);
      this.partial = { start: i, at: j, depth };
      return -1;
    }
    let j = i;
    while (j < this.buf.length && !SPACE.has(this.buf[j]) && !",]}".includes(this.buf[j])) j++;
    // A number may go on in the next chunk.
    return j === this.buf.length && !final ? -1 : j;
  }

  /** JSON.parse of buf[start, end), with its errors located in the file. */
  private parseAt(start: number, end: number): unknown {
    const text = this.buf.slice(start, end);
    try {
      return JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const position = /at position (\d+)/.exec(reason);
      // "Unexpected end of JSON input" has no position: the problem is at the end.
      const at = start + (position ? Number(position[1]) : text.length);
      // The position is the element's, not the file's: the error's location says where.
      const said = reason.replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, "");
      throw this.syntax(at, said.replace(/\s*[\r\n]+\s*/g, " ").trim());
    }
  }

  /** 1-based line of buf[offset]; offsets only grow between calls, so counting is linear overall. */
  private lineAt(offset: number): number {
    if (offset < this.countedTo) {
      // Rare (an error before the last counted point): count from buf's start.
      let line = this.bufLine;
      for (let j = this.buf.indexOf("\n"); j !== -1 && j < offset; j = this.buf.indexOf("\n", j + 1)) line++;
      return line;
    }
    for (
      let j = this.buf.indexOf("\n", this.countedTo);
      j !== -1 && j < offset;
      j = this.buf.indexOf("\n", j + 1)
    )
      this.countedLine++;
    this.countedTo = offset;
    return this.countedLine;
  }

  private columnAt(offset: number): number {
    let start = offset;
    while (start > 0 && this.buf[start - 1] !== "\n") start--;
    return offset - start + 1 + (start === 0 ? this.columnBase : 0);
  }

  private syntax(offset: number, message: string, kind: "syntax" | "shape" = "syntax"): JsonStreamError {
    return new JsonStreamError(message, this.lineAt(offset), this.columnAt(offset), kind);
  }

  private shape(offset: number, found: unknown, underKey = false): JsonStreamError {
    const error = new JsonStreamError(
      underKey ? `"${this.key}" is not an array` : "not an array of rows",
      this.lineAt(offset),
      this.columnAt(offset),
      "shape",
      found,
    );
    return error;
  }
}

function show(c: string): string {
  return JSON.stringify(c);
}
