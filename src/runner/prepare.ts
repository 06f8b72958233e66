import { createHash } from "node:crypto";
import path from "node:path";
import { DEFAULT_EMBEDDING_MODEL } from "../config/defaults.js";
import type { PromptSpec, ShotsSpec, Suite } from "../config/types.js";
import { readCases } from "../dataset/index.js";
import type { Case } from "../dataset/types.js";
import { UserError } from "../errors.js";
import {
  chunkDocuments,
  createEmbeddingSelector,
  createPassageGuard,
  createPassageRetriever,
  createShotGuard,
  createShotSelector,
  createTokenCounter,
  fitShotsToBudget,
  isBuiltinPoolRef,
  loadBuiltinPool,
  loadCorpus,
  type Passage,
  type PassageGuard,
  type PassageRetriever,
  poolTexts,
  queryText,
  type SelectedShot,
  type ShotGuard,
  type ShotQuery,
  type ShotRow,
  toShotRows,
} from "../fewshot/index.js";
import type { ChatMessage } from "../providers/types.js";
import type { CaseLeak } from "../record/types.js";
import { canonicalJson } from "../store/job-key.js";
import { createPromptEngine, type PromptTemplate } from "../templates/index.js";
import type { EmbedTexts } from "./embed.js";

/** The zero-shot chain-of-thought trigger of Kojima et al. (2022). */
export const DEFAULT_COT_TRIGGER = "Let's think step by step.";

/** Chooses the shots of one case; `select: embedding` answers asynchronously (it embeds the case first). */
export interface VariantShotSelector {
  select(query: ShotQuery): SelectedShot[] | Promise<SelectedShot[]>;
}

/** A prompt ready to render: compiled templates, shot selectors (one per draw), retriever, token counter. */
export interface Variant {
  prompt: PromptSpec;
  template: PromptTemplate;
  extract?: PromptTemplate;
  /** One selector per draw; empty when the prompt has no shots. */
  selectors: VariantShotSelector[];
  retriever?: PassageRetriever;
  countTokens?: (text: string) => number;
  /** The contamination guard of the examples (absent with `shots.leak: allow` or no shots). */
  shotGuard?: VariantShotGuard;
  /** The contamination guard of the retrieved passages (with `context`), and the corpus as a record names it. */
  passageGuard?: { guard: PassageGuard; corpus: string };
}

/** A pool's contamination guard and how to name its rows in a record. */
export interface VariantShotGuard {
  guard: ShotGuard;
  rows: readonly ShotRow[];
  /** Where a pool row is, for the record: `data/train.jsonl:3`, or `builtin:<name>`. */
  where: (position: number) => string;
}

/** One prompt rendered for one case: what is sent, and what went into it. */
export interface RenderedJob {
  messages: ChatMessage[];
  /** Ids of the examples used, in prompt order. */
  shots?: string[];
  /** Passages given as `context`. */
  context?: { source: string; index: number; score: number }[];
  /** A short hash of the rendered messages: equal prompts have equal hashes. */
  promptHash: string;
  /** What the contamination guard checked for this case: `shots`, `context`; absent when nothing. */
  guarded?: ("shots" | "context")[];
  /** The copies of the case it found (empty when none); absent when nothing was checked. */
  leaks?: CaseLeak[];
}

/** Options of prepareVariants. */
export interface PrepareOptions {
  /** Picks the tokenizer for `maxTokens` budgets. */
  model?: string;
  /** Embeds texts for `select: embedding`; without it such a prompt is a UserError. */
  embed?: EmbedTexts;
}

/**
 * Compiles each prompt's templates and builds its example selectors and retriever once, before any
 * case is read; `select: embedding` embeds its pool here, once per pool, field and model.
 */
export async function prepareVariants(
  suite: Suite,
  prompts: PromptSpec[] = suite.prompts,
  options: PrepareOptions = {},
): Promise<Variant[]> {
  const engine = createPromptEngine({ partialsDir: suite.partialsDir });
  const pools = new Map<string, ShotPool>();
  const poolVectors = new Map<string, Float32Array[]>();
  const retrievers = new Map<string, PassageRetriever>();
  const shotGuards = new Map<string, VariantShotGuard>();
  const passageGuards = new Map<string, PassageGuard>();
  const variants: Variant[] = [];
  for (const prompt of prompts) {
    const template = engine.compile(prompt.template, {
      file: prompt.templatePath ?? `<inline:${prompt.id}>`,
    });
    const extract = prompt.extract
      ? engine.compile(prompt.extract.template, {
          file: prompt.extract.templatePath ?? `<inline:${prompt.id}.extract>`,
        })
      : undefined;
    let selectors: VariantShotSelector[] = [];
    let countTokens: ((text: string) => number) | undefined;
    let shotGuard: VariantShotGuard | undefined;
    if (prompt.shots && prompt.shots.k > 0) {
      const shots = prompt.shots;
      const embed = options.embed;
      // A suite built in code may leave it out: then the default model at OPENAI_BASE_URL.
      const embedding = shots.embedding ?? { model: DEFAULT_EMBEDDING_MODEL };
      if (shots.select === "embedding" && !embed) {
        throw new UserError({
          code: "usage",
          field: `prompts.${prompt.baseId}.shots.select`,
          message:
            "select: embedding needs vectors from the embeddings endpoint, and this command calls no endpoint",
          hint: "promptsmith eval embeds the examples and the cases (and caches the vectors); to preview here, use select: similar",
        });
      }
      let pool = pools.get(shots.from);
      if (!pool) {
        pool = await loadShotPool(shots, suite);
        pools.set(shots.from, pool);
      }
      const { rows, excludeSelf } = pool;
      if (shots.leak !== "allow") {
        // Built once per pool, fields and policy, before any case is read: linear in the pool.
        const key = `${shots.from}\u0000${shots.field}\u0000${shots.label}\u0000${shots.leak ?? ""}`;
        shotGuard = shotGuards.get(key);
        if (!shotGuard) {
          const source = pool.source;
          const lines = pool.lines;
          shotGuard = {
            guard: createShotGuard(rows, {
              field: shots.field,
              label: shots.label,
              expected: suite.tests.expected,
              leak: shots.leak,
              excludeSelf,
            }),
            rows,
            where: (position) => (lines?.[position] ? `${source}:${lines[position]}` : source),
          };
          shotGuards.set(key, shotGuard);
        }
      }
      if (shots.select === "embedding" && embed) {
        const vectorsKey = `${shots.from}\u0000${shots.field}\u0000${canonicalJson(embedding)}`;
        let vectors = poolVectors.get(vectorsKey);
        if (!vectors) {
          const texts = poolTexts(rows, shots.field, shots.from);
          vectors = texts.length > 0 ? await embed(texts, embedding) : [];
          poolVectors.set(vectorsKey, vectors);
        }
        const pooled = vectors;
        selectors = Array.from({ length: shots.draws }, (_, draw) => {
          const selector = createEmbeddingSelector(rows, pooled, {
            k: shots.k,
            order: shots.order,
            seed: shots.seed + draw,
            excludeSelf,
          });
          return {
            async select(query: ShotQuery) {
              const [vector] = await embed([queryText(query, shots.field)], embedding);
              return selector.select({
                id: query.id,
                vector,
                ...(query.exclude ? { exclude: query.exclude } : {}),
              });
            },
          };
        });
      } else {
        selectors = Array.from({ length: shots.draws }, (_, draw) =>
          createShotSelector(rows, {
            k: shots.k,
            select: shots.select as Exclude<ShotsSpec["select"], "embedding">,
            seed: shots.seed + draw,
            field: shots.field,
            label: shots.label,
            order: shots.order,
            excludeSelf,
            poolSource: shots.from,
          }),
        );
      }
      if (shots.maxTokens !== undefined) countTokens = await createTokenCounter(options.model);
    }
    let retriever: PassageRetriever | undefined;
    let passageGuard: Variant["passageGuard"];
    if (prompt.context) {
      retriever = retrievers.get(prompt.context.corpus);
      if (!retriever) {
        retriever = createPassageRetriever(chunkDocuments(await loadCorpus(prompt.context.corpus)));
        retrievers.set(prompt.context.corpus, retriever);
      }
      let guard = passageGuards.get(prompt.context.corpus);
      if (!guard) {
        guard = createPassageGuard();
        passageGuards.set(prompt.context.corpus, guard);
      }
      passageGuard = { guard, corpus: relativeToConfig(suite, prompt.context.corpus) };
    }
    variants.push({
      prompt,
      template,
      extract,
      selectors,
      retriever,
      countTokens,
      ...(shotGuard ? { shotGuard } : {}),
      ...(passageGuard ? { passageGuard } : {}),
    });
  }
  return variants;
}

/** An example pool as loaded: its rows, their lines in the file, and how a record names the file. */
export interface ShotPool {
  rows: ShotRow[];
  /** 1-based line of each row in its file; absent for a builtin pool. */
  lines?: number[];
  /** The file relative to the config's folder (`data/train.jsonl`), or `builtin:<name>`. */
  source: string;
  /** Whether the pool is the test set itself. */
  excludeSelf: boolean;
}

/** Loads the example pool of `shots` (a data file read as cases, or a builtin pool). */
export async function loadShotPool(shots: ShotsSpec, suite: Suite): Promise<ShotPool> {
  if (isBuiltinPoolRef(shots.from))
    return { rows: loadBuiltinPool(shots.from), source: shots.from, excludeSelf: false };
  const cases: Case[] = [];
  for await (const c of readCases(shots.from, { expectedField: shots.label })) cases.push(c);
  return {
    rows: toShotRows(cases),
    lines: cases.map((c) => c.line ?? 0),
    source: relativeToConfig(suite, shots.from),
    // When the examples come from the test set itself, a case must never be shown its own answer.
    excludeSelf: shots.from === suite.tests.path,
  };
}

/** A path as a record names it: relative to the config's folder, with "/" on every platform. */
export function relativeToConfig(suite: Suite, file: string): string {
  return path.relative(suite.baseDir, file).split(path.sep).join("/") || ".";
}

/** The messages a variant sends for one case (draw = which shot draw, 0 unless `draws` > 1). */
export async function renderJob(variant: Variant, testCase: Case, draw = 0): Promise<RenderedJob> {
  const { prompt } = variant;
  const selector = variant.selectors[draw];
  const leaks: CaseLeak[] = [];
  const guarded: NonNullable<RenderedJob["guarded"]> = [];
  let exclude: Set<number> | undefined;
  if (selector && variant.shotGuard) {
    guarded.push("shots");
    const { guard, rows, where } = variant.shotGuard;
    for (const found of guard.check(testCase)) {
      if (found.action === "excluded") {
        exclude ??= new Set();
        exclude.add(found.position);
      }
      leaks.push({
        in: "shots",
        id: rows[found.position].id,
        source: where(found.position),
        kind: found.kind,
        similarity: roundSimilarity(found.similarity),
        action: found.action,
      });
    }
  }
  let selected: SelectedShot[] = selector
    ? await selector.select({ id: testCase.id, vars: testCase.vars, ...(exclude ? { exclude } : {}) })
    : [];

  let context: RenderedJob["context"];
  let contextVar: unknown[] | undefined;
  if (variant.retriever && prompt.context) {
    const query = testCase.vars[prompt.context.field];
    const queryText = typeof query === "string" ? query : JSON.stringify(query ?? "");
    let accept: ((passage: Passage) => boolean) | undefined;
    if (variant.passageGuard) {
      guarded.push("context");
      const { guard, corpus } = variant.passageGuard;
      const copyOf = guard.forCase(queryText, testCase.expected);
      const drop = prompt.context.exclude === "copies";
      accept = (passage) => {
        const copy = copyOf(passage);
        if (!copy) return true;
        leaks.push({
          in: "context",
          id: `${passage.source}#${passage.index}`,
          source: `${corpus === "." ? "" : `${corpus}/`}${passage.source}:${passage.line}`,
          kind: copy.kind,
          similarity: roundSimilarity(copy.similarity),
          action: drop ? "excluded" : "flagged",
          ...(drop ? {} : { shown: true }),
        });
        return !drop;
      };
    }
    const passages = variant.retriever.retrieve(queryText, prompt.context.k, accept ? { accept } : {});
    contextVar = passages.map((p) => ({ text: p.text, source: p.source, score: p.score }));
    context = passages.map((p) => ({
      source: p.source,
      index: p.index,
      score: Math.round(p.score * 1e4) / 1e4,
    }));
  }

  const render = (shots: SelectedShot[]) => renderMessages(variant, testCase, shots, contextVar);
  if (prompt.shots?.maxTokens !== undefined && variant.countTokens && selected.length > 0) {
    const countTokens = variant.countTokens;
    const fitted = await fitShotsToBudget(
      selected,
      (shots) =>
        render(shots)
          .map((m) => m.content)
          .join("\n"),
      {
        maxTokens: prompt.shots.maxTokens,
        countTokens,
        dropOrder:
          prompt.shots.select === "similar" || prompt.shots.select === "embedding" ? "least-similar" : "last",
      },
    );
    selected = fitted.shots;
  }
  const messages = render(selected);
  for (const leak of leaks) {
    // A flagged example stayed in the pool: whether this prompt shows it depends on the selection and budget.
    if (leak.in === "shots" && leak.action === "flagged") leak.shown = selected.some((s) => s.id === leak.id);
  }
  return {
    messages,
    ...(prompt.shots ? { shots: selected.map((s) => s.id) } : {}),
    ...(context ? { context } : {}),
    promptHash: hashMessages(messages),
    ...(guarded.length > 0 ? { guarded, leaks } : {}),
  };
}

/** Similarities in a record: 4 decimals are plenty to read, and keep results files small. */
function roundSimilarity(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function renderMessages(
  variant: Variant,
  testCase: Case,
  shots: SelectedShot[],
  context: unknown[] | undefined,
): ChatMessage[] {
  const { prompt } = variant;
  const asTurns = prompt.shots?.as === "turns";
  const vars: Record<string, unknown> = { ...testCase.vars };
  if (prompt.shots) vars.shots = asTurns ? [] : shots.map((s) => s.row);
  if (context) vars.context = context;
  let messages = variant.template.render(vars, { caseId: testCase.id });
  if (asTurns && prompt.shots) messages = insertTurns(messages, shots, prompt.shots);
  if (prompt.cot) messages = appendTrigger(messages, prompt.cot);
  return messages;
}

/** Examples as alternating user/assistant turns, placed before the final user message. */
function insertTurns(messages: ChatMessage[], shots: SelectedShot[], spec: ShotsSpec): ChatMessage[] {
  const turns: ChatMessage[] = shots.flatMap((shot) => {
    const answer = textOf(shot.row[spec.label]);
    const rationale = textOf(shot.row.rationale);
    return [
      { role: "user" as const, content: textOf(shot.row[spec.field]) },
      { role: "assistant" as const, content: rationale ? `${rationale} The answer is ${answer}.` : answer },
    ];
  });
  const last = messages.map((m) => m.role).lastIndexOf("user");
  const at = last === -1 ? messages.length : last;
  return [...messages.slice(0, at), ...turns, ...messages.slice(at)];
}

/** The trigger goes at the answer position: after a trailing "A:" if the prompt ends with one, else on a new line. */
function appendTrigger(messages: ChatMessage[], trigger: string): ChatMessage[] {
  const last = messages.map((m) => m.role).lastIndexOf("user");
  if (last === -1) return [...messages, { role: "user", content: trigger }];
  const content = messages[last].content;
  const joined = /A:\s*$/.test(content)
    ? `${content.replace(/\s*$/, "")} ${trigger}`
    : `${content}\n\n${trigger}`;
  return messages.map((m, i) => (i === last ? { ...m, content: joined } : m));
}

function textOf(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** First 16 hex digits of the sha256 of the messages. */
export function hashMessages(messages: ChatMessage[]): string {
  return createHash("sha256").update(JSON.stringify(messages)).digest("hex").slice(0, 16);
}
