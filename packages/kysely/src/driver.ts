import { assembleDriver, invalidArgument, type Driver, type Queryable } from '@pgqueue/core/adapter';
import { rawQuery, type KyselyDatabase } from './client.js';
import { DRIVER_NAME, assertKysely, queryableOn } from './queryable.js';

export interface KyselyDriverOptions {
  /**
   * Where LISTEN runs: another pgqueue driver, e.g. `createPgDriver(pool)` over the pool of a
   * PostgresDialect. Kysely hands out pooled connections only, and a LISTEN on one of those is
   * lost when it goes back to the pool. Without it, `capabilities.listen` is false and workers poll.
   */
  listen?: Pick<Driver, 'listen'>;
  /**
   * False when the dialect has one connection (PGlite): the core then runs one statement at a
   * time. Kysely does not say which client a dialect wraps, so this cannot be detected. Default: true.
   */
  concurrentQueries?: boolean;
}

/**
 * How long close() waits for the driver's own statements still running. They usually answer in
 * milliseconds (a stopping worker leaves a write under way; a statement given up at its deadline
 * still runs); the bound is for one that never answers (a hung connection), which close() cannot
 * cancel through Kysely and so leaves to the caller's destroy().
 */
const CLOSE_WAIT_MS = 5_000;

export interface KyselyDriver extends Driver {
  /** The Kysely instance statements run on (the caller's, without its plugins). */
  readonly db: KyselyDatabase;
}

/**
 * A pgqueue driver over the caller's Kysely instance: statements go through its executor and
 * its connections. It opens nothing of its own, so `close()` stops the LISTEN subscriptions it
 * made and waits for its statements still running; the Kysely instance and the listen driver stay
 * the caller's to close.
 */
export function createKyselyDriver(db: KyselyDatabase, options: KyselyDriverOptions = {}): KyselyDriver {
  assertKysely(db, 'createKyselyDriver');
  if (db.isTransaction) {
    throw invalidArgument(
      `pgqueue (${DRIVER_NAME}): createKyselyDriver needs the Kysely instance, not a transaction. ` +
        `To enqueue inside a transaction, pass kyselyQueryable(trx) as the executor of that enqueue.`,
    );
  }
  const { listen: listenSource, concurrentQueries = true } = options;
  if (listenSource !== undefined && typeof listenSource?.listen !== 'function') {
    throw invalidArgument(`pgqueue (${DRIVER_NAME}): options.listen must be a pgqueue driver (e.g. createPgDriver(pool)).`);
  }
  // Plugins such as CamelCasePlugin rename result columns; the core reads its columns by name.
  const plain = db.withoutPlugins();
  // Statements and transactions under way, each on a connection the dialect handed out; end()
  // waits for them. kysely-postgres-js runs each on a reserved postgres.js connection, and
  // postgres.js's sql.end() (what db.destroy() calls) never resolves if it began while one was
  // reserved, not even once it is released: stop the worker, close this driver, destroy the
  // instance, as the docs say, and a write still under way hung the caller for good.
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    const forget = () => void running.delete(work);
    work.then(forget, forget);
    return work;
  };
  const statements = queryableOn(plain);

  return assembleDriver(
    {
      name: DRIVER_NAME,
      capabilities: { concurrentQueries, listen: listenSource !== undefined },
      statements: {
        query: (text, params, options) => track(statements.query(text, params, options)),
        exec: (text) => track(statements.exec(text)),
      },
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
        track(plain.transaction().execute(async (trx) => {
          let failed = false;
          const result = await fn(queryableOn(trx, () => (failed = true)));
          // A failed statement aborts the transaction, and PostgreSQL then answers COMMIT with
          // ROLLBACK: the postgres.js and PGlite dialects report that as a commit, pg's without a
          // SQLSTATE. When `fn` swallowed a failure, ask the server: in an aborted transaction this
          // fails with 25P02, and Kysely rolls back.
          if (failed) await trx.executeQuery(rawQuery('SELECT 1'));
          return result;
        })),
      listen(channel, onPayload, events) {
        if (listenSource === undefined) {
          throw invalidArgument(
            `pgqueue (${DRIVER_NAME}): LISTEN needs a listen source: createKyselyDriver(db, { listen: createPgDriver(pool) }) ` +
              `or the adapter of your dialect's client. Without one, workers poll (capabilities.listen is false).`,
          );
        }
        // With one connection the source's LISTEN shares it with the dialect, and would join (and
        // roll back with) a transaction open there; holding the dialect's connection keeps it out.
        const subscribe = () => listenSource.listen(channel, onPayload, events);
        const pending = concurrentQueries ? subscribe() : plain.connection().execute(subscribe);
        return {
          ready: pending.then(() => undefined),
          close: () => pending.then((handle) => handle.close(), () => undefined),
        };
      },
      // Nothing of its own to end (the Kysely instance and the listen source are the caller's):
      // only its statements to wait for. New ones are refused from here on, so `running` only shrinks.
      end: () => settledWithin([...running], CLOSE_WAIT_MS),
    },
    { db: plain },
  );
}

/** Waits until every promise settled (fulfilled or rejected) or `ms` passed, whichever is first. */
async function settledWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([Promise.allSettled(promises), late]);
  } finally {
    clearTimeout(timer);
  }
}
