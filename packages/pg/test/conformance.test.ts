import pg from 'pg';
import { runConformanceSuite, runConnectionStringSuite } from '@pgqueue/core/testing';
import { createPgDriver, pgQueryable, type PgDriver } from '../src/index.js';

runConformanceSuite({
  name: 'pg',
  requiresServer: true,
  // Each call opens its own pool, so simulated workers never share a connection.
  createDriver: async () => createPgDriver(process.env.DATABASE_URL!, { max: 4 }),
  async inClientTransaction(driver, fn) {
    const client = await (driver as PgDriver).pool.connect();
    try {
      await client.query({ text: 'BEGIN' });
      const result = await fn(pgQueryable(client));
      await client.query({ text: 'COMMIT' });
      return result;
    } catch (error) {
      await client.query({ text: 'ROLLBACK' });
      throw error;
    } finally {
      client.release();
    }
  },
  borrow() {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL!, max: 2 });
    return { driver: createPgDriver(pool), clientQuery: (text) => pool.query(text), end: () => pool.end() };
  },
});

runConnectionStringSuite({ name: 'pg', createDriverAt: (url) => createPgDriver(url, { max: 1 }) });
