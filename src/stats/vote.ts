/**
 * Majority voting over sampled answers (self-consistency, Wang et al. 2023).
 */

/** Options of majorityVote. */
export interface VoteOptions {
  /** Key answers are compared by (e.g. trim, strip "$" and ","); default: the exact string. */
  normalize?: (answer: string) => string;
}

/** The outcome of a vote. */
export interface VoteResult {
  /** The winning answer as first written (before normalisation); null when nothing parsed. */
  answer: string | null;
  /** Samples that voted for the winner. */
  votes: number;
  /**
   * votes / all samples, unparsed ones included: a sample that produced no answer is a sample that
   * did not agree, so 3 of 5 with two unparsed is 0.6, not 1. 0 when there are no samples.
   */
  agreement: number;
}

/**
 * The most frequent answer; unparsed (null) answers do not vote, and a tie goes to the
 * answer seen first, so the result never depends on anything but the sample order.
 */
export function majorityVote(answers: readonly (string | null)[], options: VoteOptions = {}): VoteResult {
  const normalize = options.normalize ?? ((answer: string) => answer);
  // Map iteration follows insertion order, i.e. first appearance, which settles ties.
  const tally = new Map<string, { first: string; votes: number }>();
  for (const answer of answers) {
    if (answer === null) continue;
    const key = normalize(answer);
    const entry = tally.get(key);
    if (entry) entry.votes++;
    else tally.set(key, { first: answer, votes: 1 });
  }
  let winner: { first: string; votes: number } | undefined;
  for (const entry of tally.values()) if (!winner || entry.votes > winner.votes) winner = entry;
  if (!winner) return { answer: null, votes: 0, agreement: 0 };
  return { answer: winner.first, votes: winner.votes, agreement: winner.votes / answers.length };
}
