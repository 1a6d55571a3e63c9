import { AsyncLocalStorage } from 'node:async_hooks';
import {
  DRIVER_SPECIFICATION_VERSION,
  PgQueueError,
  assertChannelName,
  invalidArgument,
  type Driver,
  type ListenHandle,
  type QueryResult,
  type Queryable,
  type SqlParam,
} from '@pgqueue/core';
import { createOwnedDatabase, type PGliteDatabase, type PGliteQueryTarget } from './client.js';

export interface PGliteDriverOptions {
  /** Where the driver's own database keeps its files. Default: in memory. */
  dataDir?: string;
}

export interface PGliteDriver extends Driver {
  /** The database statements run on: the caller's, or the one the driver created. */
  readonly db: PGliteDatabase;
}

const DRIVER_NAME = 'pglite';

/**
 * The transaction of this driver that the current code runs inside, if any. PGlite has one
 * connection: a statement sent on the driver from inside its own open transaction waits for that
 * transaction to end, which waits for the statement: a silent hang. Knowing the caller's
 * transaction turns it into an immediate error.
 */
const openTransaction = new AsyncLocalStorage<{ database: PGliteDatabase; open: boolean }>();

/**
 * A pgqueue driver on PGlite, PostgreSQL in-process. Without `db` it creates its own database
 * (in memory, or in `options.dataDir`) and closes it on `close()`; a `db` passed in stays the
 * caller's.
 */
export function createPGliteDriver(db?: PGliteDatabase, options: PGliteDriverOptions = {}): PGliteDriver {
  if (db !== undefined && options.dataDir !== undefined) {
    throw invalidArgument(
      `pgqueue (${DRIVER_NAME}): pass either a PGlite instance or options.dataDir, not both; the instance already has its data directory.`,
    );
  }
  const ownsDb = db === undefined;
  const database = db ?? createOwnedDatabase(options.dataDir);
  // A failed start-up rejects waitReady, and PGlite rejects every later statement with the same
  // error; this only keeps an unused driver from raising an unhandled rejection.
  if (ownsDb) database.waitReady.catch(() => {});

  let closing: Promise<void> | undefined;
  const unlisteners = new Set<() => Promise<void>>();
  const assertOpen = () => {
    if (closing !== undefined || database.closed) {
      throw new PgQueueError('DRIVER_CLOSED', `pgqueue (${DRIVER_NAME}): the driver or its PGlite database was closed.`);
    }
  };
  const assertNotInOwnTransaction = () => {
    const current = openTransaction.getStore();
    if (current?.open === true && current.database === database) {
      throw invalidArgument(
        `pgqueue (${DRIVER_NAME}): a statement was sent on the driver from inside its own transaction. PGlite has one ` +
          `connection, so it would wait for the transaction to end, forever. Inside transaction(tx => …) use tx, or ` +
          `queries.in(tx) for pgqueue's statements.`,
      );
    }
  };
  const statements = queryableOn(database, () => {
    assertOpen();
    assertNotInOwnTransaction();
  });

  return {
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name: DRIVER_NAME,
    capabilities: { concurrentQueries: false, listen: true },
    db: database,

    query: statements.query,
    exec: statements.exec,

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      assertOpen();
      assertNotInOwnTransaction();
      return database.transaction(async (tx) => {
        const state = { database, open: true };
        let ended = false;
        const handle = queryableOn(tx, () => {
          if (ended) {
            throw invalidArgument(`pgqueue (${DRIVER_NAME}): this transaction has ended; its handle cannot run statements.`);
          }
        });
        try {
          return await openTransaction.run(state, () => fn(handle));
        } finally {
          ended = true;
          state.open = false;
        }
      });
    },

    async listen(channel, onPayload, events = {}): Promise<ListenHandle> {
      assertOpen();
      assertChannelName(channel, DRIVER_NAME);
      // Quoted, so a channel that is a keyword ("select") still parses in PGlite's LISTEN.
      const quoted = `"${channel}"`;
      let active = true;
      const callback = (payload: string) => {
        if (!active) return;
        try {
          onPayload(payload);
        } catch (error) {
          // PGlite calls listeners from a queued microtask, where a throw is an uncaught
          // exception that ends the process. Report it instead.
          try {
            events.onError?.(error);
          } catch {
            // Nothing left to report to.
          }
        }
      };
      await database.listen(quoted, callback);
      let closed: Promise<void> | undefined;
      const unlisten = () => {
        closed ??= (async () => {
          active = false;
          unlisteners.delete(unlisten);
          if (!database.closed) await database.unlisten(quoted, callback);
        })();
        return closed;
      };
      unlisteners.add(unlisten);
      return { close: unlisten };
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...unlisteners].map((unlisten) => unlisten()));
        if (ownsDb && !database.closed) await database.close();
      })();
      return closing;
    },
  };
}

/**
 * Runs pgqueue statements on a PGlite database of the caller's, or on the `tx` of the caller's
 * `db.transaction(async (tx) => …)`, so an enqueue commits or rolls back with it.
 */
export function pgliteQueryable(txOrDb: PGliteQueryTarget): Queryable {
  return queryableOn(txOrDb, () => {});
}

/** `beforeStatement` throws to refuse a statement (closed driver, finished transaction). */
function queryableOn(target: PGliteQueryTarget, beforeStatement: () => void): Queryable {
  return {
    // The name hint is not used: PGlite has no named prepared statements to reuse. Nor is
    // `timeoutMs`: a statement runs in this process, with no network to hang on and no other
    // session whose locks it could wait for; the core's deadline still applies.
    async query<Row = Record<string, unknown>>(text: string, params: readonly SqlParam[] = []): Promise<QueryResult<Row>> {
      beforeStatement();
      const result = await target.query(text, [...params]);
      await yieldToEventLoop();
      const rows = result.rows as Row[];
      // Before 0.5 PGlite had no rowCount; affectedRows is 0 for anything but DML, where
      // rows.length is the right answer.
      return { rows, rowCount: result.rowCount ?? (result.affectedRows || rows.length) };
    },
    async exec(text: string): Promise<void> {
      beforeStatement();
      await target.exec(text);
      await yieldToEventLoop();
    },
  };
}

/**
 * PGlite runs a statement on this thread and resolves it without a turn of the event loop, so a
 * loop of statements (a worker with a backlog) starves timers and I/O: the benchmark saw a 20 ms
 * timer fire after 1,000 ms, stalling flush and heartbeat timers and stop(). One macrotask turn
 * per statement lets them run; it cost nothing measurable (3.6k–4.4k statements/s either way).
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
