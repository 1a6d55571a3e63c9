/**
 * The one exponential backoff of pgqueue: job retries (a handler failed), and every loop that
 * retries a transient failure on its own (the LISTEN reconnect of the adapters, the worker's
 * LISTEN start, its fetch loop and its completion buffer). Jitter takes a random share off each
 * delay, so workers that lost the same server at the same instant do not all come back together.
 */

export interface BackoffPolicy {
  /** The first delay, in milliseconds. */
  firstMs: number;
  /** The longest delay, however many attempts failed. */
  maxMs: number;
  /** Each delay this many times the one before. Default 2. */
  factor?: number;
  /**
   * The share of each delay drawn at random, from 0 (exact delays) to 1 (anywhere from 0 to the
   * delay). Default 0.2: enough to spread a fleet, small enough to keep retries prompt.
   */
  jitter?: number;
}

/** The delay before retry number `failures` (1 after the first failure). */
export function backoffDelayMs(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const exponential = policy.firstMs * (policy.factor ?? 2) ** Math.max(0, failures - 1);
  const capped = Math.min(policy.maxMs, exponential);
  return Math.round(capped * (1 - (policy.jitter ?? 0.2) * random()));
}

/** Transient failures of a server connection (LISTEN, fetch, completion writes): 100 ms doubling to 5 s. */
export const TRANSIENT_BACKOFF: BackoffPolicy = { firstMs: 100, maxMs: 5_000 };

/** Counts consecutive failures of one loop and says how long to wait before the next attempt. */
export class Backoff {
  #failures = 0;

  constructor(private readonly policy: BackoffPolicy = TRANSIENT_BACKOFF) {}

  /** Consecutive failures since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** Records a failure; returns the delay before the next attempt. */
  failed(): number {
    this.#failures++;
    return this.delayMs();
  }

  /** The delay after the failures recorded so far (0 when there are none). */
  delayMs(): number {
    return this.#failures === 0 ? 0 : backoffDelayMs(this.policy, this.#failures);
  }

  succeeded(): void {
    this.#failures = 0;
  }
}
