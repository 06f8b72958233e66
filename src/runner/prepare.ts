import { createHash } from "node:crypto";
import { DEFAULT_EMBEDDING_MODEL } from "../config/defaults.js";
import type { PromptSpec, ShotsSpec, Suite } from "../config/types.js";
import { readCases } from "../dataset/index.js";
import type { Case } from "../dataset/types.js";
import { UserError } from "../errors.js";
import {
  chunkDocuments,
  createEmbeddingSelector,
  createPassageRetriever,
  createShotSelector,
  createTokenCounter,
  fitShotsToBudget,
  isBuiltinPoolRef,
  loadBuiltinPool,
  loadCorpus,
  type PassageRetriever,
  poolTexts,
  queryText,
  type SelectedShot,
  type ShotQuery,
  type ShotRow,
  toShotRows,
} from "../fewshot/index.js";
import type { ChatMessage } from "../providers/types.js";
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
  const pools = new Map<string, { rows: ShotRow[]; excludeSelf: boolean }>();
  const poolVectors = new Map<string, Float32Array[]>();
  const retrievers = new Map<string, PassageRetriever>();
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
        pool = await loadPool(shots, suite);
        pools.set(shots.from, pool);
      }
      const { rows, excludeSelf } = pool;
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
              return selector.select({ id: query.id, vector });
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
    if (prompt.context) {
      retriever = retrievers.get(prompt.context.corpus);
      if (!retriever) {
        retriever = createPassageRetriever(chunkDocuments(await loadCorpus(prompt.context.corpus)));
        retrievers.set(prompt.context.corpus, retriever);
      }
    }
    variants.push({ prompt, template, extract, selectors, retriever, countTokens });
  }
  return variants;
}

async function loadPool(shots: ShotsSpec, suite: Suite): Promise<{ rows: ShotRow[]; excludeSelf: boolean }> {
  if (isBuiltinPoolRef(shots.from)) return { rows: loadBuiltinPool(shots.from), excludeSelf: false };
  const cases: Case[] = [];
  for await (const c of readCases(shots.from, { expectedField: shots.label })) cases.push(c);
  // When the examples come from the test set itself, a case must never be shown its own answer.
  return { rows: toShotRows(cases), excludeSelf: shots.from === suite.tests.path };
}

/** The messages a variant sends for one case (draw = which shot draw, 0 unless `draws` > 1). */
export async function renderJob(variant: Variant, testCase: Case, draw = 0): Promise<RenderedJob> {
  const { prompt } = variant;
  const selector = variant.selectors[draw];
  let selected: SelectedShot[] = selector
    ? await selector.select({ id: testCase.id, vars: testCase.vars })
    : [];

  let context: RenderedJob["context"];
  let contextVar: unknown[] | undefined;
  if (variant.retriever && prompt.context) {
    const query = testCase.vars[prompt.context.field];
    const passages = variant.retriever.retrieve(
      typeof query === "string" ? query : JSON.stringify(query ?? ""),
      prompt.context.k,
    );
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
  return {
    messages,
    ...(prompt.shots ? { shots: selected.map((s) => s.id) } : {}),
    ...(context ? { context } : {}),
    promptHash: hashMessages(messages),
  };
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
