import { expect } from "vitest";
import { isUserError, type UserError } from "../../../src/errors.js";
import type { ChatMessage } from "../../../src/providers/types.js";
import { createPromptEngine, type PromptEngineOptions } from "../../../src/templates/index.js";

/** Compiles and renders in one go, the way most tests need it. */
export function render(
  source: string,
  vars: Record<string, unknown> = {},
  options: PromptEngineOptions & { caseId?: string } = {},
): ChatMessage[] {
  const engine = createPromptEngine({ partialsDir: options.partialsDir });
  return engine.compile(source, { file: "prompt.hbs" }).render(vars, { caseId: options.caseId });
}

/** The UserError a call throws; fails the test when it throws something else or nothing. */
export function userErrorOf(fn: () => unknown): UserError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected a UserError to be thrown").toBeDefined();
  if (!isUserError(thrown)) throw thrown;
  return thrown;
}
