/** What happens after a handler fails: the retry policy, its backoff, and RetryLater. */
import { backoffDelayMs } from '../backoff.js';
import { invalidArgument } from '../errors.js';
import type { JobError } from '../job.js';
import { checkDelayMs, checkPositiveInt } from '../validate.js';

export interface RetryPolicy {
  /** Runs in all, the first included; 1 never retries. Default 3. */
  maxAttempts?: number;
  /** Delay before the first retry. Default 1,000 ms. */
  baseDelayMs?: number;
  /** Each retry waits this many times longer than the one before. Default 2. */
  factor?: number;
  /** The longest delay, however many attempts failed. Default 300,000 ms (5 minutes). */
  maxDelayMs?: number;
  /**
   * The share of each delay drawn at random, from 0 (exact delays) to 1 (anywhere between 0 and
   * the delay), so jobs that failed together do not all come back at the same instant. Default 0.5.
   */
  jitter?: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<Required<RetryPolicy>> = {
  maxAttempts: 3,
  baseDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 300_000,
  jitter: 0.5,
};

export function resolveRetryPolicy(policy: RetryPolicy | undefined, where: string): Required<RetryPolicy> {
  const resolved = { ...DEFAULT_RETRY_POLICY, ...policy };
  checkPositiveInt(resolved.maxAttempts, `${where}: retry.maxAttempts`);
  checkDelayMs(resolved.baseDelayMs, `${where}: retry.baseDelayMs`);
  checkDelayMs(resolved.maxDelayMs, `${where}: retry.maxDelayMs`);
  if (typeof resolved.factor !== 'number' || !(resolved.factor >= 1) || !Number.isFinite(resolved.factor)) {
    throw invalidArgument(`${where}: retry.factor must be a finite number ≥ 1, got ${String(resolved.factor)}.`);
  }
  if (typeof resolved.jitter !== 'number' || !(resolved.jitter >= 0 && resolved.jitter <= 1)) {
    throw invalidArgument(`${where}: retry.jitter must be a number from 0 to 1, got ${String(resolved.jitter)}.`);
  }
  return resolved;
}

/** The delay before the retry that follows failed attempt `attempt` (1 for the first run). */
export function retryDelayMs(policy: Required<RetryPolicy>, attempt: number, random: () => number = Math.random): number {
  const { baseDelayMs: firstMs, maxDelayMs: maxMs, factor, jitter } = policy;
  return backoffDelayMs({ firstMs, maxMs, factor, jitter }, attempt, random);
}

const RETRY_LATER = Symbol.for('@pgqueue/core/RetryLater');

/**
 * Thrown by a handler to run the job again later without counting a failure: a rate limit, a
 * resource not ready yet. The job goes back to the queue for `delayMs`, keeps the attempts it
 * had, and the retry policy's limit does not apply.
 */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
  readonly delayMs: number;
  private readonly [RETRY_LATER] = true;

  constructor(delayMs: number, message = `retry in ${delayMs} ms`) {
    super(message);
    this.delayMs = checkDelayMs(delayMs, 'RetryLater: delayMs');
  }

  /** True for a RetryLater, even one created by another copy of @pgqueue/core. */
  static isInstance(value: unknown): value is RetryLater {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RETRY_LATER] === true;
  }
}

/** Whatever a handler threw, as the JobError stored on the job. */
export function toJobError(error: unknown, attempt: number): JobError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack ?? null, attempt };
  }
  return { name: 'NonError', message: describeThrown(error), stack: null, attempt };
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
