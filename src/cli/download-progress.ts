import type { CliIo } from "./io.js";

/** Download progress as the providers report it. */
export interface DownloadProgress {
  downloaded: number;
  total?: number;
}

const MB = 1024 * 1024;

/**
 * Shows a model download on stderr: a bar redrawn in place on a terminal, and on CI or in a pipe
 * one line at the start and one at the end, so logs stay short.
 */
export function createDownloadProgress(io: CliIo): (progress: DownloadProgress) => void {
  const tty = io.stderr.isTTY === true && !io.env.CI;
  let started = false;
  let finished = false;
  let lastDrawn = 0;
  return ({ downloaded, total }) => {
    if (finished) return;
    const size = total ? ` of ${(total / MB).toFixed(0)} MB` : "";
    if (!started) {
      started = true;
      io.stderr.write(`downloading the model${size} (once; it is kept in the model cache)\n`);
    }
    const done = total !== undefined && downloaded >= total;
    if (tty && (done || Date.now() - lastDrawn > 100)) {
      lastDrawn = Date.now();
      const share = total ? downloaded / total : 0;
      const bar = total
        ? `${"█".repeat(Math.round(share * 30)).padEnd(30, "░")} ${(share * 100).toFixed(0)}% `
        : "";
      io.stderr.write(`\r${bar}${(downloaded / MB).toFixed(1)} MB${size}`);
    }
    if (done) {
      finished = true;
      io.stderr.write(`${tty ? "\n" : ""}downloaded ${(downloaded / MB).toFixed(1)} MB\n`);
    }
  };
}
