import { runOwnTransactionSuite } from '@pgqueue/core/testing';
import { createPgDriver, pgQueryable } from '../src/index.js';

runOwnTransactionSuite({
  name: 'pg',
  requiresServer: true,
  createDriver: () => createPgDriver(process.env.DATABASE_URL!, { max: 2 }),
  // The spelling the README shows: a pooled client, BEGIN, COMMIT or ROLLBACK, release.
  async ownTransaction(driver, fn) {
    const client = await driver.pool.connect();
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
