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
  createListenSql,
  createOwnedSql,
  type PostgresJsOptions,
  type PostgresJsQueryTarget,
  type PostgresJsSql,
} from './client.js';

export interface PostgresJsDriverOptions {
  /** Pool size when the driver creates `sql` from a connection string. Default: postgres.js's (10). */
  max?: number;
}

export interface PostgresJsDriver extends Driver {
  /** The `sql` statements run on: the caller's, or the one built from the connection string. */
  readonly sql: PostgresJsSql;
}

const DRIVER_NAME = 'postgres-js';
const CLOSE_TIMEOUT_S = 5;

/**
 * A pgqueue driver on postgres.js. Given a connection string it owns the `sql` it creates and
 * ends it on `close()`; an `sql` passed in stays the caller's. That `sql` must not transform
 * column names, values or rows (`transform: postgres.camel` and the like): the core reads the
 * columns it selected by their own names.
 */
export function createPostgresJsDriver(
  sqlOrConnectionString: PostgresJsSql | string,
  options: PostgresJsDriverOptions = {},
): PostgresJsDriver {
  let sql: PostgresJsSql;
  let ownsSql: boolean;
  if (typeof sqlOrConnectionString === 'string' || sqlOrConnectionString == null) {
    assertConnectionString(sqlOrConnectionString, DRIVER_NAME);
    sql = createOwnedSql(sqlOrConnectionString, options.max);
    ownsSql = true;
  } else {
    sql = sqlOrConnectionString;
    ownsSql = false;
    assertNoTransform(sql.options);
  }

  let closing: Promise<void> | undefined;
  const listeners = new Set<ReconnectingListener>();
  const assertOpen = () => {
    if (closing !== undefined) {
      throw new PgQueueError('DRIVER_CLOSED', `pgqueue (${DRIVER_NAME}): the driver was closed.`);
    }
  };
  const statements = queryableOn(sql, assertOpen);

  return {
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name: DRIVER_NAME,
    capabilities: { concurrentQueries: true, listen: true },
    sql,

    query: statements.query,
    exec: statements.exec,

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      assertOpen();
      // postgres.js commits when the callback resolves and rolls back when it rejects. It also
      // rolls back, rethrowing the statement's error, when a statement failed even though the
      // callback caught that error.
      return (await sql.begin(async (tx) => {
        let ended = false;
        const handle = queryableOn(tx, () => {
          if (ended) {
            throw invalidArgument(`pgqueue (${DRIVER_NAME}): this transaction has ended; its handle cannot run statements.`);
          }
        });
        try {
          return await fn(handle);
        } finally {
          // From here on the connection is about to go back to the pool: a late statement on the
          // handle would run there, outside the transaction.
          ended = true;
        }
      })) as T;
    },

    async listen(channel, onPayload, events = {}): Promise<ListenHandle> {
      assertOpen();
      assertChannelName(channel, DRIVER_NAME);
      const listener = postgresJsListener(sql.options, channel, onPayload, events, () => listeners.delete(listener));
      listeners.add(listener);
      await listener.start();
      return { close: () => listener.close() };
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...listeners].map((listener) => listener.close()));
        // Queries still running after CLOSE_TIMEOUT_S are destroyed with their connections: on a
        // hung connection they would otherwise keep close() (and the process) waiting for good.
        if (ownsSql) await sql.end({ timeout: CLOSE_TIMEOUT_S });
      })();
      return closing;
    },
  };
}

/**
 * Runs pgqueue statements on a postgres.js `sql` of the caller's: the pool, a reserved connection,
 * or the `sql` of `sql.begin(async (tx) => …)`, so an enqueue commits or rolls back with it.
 */
export function postgresJsQueryable(sqlOrTransaction: PostgresJsQueryTarget): Queryable {
  return queryableOn(sqlOrTransaction, () => {});
}

/** `beforeStatement` throws to refuse a statement (closed driver, finished transaction). */
function queryableOn(target: PostgresJsQueryTarget, beforeStatement: () => void): Queryable {
  return {
    async query<Row = Record<string, unknown>>(
      text: string,
      params: readonly SqlParam[] = [],
      options: QueryOptions = {},
    ): Promise<QueryResult<Row>> {
      beforeStatement();
      // postgres.js names and caches prepared statements itself; the core's name only says
      // that this statement is worth preparing. `timeoutMs` is left to the core's deadline:
      // postgres.js's `query.cancel()` drops the promise of the cancel request it sends on a new
      // connection, so against an unreachable server its failure would be an unhandled rejection.
      const result = await target.unsafe(text, [...params], { prepare: options.name !== undefined });
      const rows = Array.from(result) as Row[];
      return { rows, rowCount: result.count ?? rows.length };
    },
    async exec(text: string): Promise<void> {
      beforeStatement();
      await target.unsafe(text);
    },
  };
}

function assertNoTransform(options: PostgresJsOptions | undefined): void {
  const transform = options?.transform;
  const used = (['column', 'value', 'row'] as const).filter((key) => typeof transform?.[key]?.from === 'function');
  if (used.length > 0) {
    throw invalidArgument(
      `pgqueue (${DRIVER_NAME}): the sql instance transforms result ${used.join(', ')}s (transform option), ` +
        `which would change the rows pgqueue reads. Create a separate postgres() instance without transform for pgqueue.`,
    );
  }
}

/**
 * One LISTEN on its own one-connection postgres.js instance. postgres.js's `sql.listen` also
 * re-LISTENs after a lost connection, but once it has, the `unlisten()` it returned no longer
 * removes the callback (it holds the listener object of before the reconnect), so a closed
 * handle would keep receiving; the reconnect loop here owns the connection's lifecycle instead.
 */
function postgresJsListener(
  base: PostgresJsOptions,
  channel: string,
  onPayload: (payload: string) => void,
  events: ListenEvents,
  onClosed: () => void,
): ReconnectingListener {
  /** Set by every close of the connection; an attempt that sees it set lost its connection. */
  let dropped = false;
  const sql = createListenSql(base, {
    onnotify: (notifiedChannel, payload) => {
      if (notifiedChannel === channel) listener.deliver(payload);
    },
    onclose: () => {
      dropped = true;
      listener.lost(new Error('The LISTEN connection was closed'));
    },
  });
  const listener: ReconnectingListener = new ReconnectingListener({
    driverName: DRIVER_NAME,
    onPayload,
    events,
    onClosed,
    async subscribe() {
      dropped = false;
      // After a loss the instance opens a new connection for the statement.
      await sql.unsafe(`LISTEN "${channel}"`);
      if (dropped) throw new Error('The LISTEN connection was lost while subscribing');
    },
    // timeout 0: a pending attempt against an unreachable server is destroyed, not awaited.
    shutdown: () => sql.end({ timeout: 0 }),
  });
  return listener;
}
