import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENTRYPOINT } from '../src/setup.js';
import { jobBatch } from '../src/producer.js';
import { AdvisoryLockCompletionQueries, PerJobCompletionQueries } from '../src/strategies/before.js';
import { recordRawStatements, runRawLoop } from '../src/strategies/raw.js';
import { emptyCounters, recordError, sqlStateIn } from '../src/counters.js';
import { usePgliteSchema } from './pglite-schema.js';

const SCHEMA = 'pgq_bench_strategies';

describe('completion strategies on PGlite', () => {
  const db = usePgliteSchema(SCHEMA);

  const completedTotal = async () => (await db.queries.statisticsTotals()).reduce((sum, t) => sum + t.count, 0);

  for (const [name, Strategy] of [
    ['per-job loop', PerJobCompletionQueries],
    ['per-job loop with advisory locks', AdvisoryLockCompletionQueries],
  ] as const) {
    it(`${name}: completes exactly the jobs the owner holds and counts them in statistics`, async () => {
      const before = await completedTotal();
      await db.queries.enqueue(jobBatch(6));
      const owner = randomUUID();
      const strategy = new Strategy(db.driver, { schema: SCHEMA });
      const jobs = await strategy.dequeue({ ownerId: owner, batchSize: 6, entrypoints: [ENTRYPOINT] });
      expect(jobs).toHaveLength(6);
      const ids = jobs.map((job) => job.id);
      // A job this owner does not hold (made up id) is skipped, like the batch statement does.
      const done = await strategy.completeJobs({
        ownerId: owner,
        ids: [...ids, 999_999],
        statuses: [...ids.map(() => 'successful' as const), 'successful'],
      });
      expect(done).toEqual(ids);
      expect(await completedTotal()).toBe(before + 6);
      expect(await db.queries.queueSize()).toEqual([]);
    });
  }

  it('raw loop: drives the core statements and completes through them', async () => {
    const before = await completedTotal();
    await db.queries.enqueue(jobBatch(25));
    const statements = await recordRawStatements({ schema: SCHEMA, entrypoints: [ENTRYPOINT], ownerId: randomUUID(), batchSize: 10 });
    expect(statements.dequeue.text).toContain(`"${SCHEMA}"`);
    const counters = emptyCounters();
    await runRawLoop(db.driver, statements, counters, () => counters.completed >= 25);
    expect(counters).toMatchObject({ completed: 25, deadlocks: 0, errors: 0 });
    expect(await completedTotal()).toBe(before + 25);
  });

  it('counts 40P01 as a deadlock wherever the cause chain carries it', () => {
    const counters = emptyCounters();
    const driverError = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    recordError(counters, new Error('completeJobs failed', { cause: driverError }));
    recordError(counters, Object.assign(new Error('unique'), { code: '23505' }));
    expect(sqlStateIn(new Error('x', { cause: new Error('y', { cause: driverError }) }))).toBe('40P01');
    expect(counters).toMatchObject({ deadlocks: 1, errors: 1 });
    expect(counters.samples).toEqual(['40P01: completeJobs failed', '23505: unique']);
  });
});
