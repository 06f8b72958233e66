import type { Fault, RecordedRequest, RequestBody } from "./openai-test-server.js";

/** The text of the last user message of a chat request. */
function lastUser(body: RequestBody): string {
  const user = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
  return typeof user?.content === "string" ? user.content : "";
}

/**
 * The model of fixtures/ci, for the loopback test server: per question, a first answer (right on
 * a and b, unparsed on d, wrong on e), three differing samples when asked at temperature 0.7, and
 * for an extraction call the last number of the answer it is given.
 */
export function ciModel(body: RequestBody): string | string[] {
  const text = lastUser(body);
  if (text.includes("Therefore")) {
    const numbers =
      text
        .split("\n")
        .find((line) => line.startsWith("A:"))
        ?.match(/-?\d+/g) ?? [];
    return numbers.at(-1) ?? "none";
  }
  const question = text.replace(/^Q: /, "");
  if (body.temperature === 0.7) {
    const votes: Record<string, string[]> = {
      "What is 2 + 2?": ["4", "4", "5"],
      "What is 3 * 3?": ["9", "6", "9"],
      "What is 10 / 2?": ["5", "2", "3"],
      "What is 7 - 8?": ["1", "-1", "1"],
      "What is 100 + 1?": ["101", "101", "101"],
    };
    return votes[question] ?? ["?"];
  }
  const answers: Record<string, string> = {
    "What is 2 + 2?": "The answer is 4.",
    "What is 3 * 3?": "**9**",
    "What is 10 / 2?": "It is 5, I think.",
    "What is 7 - 8?": "I can't help with that.",
    "What is 100 + 1?": "The answer is 102.",
  };
  return answers[question] ?? "no idea";
}

/** Case c's first request at temperature 0 fails with a 500 (the fixture sets maxRetries: 0). */
export function ciFaults(_index: number, request: RecordedRequest): Fault | undefined {
  const body = request.body;
  if (body?.temperature === 0 && body.n === undefined && lastUser(body) === "Q: What is 10 / 2?")
    return { status: 500, retryAfterMs: 0, message: "scripted outage" };
  return undefined;
}
