/**
 * A client-side deadline for a statement. A connection whose peer stopped answering (a stalled
 * network path, a hung server) leaves a query pending for as long as TCP keeps the socket: the
 * audit saw a stopping worker still waiting 34.5 s on one. The adapters also stop the statement
 * itself where their client allows (see the Driver's `QueryOptions.timeoutMs`); this race is the
 * guarantee that holds for every adapter.
 */
import { PgQueueError } from './errors.js';

/** Resolves or rejects as `promise` does, or rejects with STATEMENT_TIMEOUT after `timeoutMs`. */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PgQueueError(
            'STATEMENT_TIMEOUT',
            `pgqueue ${operation} failed: no answer from PostgreSQL within ${Math.round(timeoutMs)} ms ` +
              `(a hung connection, lock waits or an overloaded server). A write may still have been applied.`,
          ),
        ),
      Math.max(0, timeoutMs),
    );
  });
  // The statement may still settle after the deadline; nobody waits for it then.
  promise.catch(() => undefined);
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** What `promise` resolves to, or `fallback` once `ms` passed first (the promise is not waited for). */
export async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
