/** Statements on a Kysely instance or transaction: the Queryable of the driver and of kyselyQueryable. */
import { invalidArgument, queryableFrom, type Queryable, type SqlParam } from '@pgqueue/core/adapter';
import { isKyselyExecutor, rawQuery, type KyselyDatabase, type KyselyExecutor } from './client.js';
import { splitStatements } from './statements.js';

export const DRIVER_NAME = 'kysely';

/**
 * Runs pgqueue statements on the caller's Kysely transaction (`trx`), so an enqueue commits or
 * rolls back with it. A Kysely instance works too: each statement then takes a pooled connection.
 */
export function kyselyQueryable(trxOrDb: KyselyExecutor): Queryable {
  assertKysely(trxOrDb, 'kyselyQueryable');
  return queryableOn(trxOrDb.withoutPlugins());
}

/** `onFailure` learns that a statement was rejected. */
export function queryableOn(target: KyselyExecutor, onFailure: () => void = () => {}): Queryable {
  const run = async (text: string, params?: readonly SqlParam[]) => {
    try {
      return await target.executeQuery(rawQuery(text, params));
    } catch (error) {
      onFailure();
      throw error;
    } finally {
      await yieldToEventLoop();
    }
  };
  return queryableFrom({
    // The name hint is not used: Kysely's compiled queries carry no statement name to prepare.
    async query(text, params) {
      const { rows, numAffectedRows } = await run(text, params);
      return { rows, rowCount: numAffectedRows === undefined ? rows.length : Number(numAffectedRows) };
    },
    async exec(text) {
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
  });
}

export function assertKysely(value: unknown, caller: string): void {
  if (isKyselyExecutor(value)) return;
  const got = value === null ? 'null' : typeof value === 'object' ? `an object (${value.constructor?.name ?? 'no constructor'})` : typeof value;
  throw invalidArgument(
    `pgqueue (${DRIVER_NAME}): ${caller} expects ${caller === 'kyselyQueryable' ? 'a Kysely transaction or ' : ''}` +
      `a Kysely instance (new Kysely({ dialect })), ` +
      `but got ${got}. For a pg Pool, a postgres.js sql or a PGlite database, use @pgqueue/pg, @pgqueue/postgres-js or @pgqueue/pglite.`,
  );
}

/**
 * An in-process dialect (PGlite) resolves a statement without a turn of the event loop, so a
 * worker with a backlog starves timers and I/O: here a 5 ms timer had not fired after 3 s and
 * 16,800 statements. The adapter cannot tell the dialects apart, and over a network client one
 * macrotask per statement costs next to nothing, so every statement yields once.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
