/**
 * close() and the caller's destroy() while a statement is still running. The worker gives up on
 * a statement at its deadline and a stopping worker does not wait for a write under way, so the
 * driver is often closed with a statement in flight. kysely-postgres-js runs each statement on a
 * reserved postgres.js connection, and postgres.js's sql.end() (what db.destroy() calls) waits
 * forever for a connection that was reserved when it began, even once it is released: before
 * close() waited for the driver's own statements, the worker suite's cleanup hung there.
 */
import { describe, expect, it } from 'vitest';
import { createKyselyDriver } from '../src/index.js';
import { runnableTargets, type DialectTarget } from './targets.js';

/** 'settled' when `promise` settles within `ms`, 'pending' otherwise (the promise is left running). */
async function within(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The adapter's driver on the target's Kysely instance; `opened.end()` is the caller's destroy(). */
function open(target: DialectTarget) {
  const opened = target.connect();
  return { opened, driver: createKyselyDriver(opened.db, target.options) };
}

for (const target of runnableTargets()) {
  describe(`${target.name} close`, () => {
    it('waits for its statements still running, so the caller’s destroy() then ends', async () => {
      const { driver, opened } = open(target);
      await driver.query('SELECT 1');
      let answered = false;
      // Nobody awaits it, as after a deadline the worker gave up on.
      const running = driver.query('SELECT pg_sleep(0.3)').then(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await driver.close();
      expect(answered).toBe(true);
      await running;
      // The test's own bound: before the fix, destroy() never settled on kysely-postgres-js.
      expect(await within(opened.end(), 10_000)).toBe('settled');
    });

    it('waits for a transaction still running', async () => {
      const { driver, opened } = open(target);
      let committed = false;
      const running = driver
        .transaction(async (tx) => {
          await tx.query('SELECT pg_sleep(0.3)');
        })
        .then(() => (committed = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await driver.close();
      expect(committed).toBe(true);
      await running;
      expect(await within(opened.end(), 10_000)).toBe('settled');
    });

    it('refuses statements once closing, and closes at once when idle', async () => {
      const { driver, opened } = open(target);
      await driver.query('SELECT 1');
      const started = Date.now();
      await driver.close();
      expect(Date.now() - started).toBeLessThan(1_000);
      await expect(driver.query('SELECT 1')).rejects.toMatchObject({ code: 'DRIVER_CLOSED' });
      await opened.end();
    });
  });
}
