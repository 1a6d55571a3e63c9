import { runOwnTransactionSuite } from '@pgqueue/core/testing';
import { createPostgresJsDriver, postgresJsQueryable } from '../src/index.js';

runOwnTransactionSuite({
  name: 'postgres-js',
  requiresServer: true,
  createDriver: () => createPostgresJsDriver(process.env.DATABASE_URL!, { max: 2 }),
  // postgres.js types begin()'s result as UnwrapPromiseArray<T>; for a non-array T that is T.
  ownTransaction: async (driver, fn) => (await driver.sql.begin((tx) => fn(postgresJsQueryable(tx)))) as never,
});
