/** The process exit codes, in one place; the README documents them. */
export const ExitCode = {
  /** The command finished (an evaluation may still have failing cases). */
  ok: 0,
  /** The command finished but a gate failed. */
  gateFailed: 1,
  /** Could not run: bad config, template, data or flags, or no usable endpoint. */
  usage: 2,
  /** A bug in promptsmith: the stack is printed. */
  internal: 70,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
