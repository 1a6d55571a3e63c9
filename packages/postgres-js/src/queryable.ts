/** Statements on a postgres.js `sql`: the Queryable of the driver, its transactions and postgresJsQueryable. */
import { queryableFrom, type Queryable } from '@pgqueue/core/adapter';
import type { PostgresJsQueryTarget } from './client.js';

export const DRIVER_NAME = 'postgres-js';

/**
 * Runs pgqueue statements on a postgres.js `sql` of the caller's: the pool, a reserved connection,
 * or the `sql` of `sql.begin(async (tx) => …)`, so an enqueue commits or rolls back with it.
 */
export function postgresJsQueryable(sqlOrTransaction: PostgresJsQueryTarget): Queryable {
  return queryableOn(sqlOrTransaction);
}

export function queryableOn(target: PostgresJsQueryTarget): Queryable {
  return queryableFrom({
    async query(text, params, { name }) {
      // postgres.js names and caches prepared statements itself; the core's name only says
      // that this statement is worth preparing. `timeoutMs` is left to the core's deadline:
      // postgres.js's `query.cancel()` drops the promise of the cancel request it sends on a new
      // connection, so against an unreachable server its failure would be an unhandled rejection.
      const result = await target.unsafe(text, params, { prepare: name !== undefined });
      // A plain array: the result is an Array subclass carrying postgres.js's own fields.
      const rows = Array.from(result);
      return { rows, rowCount: result.count ?? rows.length };
    },
    exec: (text) => target.unsafe(text),
  });
}
