import { describe, expect, it } from 'vitest';
import { Queries, installSchema } from '@pgqueue/core';
import { runOwnTransactionSuite } from '@pgqueue/core/testing';
import { createPGliteDriver, pgliteQueryable } from '../src/index.js';

runOwnTransactionSuite({
  name: 'pglite',
  requiresServer: false,
  createDriver: () => createPGliteDriver(),
  ownTransaction: (driver, fn) => driver.db.transaction((tx) => fn(pgliteQueryable(tx))),
});

describe('pglite: the outer driver inside its own transaction', () => {
  it('fails at once with a clear error instead of waiting forever', async () => {
    const driver = createPGliteDriver();
    try {
      const queries = new Queries(driver);
      await installSchema(driver);
      const started = Date.now();
      const error = await driver
        .transaction(async () => {
          await queries.enqueue({ entrypoint: 'outside' });
        })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((error as Error).message).toMatch(/queries\.in\(tx\)/);
      // Nothing was left behind: the transaction rolled back, and the driver still works.
      expect(await queries.queueSize()).toEqual([]);
      await driver.transaction((tx) => queries.in(tx).enqueue({ entrypoint: 'inside' }));
      expect((await queries.queueSize()).map((row) => row.entrypoint)).toEqual(['inside']);
      // A nested driver.transaction() is refused the same way.
      await expect(driver.transaction(() => driver.transaction(async () => 1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await driver.close();
    }
  });
});
