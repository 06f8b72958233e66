/**
 * The rubrics promptsmith ships (`rubric: builtin:<name>`), and the instructions that tell a judge
 * how to state its verdict. A rubric is the criterion; the frame around it (prompt, reference,
 * response) is built in judge.ts, so a rubric never has to repeat it.
 */

/** The builtin rubrics of `judge` (`builtin:correctness`, `builtin:faithfulness`) and `preference`. */
export const BUILTIN_RUBRICS = {
  correctness:
    "Grade whether the response answers the prompt correctly, judged against the reference answer. " +
    "Wording, length and style do not matter. A response that contradicts the reference, gives a " +
    "different final answer, or leaves out what the prompt asks for is wrong; one that adds true, " +
    "relevant detail is not.",
  faithfulness:
    "Grade whether every claim in the response is supported by the context. A claim the context " +
    "neither states nor clearly implies is unfaithful, even when it is true; a response that says " +
    "the context does not answer the question, when it does not, is faithful.",
  preference:
    "Decide which response answers the prompt better: correct first, then complete, then clear " +
    "and concise. Length alone is no merit. If neither is better, say so.",
} as const;

/** A builtin rubric's name. */
export type BuiltinRubric = keyof typeof BUILTIN_RUBRICS;

/** Which rubrics need the case's expected answer. */
export const NEEDS_REFERENCE: ReadonlySet<string> = new Set(["correctness"]);

/** The scales a judge grades on. */
export type JudgeScale = "pass-fail" | "1-5" | "1-10";

/** The highest score of a numeric scale. */
export function scaleMax(scale: JudgeScale): number | undefined {
  return scale === "1-5" ? 5 : scale === "1-10" ? 10 : undefined;
}

/** The system message of a judge: how to state the verdict, so that it can be read back strictly. */
export function verdictInstructions(scale: JudgeScale): string {
  const max = scaleMax(scale);
  const ending =
    max === undefined
      ? "Then end your answer with one line that is exactly `GRADE: PASS` or `GRADE: FAIL`."
      : `Then end your answer with one line that is exactly \`SCORE: n\`, where n is a whole number from 1 (worst) to ${max} (best).`;
  return [
    "You are a strict, impartial grader. Read the criteria, then the response, and grade the response against the criteria only.",
    "Think it through in a few sentences first.",
    ending,
  ].join(" ");
}

/** The system message of a pairwise judge. */
export const PREFERENCE_INSTRUCTIONS = [
  "You are a strict, impartial judge comparing two responses, A and B, to the same prompt.",
  "The order they are shown in says nothing about their quality. Think it through in a few sentences first.",
  "Then end your answer with one line that is exactly `WINNER: A`, `WINNER: B`, or `WINNER: TIE`.",
].join(" ");
