import {
  DRIVER_SPECIFICATION_VERSION,
  PgQueueError,
  invalidArgument,
  type Driver,
  type ListenHandle,
  type QueryResult,
  type Queryable,
  type SqlParam,
} from '@pgqueue/core';
import { isKyselyExecutor, rawQuery, type KyselyDatabase, type KyselyExecutor } from './client.js';
import { splitStatements } from './statements.js';

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

export interface KyselyDriver extends Driver {
  /** The Kysely instance statements run on (the caller's, without its plugins). */
  readonly db: KyselyDatabase;
}

const DRIVER_NAME = 'kysely';

/**
 * A pgqueue driver over the caller's Kysely instance: statements go through its executor and
 * its connections. It opens nothing of its own, so `close()` only stops the LISTEN
 * subscriptions it made; the Kysely instance and the listen driver stay the caller's to close.
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
  let closing: Promise<void> | undefined;
  const handles = new Set<ListenHandle>();
  const assertOpen = () => {
    if (closing !== undefined) throw new PgQueueError('DRIVER_CLOSED', `pgqueue (${DRIVER_NAME}): the driver was closed.`);
  };
  const statements = queryableOn(plain, assertOpen);

  return {
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name: DRIVER_NAME,
    capabilities: { concurrentQueries, listen: listenSource !== undefined },
    db: plain,

    query: statements.query,
    exec: statements.exec,

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      assertOpen();
      return plain.transaction().execute(async (trx) => {
        let ended = false;
        let failed = false;
        const handle = queryableOn(trx, () => {
          if (ended) {
            throw invalidArgument(`pgqueue (${DRIVER_NAME}): this transaction has ended; its handle cannot run statements.`);
          }
        }, () => {
          failed = true;
        });
        try {
          const result = await fn(handle);
          // A failed statement aborts the transaction, and PostgreSQL then answers COMMIT with
          // ROLLBACK: the postgres.js and PGlite dialects report that as a commit, pg's without a
          // SQLSTATE. When `fn` swallowed a failure, ask the server: in an aborted transaction this
          // fails with 25P02, and Kysely rolls back.
          if (failed) await trx.executeQuery(rawQuery('SELECT 1'));
          return result;
        } finally {
          ended = true;
        }
      });
    },

    async listen(channel, onPayload, events): Promise<ListenHandle> {
      assertOpen();
      if (listenSource === undefined) {
        throw invalidArgument(
          `pgqueue (${DRIVER_NAME}): LISTEN needs a listen source: createKyselyDriver(db, { listen: createPgDriver(pool) }) ` +
            `or the adapter of your dialect's client. Without one, workers poll (capabilities.listen is false).`,
        );
      }
      const inner = await listenSource.listen(channel, onPayload, events);
      const handle: ListenHandle = {
        close: async () => {
          handles.delete(handle);
          await inner.close();
        },
      };
      handles.add(handle);
      return handle;
    },

    close(): Promise<void> {
      closing ??= Promise.all([...handles].map((handle) => handle.close())).then(() => undefined);
      return closing;
    },
  };
}

/**
 * Runs pgqueue statements on the caller's Kysely transaction (`trx`), so an enqueue commits or
 * rolls back with it. A Kysely instance works too: each statement then takes a pooled connection.
 */
export function kyselyQueryable(trxOrDb: KyselyExecutor): Queryable {
  assertKysely(trxOrDb, 'kyselyQueryable');
  return queryableOn(trxOrDb.withoutPlugins(), () => {});
}

/**
 * `beforeStatement` throws to refuse a statement (closed driver, finished transaction);
 * `onFailure` learns that a statement was rejected.
 */
function queryableOn(target: KyselyExecutor, beforeStatement: () => void, onFailure: () => void = () => {}): Queryable {
  const run = async (text: string, params?: readonly SqlParam[]) => {
    try {
      return await target.executeQuery(rawQuery(text, params));
    } catch (error) {
      onFailure();
      throw error;
    }
  };
  return {
    // The name hint is not used: Kysely's compiled queries carry no statement name to prepare.
    async query<Row = Record<string, unknown>>(text: string, params: readonly SqlParam[] = []): Promise<QueryResult<Row>> {
      beforeStatement();
      const result = await run(text, params);
      const rows = result.rows as Row[];
      return { rows, rowCount: result.numAffectedRows === undefined ? rows.length : Number(result.numAffectedRows) };
    },
    async exec(text: string): Promise<void> {
      beforeStatement();
      // pg and postgres.js send a statement without parameters by the simple protocol, which
      // takes several; PGlite's dialect does not. So every dialect gets one statement at a time,
      // inside one transaction, as atomic as the implicit transaction of a multi-statement query.
      const each = splitStatements(text);
      if (each.length === 0) return;
      if (each.length === 1) {
        await run(each[0]!);
      } else if (target.isTransaction) {
        for (const statement of each) await run(statement);
      } else {
        await (target as KyselyDatabase).transaction().execute(async (trx) => {
          for (const statement of each) await trx.executeQuery(rawQuery(statement));
        });
      }
    },
  };
}

function assertKysely(value: unknown, caller: string): void {
  if (isKyselyExecutor(value)) return;
  const got = value === null ? 'null' : typeof value === 'object' ? `an object (${value.constructor?.name ?? 'no constructor'})` : typeof value;
  throw invalidArgument(
    `pgqueue (${DRIVER_NAME}): ${caller} expects a Kysely instance (new Kysely({ dialect })) or a Kysely transaction, ` +
      `but got ${got}. For a pg Pool, a postgres.js sql or a PGlite database, use @pgqueue/pg, @pgqueue/postgres-js or @pgqueue/pglite.`,
  );
}
