import type { PromptSpec, Suite } from "../config/types.js";
import { loadRows } from "../dataset/index.js";
import type { Case } from "../dataset/types.js";
import type { ChatMessage } from "../providers/types.js";
import { createPromptEngine, type PromptTemplate } from "../templates/index.js";

/** A prompt ready to render: its compiled template and its examples. */
export interface Variant {
  prompt: PromptSpec;
  template: PromptTemplate;
  shots?: Record<string, unknown>[];
}

/** Compiles each prompt's template and loads its examples once, before any case is read. */
export async function prepareVariants(
  suite: Suite,
  prompts: PromptSpec[] = suite.prompts,
): Promise<Variant[]> {
  const engine = createPromptEngine({ partialsDir: suite.partialsDir });
  const variants: Variant[] = [];
  for (const prompt of prompts) {
    const template = engine.compile(prompt.template, {
      file: prompt.templatePath ?? `<inline:${prompt.id}>`,
    });
    const shots = prompt.shots
      ? (await loadRows(prompt.shots.from)).slice(0, prompt.shots.k).map((r) => r.row)
      : undefined;
    variants.push({ prompt, template, shots });
  }
  return variants;
}

/** The messages a variant sends for one case. */
export function renderVariant(variant: Variant, testCase: Case): ChatMessage[] {
  const vars = variant.shots ? { ...testCase.vars, shots: variant.shots } : testCase.vars;
  return variant.template.render(vars, { caseId: testCase.id });
}
