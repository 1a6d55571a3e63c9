/** Statements on a pg Pool, Client or PoolClient: the Queryable of the driver, its transactions and pgQueryable. */
import { PgQueueError, queryableFrom, type Queryable } from '@pgqueue/core/adapter';
import type { PgPool, PgQueryConfig, PgQueryResult, PgQueryTarget } from './client.js';

export const DRIVER_NAME = 'pg';
/** The cancel of a timed-out statement is itself a statement; on a hung server it must not wait for ever either. */
const CANCEL_TIMEOUT_MS = 5_000;

/**
 * Runs pgqueue statements on a pg Client, PoolClient or Pool of the caller's, for example one
 * inside the caller's own BEGIN ... COMMIT, so an enqueue commits or rolls back with it.
 */
export function pgQueryable(client: PgQueryTarget): Queryable {
  return queryableOn(client);
}

/** `timed` runs a statement that has a deadline, when the target can do better than `query_timeout` alone. */
export function queryableOn(
  client: PgQueryTarget,
  timed?: (config: PgQueryConfig, timeoutMs: number) => Promise<PgQueryResult>,
): Queryable {
  return queryableFrom({
    async query(text, values, { name, timeoutMs: deadline }) {
      const config: PgQueryConfig = { text, values, ...(name === undefined ? {} : { name }) };
      const timeoutMs = deadline === undefined ? undefined : Math.max(1, Math.ceil(deadline));
      let result: PgQueryResult;
      try {
        result =
          timeoutMs === undefined
            ? await client.query(config)
            : timed === undefined
              ? await client.query({ ...config, query_timeout: timeoutMs })
              : await timed(config, timeoutMs);
      } catch (error) {
        throw timeoutMs !== undefined && isReadTimeout(error) ? statementTimeout(timeoutMs, error) : error;
      }
      return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
    },
    // Without `values` pg uses the simple query protocol, which accepts several statements.
    exec: (text) => client.query({ text }),
  });
}

/**
 * A statement with a deadline, on a connection of its own from the pool. pg's `query_timeout`
 * fails the query but leaves the statement running on the server, where it can go on waiting
 * for a row lock while holding the locks it already took (a completion behind an application's
 * `FOR UPDATE`): so the backend is also sent a cancel from another pooled connection, and the
 * client is discarded, as `pool.query` discards a client after any error.
 */
export async function queryWithDeadline(pool: PgPool, config: PgQueryConfig, timeoutMs: number): Promise<PgQueryResult> {
  const client = await pool.connect();
  let released = false;
  const release = (error?: Error) => {
    if (released) return;
    released = true;
    client.release(error ?? false);
  };
  // Without a listener a socket error on the checked-out client would be thrown at the process.
  const onError = (error: Error) => release(error);
  client.once('error', onError);
  try {
    const result = await client.query({ ...config, query_timeout: timeoutMs });
    release();
    return result;
  } catch (error) {
    const pid = client.processID;
    release(error instanceof Error ? error : new Error(String(error)));
    if (isReadTimeout(error) && typeof pid === 'number') {
      pool
        .query({ text: 'SELECT pg_cancel_backend($1::integer)', values: [String(pid)], query_timeout: CANCEL_TIMEOUT_MS })
        .catch(() => {});
    }
    throw error;
  } finally {
    client.removeListener('error', onError);
  }
}

/**
 * Queues statements on one client. A pg Client queues overlapping queries itself, but warns that
 * this is deprecated (to be removed in pg 9), and a transaction's callback may well run a
 * Promise.all.
 */
export function oneAtATime(client: PgQueryTarget): PgQueryTarget {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    query(config) {
      const result = tail.then(() => client.query(config));
      tail = result.catch(() => {});
      return result;
    },
  };
}

/** pg's `query_timeout` failure carries no code, only this message. */
function isReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

function statementTimeout(timeoutMs: number, cause: unknown): PgQueueError {
  return new PgQueueError(
    'STATEMENT_TIMEOUT',
    `pgqueue (${DRIVER_NAME}): no answer from PostgreSQL within ${timeoutMs} ms; the statement was given up ` +
      `and its connection discarded.`,
    { cause },
  );
}
