/**
 * The contamination guard: finds the examples and passages that are copies of a test case, so a
 * case is never shown its own answer, whichever file the pool or corpus came from.
 *
 * Texts are compared normalized (Unicode NFKC, lower case, words split on anything that is not a
 * letter, digit or mark). An exact copy has the same normalized text; a near-copy shares most of
 * its word 3-grams (shingles). Near-copies are found with prefix filtering (Chaudhuri et al., 2006;
 * Bayardo et al., 2007): shingles are ordered rarest first, and two sets with Jaccard ≥ t must share
 * one of the first |x| − ⌈t·|x|⌉ + 1 shingles of each, so only rows sharing a rare shingle are
 * compared, and each such pair exactly. Unlike MinHash it misses nothing and guesses nothing: a
 * pair is a near-copy exactly when its Jaccard similarity reaches the threshold. Shingles are held
 * as 32-bit hashes, never as strings.
 */
import { cyrb53 } from "../key-set.js";
import { fmix32 } from "../rng.js";
import { textOf } from "./select.js";
import type { ShotRow } from "./types.js";

/** Words per shingle. Texts shorter than this are one shingle, so they match only exactly. */
export const SHINGLE_WORDS = 3;
/**
 * Jaccard similarity of two texts' word 3-gram sets from which an example is a near-copy of a
 * case: one word changed in the middle of a 19-word question (J = 14/20), or either end of an
 * 8-word one, gets there; "What is the capital of France?" and "…of Spain?" (J = 0.6) do not.
 */
export const NEAR_COPY_JACCARD = 0.7;
/**
 * Share of the question's word 3-grams a passage must hold, with the case's answer, to be a
 * near-copy of the question: "Paris is the capital of France." holds 3 of the 4 of "What is the
 * capital of France?" (0.75) and is a fair passage to retrieve, not a copy.
 */
export const NEAR_COPY_CONTAINMENT = 0.8;

/** What the guard does with a copy: `exclude` it, `warn` (keep it and flag it), or `allow` it unchecked. */
export type LeakPolicy = "exclude" | "warn" | "allow";

/** How similar a copy is: `exact` (the same normalized text), or `near`. */
export type CopyKind = "exact" | "near";

const WORD_SEPARATOR = /[^\p{L}\p{N}\p{M}]+/u;
const NON_WORD = /[^\p{L}\p{N}\p{M}]+/gu;
// Floating-point slack for the thresholds: 0.7 × 10 is 7.000000000000001.
const EPSILON = 1e-9;

/** The words of a text as the guard compares them: NFKC, lower case, split on non-letters; stop words kept. */
export function matchWords(text: string): string[] {
  const words: string[] = [];
  for (const word of text.normalize("NFKC").toLowerCase().split(WORD_SEPARATOR)) {
    if (word !== "") words.push(word);
  }
  return words;
}

/** The normalized text: its words joined by single spaces. */
export function normalizeForMatch(text: string): string {
  // One replace, no array of words: this runs on every pool row and every case.
  return text.normalize("NFKC").toLowerCase().replace(NON_WORD, " ").trim();
}

/** Which fields of a row are compared. */
export interface CompareFields {
  /** The selection field (`shots.field`): compared alone when the row has it. */
  field: string;
  /** Fields left out when the row lacks `field` and all its other fields are compared: the id and the answer. */
  skip: readonly string[];
}

/**
 * The fields the guard may compare in a row: its `field` alone when it has words there, else every
 * other field with words but `skip`, in key order (so field order in the file does not matter).
 */
export function comparedFields(row: Record<string, unknown>, fields: CompareFields): string[] {
  if (wordsOf(row[fields.field]) !== "") return [fields.field];
  return Object.keys(row)
    .filter((key) => !fields.skip.includes(key) && key !== fields.field && wordsOf(row[key]) !== "")
    .sort();
}

/**
 * The normalized text of some fields of a row, joined by " | " (normalized text holds no "|", so
 * two rows join to the same text exactly when every field is the same). Undefined when no words.
 */
export function fieldsText(row: Record<string, unknown>, names: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const name of names) {
    const normalized = wordsOf(row[name]);
    if (normalized !== "") parts.push(normalized);
  }
  return parts.length > 0 ? parts.join(" | ") : undefined;
}

/** The normalized text a row compares on its own: {@link fieldsText} of its {@link comparedFields}. */
export function comparedText(row: Record<string, unknown>, fields: CompareFields): string | undefined {
  return fieldsText(row, comparedFields(row, fields));
}

function wordsOf(value: unknown): string {
  const text = textOf(value);
  return text === undefined ? "" : normalizeForMatch(text);
}

/** Mixes the next word hash into a running shingle hash; order matters ("a b c" ≠ "c b a"). */
function mix(h: number, next: number): number {
  h = Math.imul(h ^ next, 0xcc9e2d51);
  return Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ (h >>> 13);
}

/** Word hashes and shingles of the text being shingled, reused: shingling allocates nothing per text. */
let wordHashes = new Uint32Array(256);
let shingleScratch = new Uint32Array(256);

/**
 * Writes the distinct word-3-gram hashes of a normalized text (words joined by single spaces),
 * sorted, to the start of `shingleScratch`, and returns how many; a text of fewer words is one
 * shingle. The words are hashed in place, never split out as strings.
 */
function shingleInto(text: string): number {
  if (text === "") return 0;
  let words = 0;
  let h = 0x811c9dc5;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (c !== 32) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (words === wordHashes.length) {
      const grown = new Uint32Array(words * 2);
      grown.set(wordHashes);
      wordHashes = grown;
    }
    wordHashes[words++] = h >>> 0;
    h = 0x811c9dc5;
  }
  const count = Math.max(1, words - SHINGLE_WORDS + 1);
  const width = Math.min(SHINGLE_WORDS, words);
  if (shingleScratch.length < count) shingleScratch = new Uint32Array(count * 2);
  for (let i = 0; i < count; i++) {
    let shingle = width;
    for (let j = 0; j < width; j++) shingle = mix(shingle, wordHashes[i + j]);
    shingleScratch[i] = fmix32(shingle);
  }
  const out = shingleScratch.subarray(0, count).sort();
  let distinct = 0;
  for (let i = 0; i < count; i++) if (i === 0 || out[i] !== out[i - 1]) out[distinct++] = out[i];
  return distinct;
}

/** The distinct word-3-gram hashes of a normalized text, sorted, in an array of their own. */
function shinglesOf(text: string): Uint32Array {
  return shingleScratch.slice(0, shingleInto(text));
}

/** |a ∩ b| of two sorted, distinct hash arrays. */
function sharedCount(a: Uint32Array, b: Uint32Array): number {
  let shared = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return shared;
}

/** How many of a set's rarest shingles must be probed so no set with `overlap` ≥ ⌈t·size⌉ is missed. */
function prefixLength(size: number, threshold: number): number {
  return size - Math.ceil(threshold * size - EPSILON) + 1;
}

/** A copy of a case found among indexed texts. */
export interface CopyMatch {
  /** 0-based position of the indexed text. */
  position: number;
  kind: CopyKind;
  /** 1 for an exact copy; else the Jaccard similarity (shots) or containment (passages) of the word 3-grams. */
  similarity: number;
}

/** Exact and near-copies of a text among the texts an index was built over. */
export interface CopyIndex {
  /** Copies of `text` (normalized, as {@link comparedText} gives it), by position. */
  find(text: string | undefined): CopyMatch[];
}

/**
 * Shingle frequencies for ordering shingles rarest first, counted in a fixed table by hash (two
 * shingles may share a count). Any fixed order is correct for prefix filtering; rarity only makes
 * the probed postings short, so an approximate count is enough, and it costs 4 bytes a slot
 * where a Map of millions of shingles took over 100 MB.
 */
function createFrequencies(shingles: Uint32Array): (hash: number) => number {
  // At most 2^20 slots (4 MB): a bigger table counts a little better and misses the cache far more.
  const bits = Math.min(20, Math.max(10, Math.ceil(Math.log2(shingles.length + 1))));
  const counts = new Uint32Array(1 << bits);
  const mask = counts.length - 1;
  for (const hash of shingles) counts[hash & mask]++;
  return (hash) => counts[hash & mask];
}

/** Sorts `into` (a scratch array of `set.length`) to the shingles of `set` rarest first, ties by hash. */
function rarestFirst(set: Uint32Array, rarity: (hash: number) => number, into: Float64Array): Float64Array {
  // Rarity and hash packed in one double (exact below 2^53), so a typed-array sort needs no comparator.
  for (let i = 0; i < set.length; i++) into[i] = Math.min(rarity(set[i]), 0x1fffff) * 4294967296 + set[i];
  return into.sort();
}

/** The shingle of a packed rarity-and-hash key. */
function hashOf(key: number): number {
  return key % 4294967296;
}

/**
 * Postings from shingle to rows in flat arrays: an open-addressed table of the shingles, each slot
 * pointing at its range of rows. Built from (shingle, row) pairs in row order, so each range is in
 * row order too.
 */
function createPostings(keys: Uint32Array, rows: Int32Array): (hash: number) => Int32Array {
  const size = 1 << Math.max(4, Math.ceil(Math.log2(keys.length * 2 + 1)));
  const mask = size - 1;
  const slotKeys = new Uint32Array(size);
  const occupied = new Uint8Array(size);
  const counts = new Int32Array(size + 1);
  const slotOf = (hash: number): number => {
    let slot = fmix32(hash) & mask;
    while (occupied[slot] && slotKeys[slot] !== hash) slot = (slot + 1) & mask;
    return slot;
  };
  const slots = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const slot = slotOf(keys[i]);
    occupied[slot] = 1;
    slotKeys[slot] = keys[i];
    counts[slot + 1]++;
    slots[i] = slot;
  }
  for (let slot = 0; slot < size; slot++) counts[slot + 1] += counts[slot];
  const postings = new Int32Array(keys.length);
  const filled = counts.slice(0, size);
  for (let i = 0; i < keys.length; i++) postings[filled[slots[i]]++] = rows[i];
  const none = new Int32Array(0);
  return (hash) => {
    const slot = slotOf(hash);
    return occupied[slot] ? postings.subarray(counts[slot], counts[slot + 1]) : none;
  };
}

/**
 * An index over normalized texts (undefined: nothing to compare) for exact copies (a hash of the
 * text) and near-copies (Jaccard ≥ `threshold`, default {@link NEAR_COPY_JACCARD}, of the word
 * 3-grams). Built in one pass; a lookup touches only rows that share a rare shingle. Held in flat
 * typed arrays: about 4 bytes a shingle, plus a few per row.
 */
export function createCopyIndex(
  texts: readonly (string | undefined)[],
  options: { threshold?: number } = {},
): CopyIndex {
  const threshold = options.threshold ?? NEAR_COPY_JACCARD;
  const count = texts.length;
  // Exact copies: the first row with a text's hash, then a chain through rows with the same hash.
  const firstWith = new Map<number, number>();
  const nextWith = new Int32Array(count).fill(-1);
  // Every row's distinct shingles, sorted, one after another: row i's are shingles[starts[i]..starts[i+1]).
  const starts = new Int32Array(count + 1);
  let shingles = new Uint32Array(1024);
  let used = 0;
  texts.forEach((text, position) => {
    if (text) {
      const key = cyrb53(text);
      const first = firstWith.get(key);
      if (first === undefined) firstWith.set(key, position);
      else {
        let last = first;
        while (nextWith[last] !== -1) last = nextWith[last];
        nextWith[last] = position;
      }
      const size = shingleInto(text);
      if (used + size > shingles.length) {
        const grown = new Uint32Array(Math.max(shingles.length * 2, used + size));
        grown.set(shingles.subarray(0, used));
        shingles = grown;
      }
      shingles.set(shingleScratch.subarray(0, size), used);
      used += size;
    }
    starts[position + 1] = used;
  });
  shingles = shingles.slice(0, used);
  const rarity = createFrequencies(shingles);

  let prefixCount = 0;
  for (let position = 0; position < count; position++) {
    const size = starts[position + 1] - starts[position];
    if (size > 0) prefixCount += prefixLength(size, threshold);
  }
  const prefixKeys = new Uint32Array(prefixCount);
  const prefixRows = new Int32Array(prefixCount);
  let scratch = new Float64Array(64);
  for (let position = 0, at = 0; position < count; position++) {
    const set = shingles.subarray(starts[position], starts[position + 1]);
    if (set.length === 0) continue;
    if (scratch.length < set.length) scratch = new Float64Array(set.length * 2);
    const ordered = rarestFirst(set, rarity, scratch.subarray(0, set.length));
    for (let i = 0; i < prefixLength(set.length, threshold); i++, at++) {
      prefixKeys[at] = hashOf(ordered[i]);
      prefixRows[at] = position;
    }
  }
  const postingsOf = createPostings(prefixKeys, prefixRows);
  // Which query last saw a row as a candidate: no Set per lookup.
  const seenBy = new Int32Array(count).fill(-1);
  let lookups = 0;

  return {
    find(text) {
      if (!text) return [];
      const found: CopyMatch[] = [];
      const same = new Set<number>();
      for (let p = firstWith.get(cyrb53(text)) ?? -1; p !== -1; p = nextWith[p]) {
        same.add(p);
        found.push({ position: p, kind: "exact", similarity: 1 });
      }
      const query = shinglesOf(text);
      const ordered = rarestFirst(query, rarity, new Float64Array(query.length));
      const lookup = lookups++;
      for (let i = 0; i < prefixLength(query.length, threshold); i++) {
        for (const position of postingsOf(hashOf(ordered[i]))) {
          if (seenBy[position] === lookup || same.has(position)) continue;
          seenBy[position] = lookup;
          const from = starts[position];
          const size = starts[position + 1] - from;
          // Jaccard ≥ t needs t·|q| ≤ |set| ≤ |q| / t: most candidates stop here.
          if (size + EPSILON < threshold * query.length || threshold * size > query.length + EPSILON)
            continue;
          const shared = sharedCount(query, shingles.subarray(from, from + size));
          const similarity = shared / (query.length + size - shared);
          if (similarity >= threshold) found.push({ position, kind: "near", similarity });
        }
      }
      return found.sort((x, y) => x.position - y.position);
    },
  };
}

/** How a passage copies a question. */
export interface PassageCopy {
  kind: CopyKind;
  /** 1 for the whole question; else the share of its word 3-grams the passage holds. */
  similarity: number;
}

/** A question prepared once for checking many passages. */
interface PreparedQuestion {
  text: string;
  shingles: Uint32Array;
  /** The normalized answer, or undefined when there is none. */
  answer?: string;
}

/** A passage prepared once for checking many questions. */
interface PreparedPassage {
  text: string;
  shingles: Uint32Array;
}

function prepareQuestion(question: string, answer: unknown): PreparedQuestion | undefined {
  const words = matchWords(question);
  // A question of one or two words is in every corpus that mentions its topic.
  if (words.length < SHINGLE_WORDS) return undefined;
  const answerText = textOf(answer);
  const normalizedAnswer = answerText === undefined ? "" : normalizeForMatch(answerText);
  const text = words.join(" ");
  return {
    text,
    shingles: shinglesOf(text),
    ...(normalizedAnswer !== "" ? { answer: normalizedAnswer } : {}),
  };
}

function preparePassage(text: string): PreparedPassage {
  const words = matchWords(text);
  const normalized = words.join(" ");
  return { text: normalized, shingles: shinglesOf(normalized) };
}

/** Whether `inner` appears in `outer` as whole words (both normalized). */
function containsWords(outer: string, inner: string): boolean {
  return ` ${outer} `.includes(` ${inner} `);
}

function copyIn(question: PreparedQuestion, passage: PreparedPassage): PassageCopy | undefined {
  if (containsWords(passage.text, question.text)) return { kind: "exact", similarity: 1 };
  if (question.answer === undefined) return undefined;
  const similarity = sharedCount(question.shingles, passage.shingles) / question.shingles.length;
  if (similarity >= NEAR_COPY_CONTAINMENT && containsWords(passage.text, question.answer))
    return { kind: "near", similarity };
  return undefined;
}

/**
 * Whether `passage` holds a copy of a case's question: `exact` when it holds the whole question
 * (normalized), `near` when it holds at least {@link NEAR_COPY_CONTAINMENT} of the question's
 * word 3-grams together with the case's answer. Questions under three words are never copies.
 */
export function passageCopy(question: string, answer: unknown, passage: string): PassageCopy | undefined {
  const prepared = prepareQuestion(question, answer);
  return prepared ? copyIn(prepared, preparePassage(passage)) : undefined;
}

/** Checks the passages retrieved for cases, each passage prepared once. */
export interface PassageGuard {
  /** A check of passages against one case's question and answer. */
  forCase(
    question: string,
    answer: unknown,
  ): (passage: { text: string; position: number }) => PassageCopy | undefined;
}

/**
 * A passage guard that prepares each passage the first time it is retrieved and keeps it by its
 * position in the corpus: at most the corpus once over, and only the passages retrieval reaches.
 */
export function createPassageGuard(): PassageGuard {
  const prepared = new Map<number, PreparedPassage>();
  return {
    forCase(question, answer) {
      const query = prepareQuestion(question, answer);
      return (passage) => {
        if (!query) return undefined;
        let ready = prepared.get(passage.position);
        if (!ready) {
          ready = preparePassage(passage.text);
          prepared.set(passage.position, ready);
        }
        return copyIn(query, ready);
      };
    },
  };
}

/** Every passage of a corpus that copies a question, found without reading the corpus per case. */
export interface ContainmentIndex {
  /** The passages holding a copy of `question` (see {@link passageCopy}), by position. */
  find(question: string, answer: unknown): CopyMatch[];
}

/**
 * An inverted index of the passages' word 3-grams. A passage holding ≥ t of a question's shingles
 * holds one of its |q| − ⌈t·|q|⌉ + 1 rarest, so only those postings are read, and each candidate
 * is checked exactly.
 */
export function createContainmentIndex(passages: readonly string[]): ContainmentIndex {
  const sets = passages.map((text) => shinglesOf(normalizeForMatch(text)));
  let total = 0;
  for (const set of sets) total += set.length;
  const keys = new Uint32Array(total);
  const rows = new Int32Array(total);
  let at = 0;
  sets.forEach((set, position) => {
    keys.set(set, at);
    rows.fill(position, at, at + set.length);
    at += set.length;
  });
  const postingsOf = createPostings(keys, rows);
  const rarity = (hash: number) => postingsOf(hash).length;
  return {
    find(question, answer) {
      const query = prepareQuestion(question, answer);
      if (!query) return [];
      const ordered = rarestFirst(query.shingles, rarity, new Float64Array(query.shingles.length));
      const candidates = new Set<number>();
      for (let i = 0; i < prefixLength(ordered.length, NEAR_COPY_CONTAINMENT); i++) {
        for (const position of postingsOf(hashOf(ordered[i]))) candidates.add(position);
      }
      const found: CopyMatch[] = [];
      for (const position of [...candidates].sort((x, y) => x - y)) {
        const copy = copyIn(query, { text: normalizeForMatch(passages[position]), shingles: sets[position] });
        if (copy) found.push({ position, ...copy });
      }
      return found;
    },
  };
}

/** A copy of a case found in an example pool, and what the policy does with it. */
export interface ShotLeak extends CopyMatch {
  /** `excluded`: never chosen for the case; `flagged`: left in the pool and reported. */
  action: "excluded" | "flagged";
}

/** Options of a shot guard. */
export interface ShotGuardOptions {
  /** The selection field (`shots.field`). */
  field: string;
  /** The pool's answer field (`shots.label`), never compared. */
  label: string;
  /** The test set's answer field (`tests.expected`), never compared. */
  expected: string;
  /** The id field of both files; default "id". */
  idField?: string;
  /** Default: exact copies excluded, near-copies flagged. */
  leak?: LeakPolicy;
  /** The pool is the test set: a case's own row is left out by the selector, and is no leak. */
  excludeSelf?: boolean;
}

/** Finds the copies of each case in one pool. */
export interface ShotGuard {
  /** The pool rows that copy this case, by position, each with what the policy does with it (do not mutate). */
  check(query: { id: string; vars: Record<string, unknown> }): readonly ShotLeak[];
}

/** Pool rows that compare the same fields, and an index of them per set of fields compared. */
interface FieldGroup {
  names: string[];
  positions: number[];
  indexes: Map<string, CopyIndex>;
}

/**
 * A guard over `pool`: linear in the pool. A case and an example are compared over the fields they
 * share (`field` when both have it; else every field but the id and the answers) when either row's
 * fields are all shared: a column only one side has (a `split`, a `topic`) is set aside, so an
 * example that matches the case on every shared field is an exact copy; two rows that share only a
 * side column are not compared. Rows are grouped by their fields, and each group is indexed once for
 * each set of shared fields the cases ask for (in practice one).
 */
export function createShotGuard(pool: readonly ShotRow[], options: ShotGuardOptions): ShotGuard {
  if (options.leak === "allow") return { check: () => [] };
  const idField = options.idField ?? "id";
  const poolFields: CompareFields = { field: options.field, skip: [idField, options.label] };
  const caseFields: CompareFields = { field: options.field, skip: [idField, options.expected] };
  const groups = new Map<string, FieldGroup>();
  pool.forEach((shot, position) => {
    const names = comparedFields(shot.row, poolFields);
    if (names.length === 0) return;
    const key = names.join("\u0000");
    let group = groups.get(key);
    if (!group) {
      group = { names, positions: [], indexes: new Map() };
      groups.set(key, group);
    }
    group.positions.push(position);
  });
  /** Per set of a case's fields: the groups it is compared with, and over which fields. */
  const plans = new Map<string, { group: FieldGroup; shared: string[]; index(): CopyIndex }[]>();
  const planFor = (names: string[]) => {
    const key = names.join("\u0000");
    let plan = plans.get(key);
    if (plan) return plan;
    plan = [];
    const mine = new Set(names);
    for (const group of groups.values()) {
      const shared = group.names.filter((name) => mine.has(name));
      if (shared.length === 0 || (shared.length < group.names.length && shared.length < names.length))
        continue;
      const sharedKey = shared.join("\u0000");
      plan.push({
        group,
        shared,
        index() {
          let index = group.indexes.get(sharedKey);
          if (!index) {
            index = createCopyIndex(group.positions.map((p) => fieldsText(pool[p].row, shared)));
            group.indexes.set(sharedKey, index);
          }
          return index;
        },
      });
    }
    plans.set(key, plan);
    return plan;
  };
  const actionOf = (kind: CopyKind): ShotLeak["action"] =>
    options.leak === "exclude" || (options.leak === undefined && kind === "exact") ? "excluded" : "flagged";
  // A case is checked once per provider and shot draw, one job after another: the last answer is kept.
  let last: { id: string; vars: Record<string, unknown>; leaks: ShotLeak[] } | undefined;
  return {
    check(query) {
      if (last && last.vars === query.vars && last.id === query.id) return last.leaks;
      const leaks: ShotLeak[] = [];
      for (const { group, shared, index } of planFor(comparedFields(query.vars, caseFields))) {
        for (const match of index().find(fieldsText(query.vars, shared))) {
          const position = group.positions[match.position];
          if (options.excludeSelf && pool[position].id === query.id) continue;
          leaks.push({ ...match, position, action: actionOf(match.kind) });
        }
      }
      leaks.sort((a, b) => a.position - b.position);
      last = { id: query.id, vars: query.vars, leaks };
      return leaks;
    },
  };
}
