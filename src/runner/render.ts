import type { Suite } from "../config/types.js";
import { readCases } from "../dataset/index.js";
import type { Case } from "../dataset/types.js";
import { UserError } from "../errors.js";
import type { ChatMessage } from "../providers/types.js";
import type { CaseLeak } from "../record/types.js";
import { prepareVariants, renderJob } from "./prepare.js";
import { matchesAny } from "./select.js";

/** Options of renderPrompt(). */
export interface RenderPromptOptions {
  suite: Suite;
  /** The case to render; default the first case of the dataset. */
  caseId?: string;
  /** Prompts to render (exact ids or globs); default all. */
  prompts?: string[];
}

/** One prompt rendered for one case. */
export interface RenderedPrompt {
  prompt: string;
  caseId: string;
  messages: ChatMessage[];
  /** Ids of the few-shot examples used. */
  shots?: string[];
  /** Passages retrieved for the `context` variable. */
  context?: { source: string; index: number; score: number }[];
  /** What the contamination guard checked: `shots`, `context`; absent when nothing. */
  guarded?: ("shots" | "context")[];
  /** Examples and passages found to be copies of the case (empty when none); absent when nothing was checked. */
  leaks?: CaseLeak[];
}

/** The exact messages a case would send, for each prompt; reads the dataset, calls no model. */
export async function renderPrompt(options: RenderPromptOptions): Promise<RenderedPrompt[]> {
  const { suite } = options;
  const prompts = suite.prompts.filter((p) => matchesAny(options.prompts, [p.id, p.baseId]));
  if (prompts.length === 0) {
    throw new UserError({
      code: "prompt-not-found",
      message: `no prompt matches ${(options.prompts ?? []).join(", ")}`,
      hint: `available: ${suite.prompts.map((p) => p.id).join(", ")}`,
    });
  }
  const testCase = await findCase(suite, options.caseId);
  const variants = await prepareVariants(suite, prompts);
  const rendered: RenderedPrompt[] = [];
  for (const variant of variants) {
    const { messages, shots, context, guarded, leaks } = await renderJob(variant, testCase);
    rendered.push({
      prompt: variant.prompt.id,
      caseId: testCase.id,
      messages,
      ...(shots ? { shots } : {}),
      ...(context ? { context } : {}),
      ...(guarded ? { guarded, leaks } : {}),
    });
  }
  return rendered;
}

async function findCase(suite: Suite, caseId: string | undefined): Promise<Case> {
  let first: Case | undefined;
  for await (const testCase of readCases(suite.tests.path, { expectedField: suite.tests.expected })) {
    first ??= testCase;
    if (caseId === undefined || testCase.id === caseId) return testCase;
  }
  throw new UserError({
    code: "case-not-found",
    message:
      caseId === undefined
        ? `the dataset ${suite.tests.path} has no cases`
        : `no case with id "${caseId}" in ${suite.tests.path}`,
    hint: first
      ? `case ids are the rows' id field, else the row number from 0 (the first is "${first.id}")`
      : "add rows to the dataset",
  });
}
