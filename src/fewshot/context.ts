/**
 * Knowledge-enhanced prompts: split a folder of notes into paragraph chunks and retrieve the
 * passages most relevant to a case with BM25.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { type Bm25Options, createBm25Index } from "./bm25.js";

/** One source file of a corpus. */
export interface CorpusFile {
  /** Path relative to the corpus folder, with "/" separators on every platform. */
  path: string;
  text: string;
}

/** One paragraph-sized piece of a source file. */
export interface Chunk {
  /** `<source>#<index>`, unique within a corpus. */
  id: string;
  /** The file the chunk came from. */
  source: string;
  /** 0-based position of the chunk within its file. */
  index: number;
  /** 1-based line of the file the chunk starts on. */
  line: number;
  text: string;
}

/** Options of chunkDocuments. */
export interface ChunkOptions {
  /** Paragraphs shorter than this (characters) are merged with the next one; default 80. */
  minChars?: number;
}

/**
 * Paragraph chunks: split on blank lines, trim, and merge short paragraphs (headings, one-liners)
 * into the next so a chunk carries enough words to be found. A short trailing paragraph joins the
 * previous chunk of its file. Chunks never span files.
 */
export function chunkDocuments(files: readonly CorpusFile[], options: ChunkOptions = {}): Chunk[] {
  const minChars = options.minChars ?? 80;
  const chunks: Chunk[] = [];
  for (const file of files) {
    const own: { text: string; line: number }[] = [];
    let buffer: { text: string; line: number } | undefined;
    for (const paragraph of paragraphsOf(file.text)) {
      buffer = buffer ? { text: `${buffer.text}\n\n${paragraph.text}`, line: buffer.line } : paragraph;
      if (buffer.text.length >= minChars) {
        own.push(buffer);
        buffer = undefined;
      }
    }
    if (buffer) {
      const last = own.at(-1);
      if (last) last.text += `\n\n${buffer.text}`;
      else own.push(buffer);
    }
    own.forEach(({ text, line }, index) => {
      chunks.push({ id: `${file.path}#${index}`, source: file.path, index, line, text });
    });
  }
  return chunks;
}

/** The non-blank paragraphs of a text (split on blank lines, trimmed), each with the line it starts on. */
function paragraphsOf(raw: string): { text: string; line: number }[] {
  const text = raw.replace(/\r\n?/g, "\n");
  const paragraphs: { text: string; line: number }[] = [];
  const newlines = (from: number, to: number) => {
    let count = 0;
    for (let i = text.indexOf("\n", from); i !== -1 && i < to; i = text.indexOf("\n", i + 1)) count++;
    return count;
  };
  let start = 0;
  let line = 1;
  const take = (end: number) => {
    const part = text.slice(start, end);
    const trimmed = part.trim();
    if (trimmed === "") return;
    const lead = part.length - part.trimStart().length;
    paragraphs.push({ text: trimmed, line: line + newlines(start, start + lead) });
  };
  const separator = /\n[ \t]*\n/g;
  for (let match = separator.exec(text); match; match = separator.exec(text)) {
    take(match.index);
    const end = match.index + match[0].length;
    line += newlines(start, end);
    start = end;
  }
  take(text.length);
  return paragraphs;
}

/** One retrieved passage. */
export interface Passage {
  text: string;
  source: string;
  /** Chunk index within its source. */
  index: number;
  /** 1-based line of the source the passage starts on. */
  line: number;
  /** 0-based position of the chunk in the corpus (the array the retriever was built from). */
  position: number;
  score: number;
}

/** Finds the passages relevant to a query. */
export interface PassageRetriever {
  /**
   * Up to k passages sharing at least one term with the query, best first (ties: corpus order).
   * With `accept`, only passages it accepts, asked in rank order: the next passage takes a refused one's place.
   */
  retrieve(query: string, k: number, options?: { accept?: (passage: Passage) => boolean }): Passage[];
}

/** A BM25 retriever over `chunks`. */
export function createPassageRetriever(chunks: readonly Chunk[], options?: Bm25Options): PassageRetriever {
  const index = createBm25Index(
    chunks.map((chunk) => ({ id: chunk.id, text: chunk.text })),
    options,
  );
  return {
    retrieve(query, k, options = {}) {
      const { accept } = options;
      const passage = (position: number, score: number): Passage => {
        const chunk = chunks[position];
        return {
          text: chunk.text,
          source: chunk.source,
          index: chunk.index,
          line: chunk.line,
          position,
          score,
        };
      };
      const hits = index.search(
        query,
        k,
        accept ? { accept: (position, score) => accept(passage(position, score)) } : {},
      );
      return hits.map((hit) => passage(hit.position, hit.score));
    },
  };
}

const CORPUS_EXTENSIONS = new Set([".md", ".txt"]);

/**
 * Every .md and .txt file under `dir`, recursively, sorted by relative path (code-unit order, not
 * locale order, so every machine agrees). Hidden entries (".git", ".DS_Store") and symbolic links
 * are skipped; links could loop or leave the folder.
 */
export async function loadCorpus(dir: string): Promise<CorpusFile[]> {
  const notFound = (cause?: unknown) =>
    new UserError({
      code: "dataset-not-found",
      location: { file: dir },
      message: `context folder not found: ${dir}`,
      hint: "point the context setting at a folder of .md or .txt files",
      cause,
    });
  try {
    if (!(await stat(dir)).isDirectory()) throw notFound();
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw notFound(error);
  }

  const relativePaths: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() && CORPUS_EXTENSIONS.has(path.extname(entry.name).toLowerCase()))
        relativePaths.push(child);
    }
  };
  await walk("");
  relativePaths.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

  const files: CorpusFile[] = [];
  for (const relative of relativePaths) {
    const text = await readFile(path.join(dir, relative), "utf8");
    files.push({ path: relative, text: text.startsWith("\uFEFF") ? text.slice(1) : text });
  }
  return files;
}
