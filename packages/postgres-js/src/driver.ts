import { assembleDriver, invalidArgument, parseConnectionString, type Driver, type Queryable } from '@pgqueue/core/adapter';
import { createOwnedSql, type PostgresJsOptions, type PostgresJsSql } from './client.js';
import { postgresJsListener } from './listener.js';
import { DRIVER_NAME, queryableOn } from './queryable.js';

export interface PostgresJsDriverOptions {
  /** Pool size when the driver creates `sql` from a connection string. Default: postgres.js's (10). */
  max?: number;
}

export interface PostgresJsDriver extends Driver {
  /** The `sql` statements run on: the caller's, or the one built from the connection string. */
  readonly sql: PostgresJsSql;
}

/** Queries still running this long into close() are destroyed with their connections. */
const CLOSE_TIMEOUT_S = 5;

/**
 * A pgqueue driver on postgres.js. Given a connection string (any form pg accepts, unix sockets
 * included) it owns the `sql` it creates and ends it on `close()`; an `sql` passed in stays the
 * caller's. That `sql` must not transform column names, values or rows (`transform: postgres.camel`
 * and the like): the core reads the columns it selected by their own names.
 */
export function createPostgresJsDriver(
  sqlOrConnectionString: PostgresJsSql | string,
  options: PostgresJsDriverOptions = {},
): PostgresJsDriver {
  const owned = typeof sqlOrConnectionString === 'string' || sqlOrConnectionString == null;
  let sql: PostgresJsSql;
  if (owned) {
    const parameters = parseConnectionString(sqlOrConnectionString, DRIVER_NAME);
    sql = createOwnedSql(sqlOrConnectionString as string, parameters, options.max);
  } else {
    sql = sqlOrConnectionString as PostgresJsSql;
    assertNoTransform(sql.options);
  }

  return assembleDriver(
    {
      name: DRIVER_NAME,
      capabilities: { concurrentQueries: true, listen: true },
      statements: queryableOn(sql),
      // postgres.js commits when the callback resolves and rolls back when it rejects. It also
      // rolls back, rethrowing the statement's error, when a statement failed even though the
      // callback caught that error.
      transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => (await sql.begin((tx) => fn(queryableOn(tx)))) as T,
      listen(channel, onPayload, events) {
        const listener = postgresJsListener(sql.options, channel, onPayload, events);
        return { ready: listener.start(), close: () => listener.close() };
      },
      // On a hung connection a running query would otherwise keep close() (and the process) waiting for good.
      end: async () => {
        if (owned) await sql.end({ timeout: CLOSE_TIMEOUT_S });
      },
    },
    { sql },
  );
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
