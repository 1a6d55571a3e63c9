import postgres from 'postgres';
import { runConformanceSuite, runConnectionStringSuite } from '@pgqueue/core/testing';
import { createPostgresJsDriver, postgresJsQueryable, type PostgresJsDriver } from '../src/index.js';

runConformanceSuite({
  name: 'postgres-js',
  requiresServer: true,
  // Each call opens its own sql pool, so simulated workers never share a connection.
  createDriver: async () => createPostgresJsDriver(process.env.DATABASE_URL!, { max: 4 }),
  inClientTransaction: async (driver, fn) =>
    (await (driver as PostgresJsDriver).sql.begin((tx) => fn(postgresJsQueryable(tx)))) as Awaited<ReturnType<typeof fn>>,
  borrow() {
    const sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
    return { driver: createPostgresJsDriver(sql), clientQuery: (text) => sql.unsafe(text), end: () => sql.end() };
  },
});

runConnectionStringSuite({ name: 'postgres-js', createDriverAt: (url) => createPostgresJsDriver(url, { max: 1 }) });
