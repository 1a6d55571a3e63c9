/**
 * Enqueue inside the application's own transaction, opened with the client's native API (pg's
 * BEGIN on a pooled client, postgres.js `sql.begin`, PGlite `db.transaction`, Kysely
 * `db.transaction().execute`) and handed to pgqueue through the adapter's queryable helper and
 * `queries.in(executor)`. The guarantee under test: a rollback leaves no job, a commit leaves
 * every job and the application's own rows with them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Queryable } from '../driver.js';
import { jsonPayload } from '../job.js';
import { Queries } from '../queries.js';
import { openFixture, skipReason, type ConformanceTarget, type Fixture } from './target.js';

export interface OwnTransactionTarget<D extends Driver> extends ConformanceTarget {
  createDriver(): Promise<D> | D;
  /**
   * Runs `fn` in a transaction opened with the client's own API on `driver`'s client, passing
   * the adapter's queryable for it; commits when `fn` resolves, rolls back when it throws.
   */
  ownTransaction<T>(driver: D, fn: (executor: Queryable) => Promise<T>): Promise<T>;
}

type Jobs = { 'send-receipt': { orderId: number }; 'audit-order': null };

export function runOwnTransactionSuite<D extends Driver>(target: OwnTransactionTarget<D>): void {
  const reason = skipReason(target);
  describe.skipIf(reason !== undefined)(`${target.name}: enqueue in the application's own transaction`, () => {
    let fixture: Fixture | undefined;
    let driver: D;
    let queries: Queries<Jobs>;
    const orders = () => `"${fixture!.schema}".app_orders`;
    const jobsOf = async () => (await queries.queueSize()).reduce((n, row) => n + row.count, 0);
    const orderCount = async () => Number((await driver.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${orders()}`)).rows[0]!.n);

    beforeAll(async () => {
      fixture = await openFixture(target);
      // The fixture's driver: on PGlite another driver would be another database.
      driver = fixture.driver as D;
      queries = new Queries<Jobs>(driver, { schema: fixture.schema });
      await driver.exec(`CREATE TABLE ${orders()} (id int PRIMARY KEY)`);
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('rolls back: no job and no row of the application remain', async () => {
      const rollback = new Error('the order failed');
      await expect(
        target.ownTransaction(driver, async (executor) => {
          await executor.query(`INSERT INTO ${orders()} (id) VALUES ($1::int)`, ['1']);
          const inTx = queries.in(executor);
          await inTx.enqueue({ entrypoint: 'send-receipt', payload: { orderId: 1 } });
          await inTx.enqueue([{ entrypoint: 'audit-order' }, { entrypoint: 'send-receipt', payload: { orderId: 1 } }]);
          // Visible inside the transaction…
          expect((await inTx.queueSize()).reduce((n, row) => n + row.count, 0)).toBe(3);
          throw rollback;
        }),
      ).rejects.toBe(rollback);
      // …and gone with it.
      expect(await jobsOf()).toBe(0);
      expect(await orderCount()).toBe(0);
    });

    it('commits: the jobs are queued with the application’s row', async () => {
      const ids = await target.ownTransaction(driver, async (executor) => {
        await executor.query(`INSERT INTO ${orders()} (id) VALUES ($1::int)`, ['2']);
        const inTx = queries.in(executor);
        return [
          await inTx.enqueue({ entrypoint: 'send-receipt', payload: { orderId: 2 } }),
          ...(await inTx.enqueue([{ entrypoint: 'audit-order' }])),
        ];
      });
      expect(await orderCount()).toBe(1);
      const jobs = await queries.getJobs(ids);
      expect(jobs.map((job) => [job.entrypoint, job.status])).toEqual([
        ['send-receipt', 'queued'],
        ['audit-order', 'queued'],
      ]);
      const receipt = jobs[0]!;
      if (receipt.entrypoint === 'send-receipt') expect(jsonPayload(receipt)?.orderId).toBe(2);
      await queries.clearQueue(['send-receipt', 'audit-order']);
    });
  });
}
