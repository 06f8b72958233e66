import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  checkOptionKeys,
  readNumber,
  readString,
  type ScorerContext,
  type ScorerTemplate,
  scorerError,
} from "./options.js";
import { cannotScore, readExpected, unparsed } from "./result.js";
import {
  BUILTIN_RUBRICS,
  defaultThreshold,
  JUDGE_SCALES,
  type JudgeScale,
  NEEDS_REFERENCE,
  preferenceInstructions,
  RUBRIC_FILE,
  scaleMax,
  verdictInstructions,
} from "./rubrics.js";
import type {
  ModelCall,
  ScoreInput,
  ScoreResult,
  Scorer,
  ScorerCall,
  ScorerMessage,
  ScorerProvider,
  ScorerSpec,
} from "./types.js";
import { readGrade, readScore, readWinner } from "./verdict.js";

/** A rubric ready to render: a criterion placed in the judge's frame, or a whole template file. */
type Rubric =
  | { kind: "criterion"; name: string; text: string; template?: ScorerTemplate; needsReference: boolean }
  | { kind: "template"; name: string; template: ScorerTemplate };

/** The provider a judge asks: the spec the config resolved, or an id given in code. */
function readProvider(spec: ScorerSpec, context: ScorerContext): ScorerProvider {
  const provider = spec.provider;
  if (typeof provider === "string" && provider !== "") return { id: provider, label: provider, params: {} };
  if (
    typeof provider === "object" &&
    provider !== null &&
    typeof (provider as ScorerProvider).id === "string"
  ) {
    const p = provider as ScorerProvider;
    return { ...p, label: typeof p.label === "string" ? p.label : p.id };
  }
  throw scorerError(
    context,
    `${spec.type} scorer needs a provider to ask`,
    "write provider: <a provider's label, or an id such as openai:gpt-4o>",
    "provider",
  );
}

async function readRubric(raw: string, context: ScorerContext, type: string): Promise<Rubric> {
  if (raw.startsWith("builtin:")) {
    const name = raw.slice("builtin:".length);
    if (!Object.hasOwn(BUILTIN_RUBRICS, name)) {
      throw scorerError(
        context,
        `${type} scorer: unknown builtin rubric ${JSON.stringify(raw)}`,
        `builtin rubrics: ${Object.keys(BUILTIN_RUBRICS)
          .map((r) => `builtin:${r}`)
          .join(", ")}`,
        "rubric",
      );
    }
    const text = BUILTIN_RUBRICS[name as keyof typeof BUILTIN_RUBRICS];
    return { kind: "criterion", name: raw, text, needsReference: NEEDS_REFERENCE.has(name) };
  }
  if (RUBRIC_FILE.test(raw.trim())) {
    const file = resolve(context.baseDir, raw.trim());
    let source: string;
    try {
      source = await readFile(file, "utf8");
    } catch (error) {
      throw scorerError(
        context,
        `${type} scorer: cannot read the rubric ${file}: ${(error as Error).message}`,
        `rubric: is a template file relative to ${context.baseDir}, or the criteria written inline`,
        "rubric",
        error,
      );
    }
    if (!context.compile) {
      throw scorerError(
        context,
        `${type} scorer: a rubric file needs the template engine`,
        "run it through evaluate()",
        "rubric",
      );
    }
    return { kind: "template", name: file, template: context.compile(source, file) };
  }
  // An inline criterion may name the case's variables ({{topic}}).
  const template =
    raw.includes("{{") && context.compile
      ? context.compile(raw, `<inline:${context.field}.rubric>`)
      : undefined;
  return { kind: "criterion", name: "inline", text: raw, template, needsReference: false };
}

/** The rendered prompt as the judge is shown it: each message's text, roles named when there are several. */
export function promptText(
  messages: readonly ScorerMessage[] | undefined,
  vars: Record<string, unknown>,
): string {
  if (messages && messages.length > 0) {
    if (messages.length === 1) return messages[0].content;
    return messages.map((m) => `${m.role}: ${m.content}`).join("\n\n");
  }
  // Outside a run there is no rendered prompt; the case's own question is the best stand-in.
  for (const key of ["question", "prompt", "input"])
    if (typeof vars[key] === "string") return vars[key] as string;
  return JSON.stringify(vars);
}

/** The text a template rendered, as one string (a criterion has no roles of its own). */
function flatten(messages: ScorerMessage[]): string {
  return messages.map((m) => m.content).join("\n\n");
}

/** The context a faithfulness judge checks against: the case's `context` field, else the rendered prompt. */
function contextText(vars: Record<string, unknown>, prompt: string): string {
  const context = vars.context;
  if (typeof context === "string") return context;
  if (Array.isArray(context))
    return context
      .map((c) =>
        typeof c === "object" && c !== null && typeof (c as { text?: unknown }).text === "string"
          ? (c as { text: string }).text
          : String(c),
      )
      .join("\n\n");
  return prompt;
}

interface Section {
  title: string;
  text: string;
}

function sections(parts: Section[]): string {
  return parts.map((p) => `[${p.title}]\n${p.text}`).join("\n\n");
}

/**
 * Untrusted text (a model's output) between marker lines it cannot forge: their id is a hash of
 * the text itself, so the text would have to contain its own hash to close the block early, and
 * on the off chance that it holds the marker anyway the id is drawn again. Deterministic, so the
 * judge's request, and its cache key, are the same for the same text.
 */
export function fence(label: string, text: string): string {
  for (let attempt = 0; ; attempt++) {
    const id = createHash("sha256").update(`${attempt}\n${text}`).digest("hex").slice(0, 16);
    const end = `<<<END ${label} ${id}>>>`;
    if (!text.includes(end)) return `<<<${label} ${id}>>>\n${text}\n${end}`;
  }
}

/** Asks the judge once and records the call. */
async function ask(
  call: ModelCall,
  provider: ScorerProvider,
  messages: ScorerMessage[],
  params: Record<string, unknown>,
): Promise<Omit<ScorerCall, "verdict">> {
  const answer = await call({ provider, messages, params });
  const record: Omit<ScorerCall, "verdict"> = { provider: provider.label, messages, output: answer.output };
  if (answer.reasoning) record.reasoning = answer.reasoning;
  if (answer.cached) record.cached = true;
  record.usage = answer.usage;
  return record;
}

/** The request parameters of a judge: deterministic by default, the spec's `params` on top. */
function judgeParams(spec: ScorerSpec, context: ScorerContext): Record<string, unknown> {
  const params = spec.params;
  if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) {
    throw scorerError(
      context,
      `${spec.type} scorer: params must be a mapping`,
      "write e.g. params: { max_tokens: 512 }",
      "params",
    );
  }
  return { temperature: 0, seed: context.seed ?? 0, ...(params as Record<string, unknown> | undefined) };
}

/**
 * `judge` (promptfoo's `llm-rubric`): a model grades the output against `rubric`: the criteria
 * inline (`{{var}}` filled from the case), a template file (.hbs/.md/.txt, seeing the case's
 * variables, `output`, `expected`, `prompt`, `context` and `rubric`), or `builtin:correctness` /
 * `builtin:faithfulness`. `scale`: pass-fail (default; `GRADE: PASS|FAIL`), 1-5 or 1-10
 * (`SCORE: n`, passing at `threshold`, default 4 or 7; score (n − 1) / (max − 1)). Asked at
 * temperature 0 with a fixed seed unless `params` say otherwise. A verdict that cannot be read is
 * unparsed, never a fail. The judge's messages, answer and verdict are kept on the case.
 */
export async function createJudgeScorer(spec: ScorerSpec, context: ScorerContext): Promise<Scorer> {
  checkOptionKeys(spec, ["provider", "rubric", "scale", "threshold", "params", "humanLabel"], context);
  const provider = readProvider(spec, context);
  const scale = (readString(spec, "scale", context, false) ?? "pass-fail") as JudgeScale;
  if (!JUDGE_SCALES.includes(scale)) {
    throw scorerError(
      context,
      `judge scorer: scale must be one of ${JUDGE_SCALES.join(", ")}, received ${JSON.stringify(scale)}`,
      "e.g. scale: 1-5",
      "scale",
    );
  }
  const max = scaleMax(scale);
  if (max === undefined && spec.threshold !== undefined) {
    throw scorerError(
      context,
      "judge scorer: a pass-fail judge takes no threshold",
      "remove threshold, or use scale: 1-5",
      "threshold",
    );
  }
  const threshold =
    max === undefined
      ? 0
      : readNumber(spec, "threshold", context, { fallback: defaultThreshold(max), min: 1, max });
  const rubric = await readRubric(readString(spec, "rubric", context, true), context, "judge");
  const params = judgeParams(spec, context);
  const system: ScorerMessage = {
    role: "system",
    content: verdictInstructions(scale, rubric.kind === "criterion"),
  };

  return async (input: ScoreInput): Promise<ScoreResult> => {
    if (!input.call) return cannotScore("judge scorer: no model to ask outside a run");
    if (input.output.trim() === "") return unparsed("output is empty");
    const read = readExpected(input.expected);
    const expected = read.ok
      ? read.answers.length === 1
        ? read.answers[0]
        : read.answers.join(" | ")
      : undefined;
    const prompt = promptText(input.messages, input.vars);
    const messages = render(rubric, input, { expected, prompt });
    if ("error" in messages) return cannotScore(messages.error);
    const call = await ask(input.call, provider, [system, ...messages.messages], params);
    if (max === undefined) {
      const grade = readGrade(call.output);
      const calls = [{ ...call, verdict: grade.ok ? grade.value : null }];
      if (!grade.ok) return { ...unparsed(`judge ${provider.label}: ${grade.reason}`), calls };
      const pass = grade.value === "pass";
      return {
        pass,
        score: pass ? 1 : 0,
        extracted: grade.value.toUpperCase(),
        reason: `judge ${provider.label}: ${grade.line}${lastSentence(call.output)}`,
        calls,
      };
    }
    const score = readScore(call.output, max);
    const calls = [{ ...call, verdict: score.ok ? score.value : null }];
    if (!score.ok) return { ...unparsed(`judge ${provider.label}: ${score.reason}`), calls };
    const pass = score.value >= threshold;
    return {
      pass,
      score: (score.value - 1) / (max - 1),
      extracted: String(score.value),
      reason: `judge ${provider.label}: SCORE ${score.value}/${max}, ${pass ? "at least" : "below"} threshold ${threshold}${lastSentence(call.output)}`,
      calls,
    };
  };
}

/** The judge's reasoning in brief for the reason: its last sentence before the verdict line. */
function lastSentence(output: string): string {
  const body = output
    .split(/\r?\n/)
    .filter((line) => !/^[\s>#*_`-]*(?:GRADE|SCORE|WINNER)\s*[:：]/i.test(line))
    .join(" ")
    .trim();
  if (body === "") return "";
  const sentences = body.split(/(?<=[.!?])\s+/);
  const last = sentences[sentences.length - 1];
  return ` (${last.length > 160 ? `${last.slice(0, 159)}…` : last})`;
}

function render(
  rubric: Rubric,
  input: ScoreInput,
  given: { expected?: string; prompt: string },
): { messages: ScorerMessage[] } | { error: string } {
  const variables = {
    ...input.vars,
    output: input.output,
    ...(given.expected !== undefined ? { expected: given.expected } : {}),
    prompt: given.prompt,
    context: contextText(input.vars, given.prompt),
  };
  if (rubric.kind === "template") {
    return {
      messages: rubric.template.render({ ...variables, rubric: rubric.name }, { caseId: input.caseId }),
    };
  }
  if (rubric.needsReference && given.expected === undefined) {
    return { error: `judge rubric ${rubric.name} needs the case's expected answer, and the case has none` };
  }
  const criterion = rubric.template ? flatten(rubric.template.render(variables)) : rubric.text;
  const parts: Section[] = [{ title: "Criteria", text: criterion }];
  if (rubric.name === "builtin:faithfulness") parts.push({ title: "Context", text: variables.context });
  else parts.push({ title: "Prompt", text: given.prompt });
  if (given.expected !== undefined && rubric.name !== "builtin:faithfulness")
    parts.push({ title: "Reference answer", text: given.expected });
  parts.push({ title: "Response", text: fence("RESPONSE", input.output) });
  return { messages: [{ role: "user", content: sections(parts) }] };
}

/**
 * `preference`: a pairwise judge. The output is compared with the baseline variant's answer to the
 * same case, asked twice with the two in either order (A/B, then B/A) so that a judge's leaning
 * towards the first or second position cancels. Each order gives the output 1 (it wins), ½ (a
 * tie) or 0; the score is their mean, and the case passes at `threshold` (default 0.5: not worse
 * than the baseline). `rubric`: the criteria (default `builtin:preference`). The baseline's own
 * rows score ½ ("the baseline itself"), passing when ½ reaches the threshold. Both sides are the
 * whole answers (reasoning removed), before any `extract`: the baseline's is never extracted.
 */
export async function createPreferenceScorer(spec: ScorerSpec, context: ScorerContext): Promise<Scorer> {
  checkOptionKeys(spec, ["provider", "rubric", "threshold", "params"], context);
  const provider = readProvider(spec, context);
  const threshold = readNumber(spec, "threshold", context, { fallback: 0.5, min: 0, max: 1 });
  const rubric = await readRubric(
    readString(spec, "rubric", context, false) ?? "builtin:preference",
    context,
    "preference",
  );
  const params = judgeParams(spec, context);
  const system: ScorerMessage = {
    role: "system",
    content: preferenceInstructions(rubric.kind === "criterion"),
  };

  return async (input: ScoreInput): Promise<ScoreResult> => {
    if (!input.call || !input.baseline)
      return cannotScore("preference scorer: no baseline to compare with outside a run");
    const baseline = await input.baseline();
    if (baseline === null) {
      const pass = 0.5 >= threshold;
      return {
        pass,
        score: 0.5,
        extracted: null,
        reason: `this is the baseline itself: nothing to compare; a tie, ${pass ? "at least" : "below"} threshold ${threshold}`,
      };
    }
    // The baseline's answer is its whole answer, so this side is too, not what `extract` took from it.
    const answer = input.answer ?? input.output;
    if (answer.trim() === "") return unparsed("output is empty");
    const read = readExpected(input.expected);
    const expected = read.ok ? read.answers.join(" | ") : undefined;
    const prompt = promptText(input.messages, input.vars);
    const orders: [string, string][] = [
      [answer, baseline.output],
      [baseline.output, answer],
    ];
    const calls: ScorerCall[] = [];
    const points: (number | null)[] = [];
    const reasons: string[] = [];
    for (const [index, [a, b]] of orders.entries()) {
      const messages = renderPair(rubric, input, { a, b, answer, prompt, expected });
      if ("error" in messages) return cannotScore(messages.error);
      const call = await ask(input.call, provider, [system, ...messages.messages], params);
      const winner = readWinner(call.output);
      calls.push({ ...call, verdict: winner.ok ? winner.value : null });
      if (!winner.ok) {
        reasons.push(winner.reason);
        points.push(null);
        continue;
      }
      // In the first order the output is A; in the second it is B.
      const ours = index === 0 ? "A" : "B";
      points.push(winner.value === "tie" ? 0.5 : winner.value === ours ? 1 : 0);
    }
    const against = `${baseline.prompt} · ${baseline.provider}`;
    if (points.some((p) => p === null)) {
      return { ...unparsed(`preference judge ${provider.label}: ${reasons.join("; ")}`), calls };
    }
    const [first, second] = points as number[];
    const score = (first + second) / 2;
    const outcome =
      score === 1 ? "win" : score === 0 ? "loss" : score === 0.5 && first === second ? "tie" : "split";
    const word = (p: number) => (p === 1 ? "better" : p === 0 ? "worse" : "a tie");
    const pass = score >= threshold;
    return {
      pass,
      score,
      extracted: outcome,
      reason: `preference judge ${provider.label} vs baseline ${against}: ${word(first)} shown first, ${word(second)} shown second; score ${score}, ${pass ? "at least" : "below"} threshold ${threshold}`,
      calls,
    };
  };
}

function renderPair(
  rubric: Rubric,
  input: ScoreInput,
  given: { a: string; b: string; answer: string; prompt: string; expected?: string },
): { messages: ScorerMessage[] } | { error: string } {
  const variables = {
    ...input.vars,
    output: given.answer,
    a: given.a,
    b: given.b,
    ...(given.expected !== undefined ? { expected: given.expected } : {}),
    prompt: given.prompt,
  };
  if (rubric.kind === "template")
    return {
      messages: rubric.template.render({ ...variables, rubric: rubric.name }, { caseId: input.caseId }),
    };
  if (rubric.needsReference && given.expected === undefined) {
    return {
      error: `preference rubric ${rubric.name} needs the case's expected answer, and the case has none`,
    };
  }
  const criterion = rubric.template ? flatten(rubric.template.render(variables)) : rubric.text;
  const parts: Section[] = [
    { title: "Criteria", text: criterion },
    { title: "Prompt", text: given.prompt },
  ];
  if (given.expected !== undefined) parts.push({ title: "Reference answer", text: given.expected });
  parts.push(
    { title: "Response A", text: fence("RESPONSE A", given.a) },
    { title: "Response B", text: fence("RESPONSE B", given.b) },
  );
  return { messages: [{ role: "user", content: sections(parts) }] };
}
