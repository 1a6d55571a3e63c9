import pg from 'pg';
import { afterAll } from 'vitest';
import { runOwnTransactionSuite } from '@pgqueue/core/testing';
import { createPgDriver, pgQueryable } from '../src/index.js';

// The application's pool; the driver around it leaves it open, so it is ended here.
const pools: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

runOwnTransactionSuite({
  name: 'pg',
  requiresServer: true,
  createDriver() {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
    pool.on('error', () => {});
    pools.push(pool);
    return Object.assign(createPgDriver(pool), { appPool: pool });
  },
  // The spelling the README shows: a pooled client, BEGIN, COMMIT or ROLLBACK, release.
  async ownTransaction(driver, fn) {
    const client = await driver.appPool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(pgQueryable(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  },
});
