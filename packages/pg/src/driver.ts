import { assembleDriver, parseConnectionString, type Driver, type Queryable } from '@pgqueue/core/adapter';
import { createOwnedPool, type PgPool } from './client.js';
import { pgListener } from './listener.js';
import { DRIVER_NAME, oneAtATime, queryableOn, queryWithDeadline } from './queryable.js';

export interface PgDriverOptions {
  /** Pool size when the driver creates the pool from a connection string. Default: pg's (10). */
  max?: number;
  /** `application_name` of the pool's connections (and of LISTEN connections opened from it). */
  applicationName?: string;
}

export interface PgDriver extends Driver {
  /** The pool statements run on: the caller's, or the one built from the connection string. */
  readonly pool: PgPool;
}

/**
 * A pgqueue driver on node-postgres. Given a connection string (any form pg accepts, unix sockets
 * included) it owns the pool it creates and ends it on `close()`; a Pool passed in stays the caller's.
 */
export function createPgDriver(poolOrConnectionString: PgPool | string, options: PgDriverOptions = {}): PgDriver {
  const owned = typeof poolOrConnectionString === 'string' || poolOrConnectionString == null;
  let pool: PgPool;
  if (owned) {
    parseConnectionString(poolOrConnectionString, DRIVER_NAME);
    pool = createOwnedPool({
      connectionString: poolOrConnectionString as string,
      max: options.max,
      applicationName: options.applicationName,
    });
    // The pool discards a client whose idle socket failed and opens a new one on the next
    // query, so there is nothing to do here except keep the process alive.
    pool.on('error', () => {});
  } else {
    pool = poolOrConnectionString as PgPool;
  }

  return assembleDriver(
    {
      name: DRIVER_NAME,
      capabilities: { concurrentQueries: true, listen: true },
      statements: queryableOn(pool, (config, timeoutMs) => queryWithDeadline(pool, config, timeoutMs)),
      clientClosed: () => pool.ending,
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) => inTransaction(pool, fn),
      listen(channel, onPayload, events) {
        const listener = pgListener(pool.options, channel, onPayload, events);
        return { ready: listener.start(), close: () => listener.close() };
      },
      end: async () => {
        if (owned) await pool.end();
      },
    },
    { pool },
  );
}

async function inTransaction<T>(pool: PgPool, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // BEGIN, COMMIT and ROLLBACK go through the same queue as `fn`'s statements, so a statement
  // `fn` did not await still runs inside the transaction, before it ends.
  const serial = oneAtATime(client);
  try {
    await serial.query({ text: 'BEGIN' });
    const result = await fn(queryableOn(serial));
    const commit = await serial.query({ text: 'COMMIT' });
    // When a statement failed and `fn` swallowed the error, PostgreSQL answers COMMIT with
    // ROLLBACK instead of an error. Report it, as PGlite does, rather than claim success.
    if (commit.command === 'ROLLBACK') throw transactionAborted();
    client.release();
    return result;
  } catch (error) {
    try {
      await serial.query({ text: 'ROLLBACK' });
      client.release();
    } catch (rollbackError) {
      // The connection is unusable (e.g. it was lost mid-transaction): destroy it instead of
      // returning it to the pool.
      client.release(rollbackError instanceof Error ? rollbackError : true);
    }
    throw error;
  }
}

function transactionAborted(): Error {
  return Object.assign(new Error('Transaction was rolled back instead of committed: a statement in it had failed'), {
    code: '25P02',
  });
}
