import {
  DRIVER_SPECIFICATION_VERSION,
  PgQueueError,
  ReconnectingListener,
  assertChannelName,
  assertConnectionString,
  invalidArgument,
  type Driver,
  type ListenEvents,
  type ListenHandle,
  type QueryOptions,
  type QueryResult,
  type Queryable,
  type SqlParam,
} from '@pgqueue/core';
import {
  createListenClient,
  createOwnedPool,
  type PgListenClient,
  type PgPool,
  type PgPoolOptions,
  type PgQueryConfig,
  type PgQueryResult,
  type PgQueryTarget,
} from './client.js';

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

const DRIVER_NAME = 'pg';
/** The cancel of a timed-out statement is itself a statement; on a hung server it must not wait for ever either. */
const CANCEL_TIMEOUT_MS = 5_000;
/** A LISTEN connection that has not ended this long after `end()` is cut. */
const LISTEN_END_MS = 2_000;

/**
 * A pgqueue driver on node-postgres. Given a connection string it owns the pool it creates and
 * ends it on `close()`; a Pool passed in stays the caller's.
 */
export function createPgDriver(poolOrConnectionString: PgPool | string, options: PgDriverOptions = {}): PgDriver {
  let pool: PgPool;
  let ownsPool: boolean;
  if (typeof poolOrConnectionString === 'string' || poolOrConnectionString == null) {
    assertConnectionString(poolOrConnectionString, DRIVER_NAME);
    pool = createOwnedPool({
      connectionString: poolOrConnectionString,
      max: options.max,
      applicationName: options.applicationName,
    });
    // The pool discards a client whose idle socket failed and opens a new one on the next
    // query, so there is nothing to do here except keep the process alive.
    pool.on('error', () => {});
    ownsPool = true;
  } else {
    pool = poolOrConnectionString;
    ownsPool = false;
  }

  let closing: Promise<void> | undefined;
  const listeners = new Set<ReconnectingListener>();

  const assertOpen = () => {
    if (closing !== undefined || pool.ending) {
      throw new PgQueueError('DRIVER_CLOSED', `pgqueue (${DRIVER_NAME}): the driver or its pool was closed.`);
    }
  };
  const statements = queryableOn(pool, assertOpen, (config, timeoutMs) => queryWithDeadline(pool, config, timeoutMs));

  return {
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name: DRIVER_NAME,
    capabilities: { concurrentQueries: true, listen: true },
    pool,

    query: statements.query,
    exec: statements.exec,

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      assertOpen();
      const client = await pool.connect();
      // BEGIN, COMMIT and ROLLBACK go through the same queue as `fn`'s statements, so a statement
      // `fn` did not await still runs inside the transaction, before it ends.
      const serial = oneAtATime(client);
      let ended = false;
      const tx = queryableOn(serial, () => {
        if (ended) throw invalidArgument('pgqueue (pg): this transaction has ended; its handle cannot run statements.');
      });
      try {
        await serial.query({ text: 'BEGIN' });
        const result = await fn(tx);
        ended = true;
        const commit = await serial.query({ text: 'COMMIT' });
        // When a statement failed and `fn` swallowed the error, PostgreSQL answers COMMIT with
        // ROLLBACK instead of an error. Report it, as PGlite does, rather than claim success.
        if (commit.command === 'ROLLBACK') throw transactionAborted();
        client.release();
        return result;
      } catch (error) {
        ended = true;
        try {
          await serial.query({ text: 'ROLLBACK' });
          client.release();
        } catch (rollbackError) {
          // The connection is unusable (e.g. it was lost mid-transaction): destroy it instead
          // of returning it to the pool.
          client.release(rollbackError instanceof Error ? rollbackError : true);
        }
        throw error;
      }
    },

    async listen(channel, onPayload, events = {}): Promise<ListenHandle> {
      assertOpen();
      assertChannelName(channel, DRIVER_NAME);
      const listener = pgListener(pool.options, channel, onPayload, events, () => listeners.delete(listener));
      listeners.add(listener);
      await listener.start();
      return { close: () => listener.close() };
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...listeners].map((listener) => listener.close()));
        if (ownsPool) await pool.end();
      })();
      return closing;
    },
  };
}

/**
 * Runs pgqueue statements on a pg Client, PoolClient or Pool of the caller's, for example one
 * inside the caller's own BEGIN ... COMMIT, so an enqueue commits or rolls back with it.
 */
export function pgQueryable(client: PgQueryTarget): Queryable {
  return queryableOn(client, () => {});
}

/**
 * `beforeStatement` throws to refuse a statement (closed driver, finished transaction);
 * `timed` runs a statement that has a deadline, when the target can do better than `query_timeout` alone.
 */
function queryableOn(
  client: PgQueryTarget,
  beforeStatement: () => void,
  timed?: (config: PgQueryConfig, timeoutMs: number) => Promise<PgQueryResult>,
): Queryable {
  return {
    async query<Row = Record<string, unknown>>(
      text: string,
      params: readonly SqlParam[] = [],
      options: QueryOptions = {},
    ): Promise<QueryResult<Row>> {
      beforeStatement();
      const config: PgQueryConfig = { text, values: [...params], ...(options.name === undefined ? {} : { name: options.name }) };
      const timeoutMs = options.timeoutMs === undefined ? undefined : Math.max(1, Math.ceil(options.timeoutMs));
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
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    },
    async exec(text: string): Promise<void> {
      beforeStatement();
      // Without `values` pg uses the simple query protocol, which accepts several statements.
      await client.query({ text });
    },
  };
}

/**
 * A statement with a deadline, on a connection of its own from the pool. pg's `query_timeout`
 * fails the query but leaves the statement running on the server, where it can go on waiting
 * for a row lock while holding the locks it already took (a completion behind an application's
 * `FOR UPDATE`): so the backend is also sent a cancel from another pooled connection, and the
 * client is discarded, as `pool.query` discards a client after any error.
 */
async function queryWithDeadline(pool: PgPool, config: PgQueryConfig, timeoutMs: number): Promise<PgQueryResult> {
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
 * Ends a LISTEN client, destroying its socket if it has not ended after `ms`: `end()` waits for
 * the server to close its side, which a stalled connection never does (the fault scenario saw
 * driver.close() hang there). pg's own `end()` destroys the socket the same way under a hung query.
 */
async function endWithin(client: PgListenClient, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.connection?.stream?.destroy();
      resolve();
    }, ms);
  });
  try {
    await Promise.race([client.end().catch(() => {}), late]);
  } finally {
    clearTimeout(timer);
  }
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

/**
 * Queues statements on one client. A pg Client queues overlapping queries itself, but warns that
 * this is deprecated (to be removed in pg 9), and `fn` may well run a Promise.all inside a
 * transaction.
 */
function oneAtATime(client: PgQueryTarget): PgQueryTarget {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    query(config) {
      const result = tail.then(() => client.query(config));
      tail = result.catch(() => {});
      return result;
    },
  };
}

function transactionAborted(): Error {
  return Object.assign(new Error('Transaction was rolled back instead of committed: a statement in it had failed'), {
    code: '25P02',
  });
}

/**
 * One LISTEN on its own Client, outside the pool: a pooled connection would be handed to other
 * queries and its LISTEN would be lost on release. A lost Client is ended, and each attempt of
 * the reconnect loop opens a new one.
 */
function pgListener(
  poolOptions: PgPoolOptions,
  channel: string,
  onPayload: (payload: string) => void,
  events: ListenEvents,
  onClosed: () => void,
): ReconnectingListener {
  let current: PgListenClient | undefined;
  let connecting: PgListenClient | undefined;
  const listener: ReconnectingListener = new ReconnectingListener({
    driverName: DRIVER_NAME,
    onPayload,
    events,
    onClosed,

    async subscribe() {
      const client = createListenClient(poolOptions);
      connecting = client;
      // 'connecting' until LISTEN succeeded, then 'open'; a loss while connecting fails the attempt.
      const link: { state: 'connecting' | 'open' | 'lost' } = { state: 'connecting' };
      const gone = (error: Error) => {
        const wasOpen = link.state === 'open';
        link.state = 'lost';
        if (!wasOpen || current !== client) return;
        current = undefined;
        listener.lost(error);
        client.end().catch(() => {});
      };
      // pg emits 'error' on a Client whose socket fails; unhandled, that event kills the process.
      client.on('error', gone);
      client.on('end', () => gone(new Error('The LISTEN connection ended')));
      client.on('notification', (message) => {
        if (link.state !== 'lost' && message.channel === channel) listener.deliver(message.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN "${channel}"`);
        if (link.state === 'lost') throw new Error('The LISTEN connection was lost while subscribing');
        if (listener.closed) throw new PgQueueError('DRIVER_CLOSED', 'pgqueue (pg): the listener was closed.');
      } catch (error) {
        link.state = 'lost';
        await client.end().catch(() => {});
        throw error;
      } finally {
        if (connecting === client) connecting = undefined;
      }
      link.state = 'open';
      current = client;
    },

    async shutdown() {
      const open = current;
      const pending = connecting;
      current = connecting = undefined;
      // Not awaited: against an unreachable host the attempt only ends at its connect timeout.
      // Ending it makes the attempt fail, and the reconnect loop stops on `closed`.
      pending?.end().catch(() => {});
      if (open !== undefined) await endWithin(open, LISTEN_END_MS);
    },
  });
  return listener;
}
