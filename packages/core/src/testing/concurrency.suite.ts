/**
 * Races between workers, each on its own connection (a driver of its own). Several workers
 * multiplexed over one connection would serialise and hide exactly the races tested here.
 */
import { randomUUID } from 'node:crypto';
import { expect, it as vitestIt, type TestContext } from 'vitest';
import { sqlStateOf } from '../errors.js';
import type { CompletionStatus, Job } from '../job.js';
import type { Queries } from '../queries.js';
import { installSchema, verifySchema } from '../schema.js';
import type { Fixture } from './target.js';
import { sleep } from './wait.js';

const WORKERS = 8;

async function workers(fx: Fixture, count = WORKERS): Promise<Queries[]> {
  const list = await Promise.all(Array.from({ length: count }, () => fx.extraDriver()));
  // Open every connection before the race starts, so connecting does not stagger the workers.
  await Promise.all(list.map(({ driver }) => driver.query('SELECT 1')));
  return list.map(({ queries }) => queries);
}

export function concurrencyCases(fx: () => Fixture): void {
  // Separate connections are the point of these cases: a single-connection driver (PGlite)
  // cannot race, and its extra drivers would be separate databases.
  const it = (title: string, body: () => Promise<void>) =>
    vitestIt(title, async (context: TestContext) => {
      if (!fx().driver.capabilities.concurrentQueries) {
        context.skip(`${fx().driver.name} has a single connection`);
        return;
      }
      await body();
    });

  it(`never hands the same job to two of ${WORKERS} concurrent dequeuers`, async () => {
    const entrypoint = fx().entrypoint();
    const total = 2000;
    await fx().queries.enqueue(Array.from({ length: total }, () => ({ entrypoint })));
    const seen: number[] = [];
    await Promise.all(
      (await workers(fx())).map(async (queries) => {
        const ownerId = randomUUID();
        for (;;) {
          const jobs = await queries.dequeue({ ownerId, batchSize: 10, entrypoints: [entrypoint] });
          if (jobs.length === 0) return;
          seen.push(...jobs.map((job) => job.id));
        }
      }),
    );
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  for (const limit of [1, 3]) {
    it(`never exceeds a concurrency limit of ${limit} while ${WORKERS} dequeuers race`, async () => {
      const entrypoint = fx().entrypoint();
      const total = 60;
      await fx().queries.enqueue(Array.from({ length: total }, () => ({ entrypoint })));
      // Counted up when a claim has committed and down before its completion is sent, so the
      // count never runs ahead of what the database holds: above the limit means a real breach.
      let holding = 0;
      let most = 0;
      let done = 0;
      await Promise.all(
        (await workers(fx())).map(async (queries) => {
          const ownerId = randomUUID();
          while (done < total) {
            const jobs = await queries.dequeue({
              ownerId,
              batchSize: 5,
              entrypoints: { [entrypoint]: { concurrencyLimit: limit } },
            });
            if (jobs.length === 0) {
              await sleep(2);
              continue;
            }
            holding += jobs.length;
            most = Math.max(most, holding);
            await sleep(5);
            holding -= jobs.length;
            const ids = jobs.map((job) => job.id);
            await queries.completeJobs({ ownerId, ids, statuses: ids.map(() => 'successful' as const) });
            done += ids.length;
          }
        }),
      );
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(limit);
      const totals = await fx().queries.statisticsTotals();
      expect(totals.find((row) => row.entrypoint === entrypoint)?.count).toBe(total);
    });
  }

  it(`completes batches sharing statistics keys from ${WORKERS} connections with zero deadlocks`, async () => {
    const entrypoints = [fx().entrypoint('a'), fx().entrypoint('b')];
    const rounds = 5;
    const perWorker = 40;
    const total = rounds * WORKERS * perWorker;
    await fx().queries.enqueue(
      Array.from({ length: total }, (_, i) => ({ entrypoint: entrypoints[i % 2]!, priority: i % 3 })),
    );
    const pool = await workers(fx());
    const statuses: CompletionStatus[] = ['successful', 'exception', 'canceled'];
    let deadlocks = 0;
    let completed = 0;
    // SKIP LOCKED may hand a worker less than a full batch while others hold rows, so rounds go
    // on until everything is completed (bounded, so a lost job fails the test instead of hanging).
    for (let round = 0; completed < total && round < rounds * 4; round++) {
      const claims = await Promise.all(
        pool.map(async (queries) => {
          const ownerId = randomUUID();
          const jobs = await queries.dequeue({ ownerId, batchSize: perWorker, entrypoints });
          return { queries, ownerId, jobs };
        }),
      );
      // Every worker completes at the same moment, its batch shuffled differently, so without a
      // fixed upsert order two of them would lock the same statistics rows in opposite orders.
      await Promise.all(
        claims.map(async ({ queries, ownerId, jobs }, w) => {
          const order = shuffle(jobs, w + round * WORKERS);
          try {
            const ids = await queries.completeJobs({
              ownerId,
              ids: order.map((job) => job.id),
              statuses: order.map((job) => statuses[job.id % statuses.length]!),
            });
            completed += ids.length;
          } catch (error) {
            if (sqlStateOf((error as { cause?: unknown }).cause) === '40P01') deadlocks++;
            else throw error;
          }
        }),
      );
    }
    expect(deadlocks).toBe(0);
    expect(completed).toBe(total);
    const totals = (await fx().queries.statisticsTotals()).filter((row) => entrypoints.includes(row.entrypoint));
    expect(totals.reduce((sum, row) => sum + row.count, 0)).toBe(total);
  });

  it('installs the schema once when several workers start at the same moment', async () => {
    const schema = `${fx().schema}_install_${randomUUID().slice(0, 8)}`;
    const starters = await Promise.all(Array.from({ length: 6 }, () => fx().extraDriver()));
    try {
      await Promise.all(starters.map(({ driver }) => driver.query('SELECT 1')));
      const results = await Promise.all(starters.map(({ driver }) => installSchema(driver, { schema })));
      expect(results.filter((result) => result.created).length).toBeGreaterThanOrEqual(1);
      expect(await verifySchema(fx().driver, { schema })).toMatchObject({ installed: true, problems: [] });
    } finally {
      await fx().driver.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('ignores a completion from a worker that lost its lease to another worker', async () => {
    const entrypoint = fx().entrypoint();
    const id = await fx().queries.enqueue({ entrypoint });
    const [slow, other] = await workers(fx(), 2);
    const slowOwner = randomUUID();
    const otherOwner = randomUUID();
    await slow!.dequeue({ ownerId: slowOwner, batchSize: 1, entrypoints: [entrypoint] });
    await fx().driver.query(
      `UPDATE "${fx().schema}".pgqueuer SET heartbeat = now() - interval '1 minute' WHERE id = $1::bigint`,
      [String(id)],
    );
    const repicked = await other!.dequeue({ ownerId: otherOwner, batchSize: 1, entrypoints: [entrypoint], staleAfterMs: 10_000 });
    expect(repicked.map((job) => job.id)).toEqual([id]);
    expect(await slow!.completeJobs({ ownerId: slowOwner, ids: [id], statuses: ['exception'] })).toEqual([]);
    expect(await slow!.heartbeat(slowOwner, [id])).toEqual([]);
    const [job] = await fx().queries.getJobs([id]);
    expect(job).toMatchObject({ status: 'picked', ownerId: otherOwner, attempts: 2 });
    expect((await fx().queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint)).toEqual([]);
    expect(await other!.completeJobs({ ownerId: otherOwner, ids: [id], statuses: ['successful'] })).toEqual([id]);
  });
}

/** A deterministic shuffle, different per seed. */
function shuffle(jobs: Job[], seed: number): Job[] {
  const out = [...jobs];
  let state = seed + 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
