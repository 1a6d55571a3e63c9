/**
 * Progress while the benchmark runs: one line rewritten in place on a terminal; in CI or when the
 * output is piped, plain lines only (a finished step each, and a status line every few seconds).
 */
export interface Progress {
  /** The state of the step in progress. */
  update(text: string): void;
  /** A finished step, kept on screen. */
  line(text: string): void;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const PLAIN_STATUS_EVERY_MS = 10_000;

export function isInteractive(output: Output, env: Record<string, string | undefined>): boolean {
  return output.isTTY === true && !env.CI;
}

export function createProgress(
  output: Output = process.stdout,
  env: Record<string, string | undefined> = process.env,
  now: () => number = Date.now,
): Progress {
  if (isInteractive(output, env)) {
    let live = false;
    return {
      update(text) {
        const width = Math.max(20, (output.columns ?? 100) - 1);
        output.write(`\r\x1b[2K${text.length > width ? text.slice(0, width - 1) + '…' : text}`);
        live = true;
      },
      line(text) {
        output.write(`${live ? '\r\x1b[2K' : ''}${text}\n`);
        live = false;
      },
    };
  }
  let lastStatus = now();
  return {
    update(text) {
      if (now() - lastStatus < PLAIN_STATUS_EVERY_MS) return;
      lastStatus = now();
      output.write(`… ${text}\n`);
    },
    line(text) {
      lastStatus = now();
      output.write(`${text}\n`);
    },
  };
}
