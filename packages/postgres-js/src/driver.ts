import {
  DRIVER_SPECIFICATION_VERSION,
  PgQueueError,
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
const CHANNEL = /^[a-z_][a-z0-9_]*$/;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

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
  const listeners = new Set<PostgresJsListener>();
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
      assertChannel(channel);
      const listener = new PostgresJsListener(sql.options, channel, onPayload, events, () => listeners.delete(listener));
      listeners.add(listener);
      try {
        await listener.start();
      } catch (error) {
        await listener.close();
        throw error;
      }
      return { close: () => listener.close() };
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...listeners].map((listener) => listener.close()));
        if (ownsSql) await sql.end();
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
      // that this statement is worth preparing.
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

function assertChannel(channel: string): void {
  if (typeof channel !== 'string' || !CHANNEL.test(channel)) {
    throw invalidArgument(
      `pgqueue (${DRIVER_NAME}): channel "${String(channel)}" is not allowed: use lower-case letters, digits and ` +
        `underscores, starting with a letter or underscore.`,
    );
  }
}

function safely(callback: (() => void) | undefined): void {
  try {
    callback?.();
  } catch {
    // A throwing callback of the caller's must not break the connection or the reconnect loop.
  }
}

/**
 * One LISTEN on its own one-connection postgres.js instance. postgres.js's `sql.listen` also
 * re-LISTENs after a lost connection, but once it has, the `unlisten()` it returned no longer
 * removes the callback (it holds the listener object of before the reconnect), so a closed
 * handle would keep receiving; this loop owns its connection and its lifecycle instead.
 */
class PostgresJsListener {
  readonly #sql: PostgresJsSql;
  #closed = false;
  #closing: Promise<void> | undefined;
  #listening = false;
  /** Set by every close of the connection; an attempt that sees it set lost its connection. */
  #dropped = false;
  #wake: (() => void) | undefined;

  constructor(
    base: PostgresJsOptions,
    private readonly channel: string,
    private readonly onPayload: (payload: string) => void,
    private readonly events: ListenEvents,
    private readonly onClosed: () => void,
  ) {
    this.#sql = createListenSql(base, {
      onnotify: (notifiedChannel, payload) => {
        if (this.#closed || notifiedChannel !== this.channel) return;
        try {
          this.onPayload(payload);
        } catch (error) {
          this.#report(error);
        }
      },
      onclose: () => this.#onConnectionClosed(),
    });
  }

  start(): Promise<void> {
    return this.#subscribe();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#wake?.();
      // timeout 0: a pending attempt against an unreachable server is destroyed, not awaited.
      await this.#sql.end({ timeout: 0 }).catch(() => {});
      this.onClosed();
    })();
    return this.#closing;
  }

  async #subscribe(): Promise<void> {
    this.#dropped = false;
    await this.#sql.unsafe(`LISTEN "${this.channel}"`);
    if (this.#dropped) throw new Error('The LISTEN connection was lost while subscribing');
    if (this.#closed) throw new PgQueueError('DRIVER_CLOSED', `pgqueue (${DRIVER_NAME}): the listener was closed.`);
    this.#listening = true;
  }

  #onConnectionClosed(): void {
    this.#dropped = true;
    if (this.#closed || !this.#listening) return;
    this.#listening = false;
    this.#report(new Error('The LISTEN connection was closed'));
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    let delay = FIRST_RETRY_MS;
    while (!this.#closed) {
      await this.#sleep(delay);
      if (this.#closed) return;
      try {
        // The instance opens a new connection for the statement.
        await this.#subscribe();
        safely(this.events.onReconnect);
        return;
      } catch (error) {
        if (this.#closed) return;
        this.#report(error);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #report(error: unknown): void {
    safely(() => this.events.onError?.(error));
  }
}
