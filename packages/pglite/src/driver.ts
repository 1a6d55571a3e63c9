import { assembleDriver, invalidArgument, type Driver, type Queryable } from '@pgqueue/core/adapter';
import { createOwnedDatabase, type PGliteDatabase } from './client.js';
import { pgliteListen } from './listener.js';
import { DRIVER_NAME, queryableOn } from './queryable.js';

export interface PGliteDriverOptions {
  /** Where the driver's own database keeps its files. Default: in memory. */
  dataDir?: string;
}

export interface PGliteDriver extends Driver {
  /** The database statements run on: the caller's, or the one the driver created. */
  readonly db: PGliteDatabase;
}

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
  const owned = db === undefined;
  const database = db ?? createOwnedDatabase(options.dataDir);
  // A failed start-up rejects waitReady, and PGlite rejects every later statement with the same
  // error; this only keeps an unused driver from raising an unhandled rejection.
  if (owned) database.waitReady.catch(() => {});

  return assembleDriver(
    {
      name: DRIVER_NAME,
      // One connection: the core runs one statement at a time.
      capabilities: { concurrentQueries: false, listen: true },
      statements: queryableOn(database),
      clientClosed: () => database.closed,
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) => database.transaction((tx) => fn(queryableOn(tx))),
      listen: (channel, onPayload, events) => pgliteListen(database, channel, onPayload, events),
      end: async () => {
        if (owned && !database.closed) await database.close();
      },
    },
    { db: database },
  );
}
