/** Every query of the Queries class, on one connection. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { jsonPayload, type CompletionStatus } from '../job.js';
import { SCHEMA_VERSION, getInstallSql, installSchema, uninstallSchema, verifySchema } from '../schema.js';
import { countingDriver } from './counting.js';
import { Queries } from '../queries.js';
import type { Fixture } from './target.js';

export function queryCases(fx: () => Fixture): void {
  it('enqueues a batch and returns ids in input order', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const ids = await queries.enqueue(
      Array.from({ length: 50 }, (_, i) => ({ entrypoint, payload: { i }, priority: i % 3 })),
    );
    expect(ids).toHaveLength(50);
    const jobs = await queries.getJobs(ids);
    const byId = new Map(jobs.map((job) => [job.id, job]));
    ids.forEach((id, i) => expect(jsonPayload(byId.get(id)!)).toEqual({ i }));
    expect(await queries.enqueue([])).toEqual([]);
  });

  it('enqueues 1,000 jobs, dequeues 100 and completes 100 in exactly one statement each', async () => {
    const counting = countingDriver(fx().driver);
    const queries = new Queries(counting, { schema: fx().schema });
    const entrypoint = fx().entrypoint();
    const ids = await queries.enqueue(Array.from({ length: 1000 }, (_, i) => ({ entrypoint, payload: { i } })));
    expect(counting.statements).toHaveLength(1);
    expect(ids).toHaveLength(1000);
    const ownerId = randomUUID();
    const jobs = await queries.dequeue({ ownerId, batchSize: 100, entrypoints: [entrypoint] });
    expect(counting.statements).toHaveLength(2);
    expect(jobs).toHaveLength(100);
    const done = await queries.completeJobs({
      ownerId,
      ids: jobs.map((job) => job.id),
      statuses: jobs.map(() => 'successful' as const),
    });
    expect(counting.statements).toHaveLength(3);
    expect(done).toHaveLength(100);
    const totals = await fx().queries.statisticsTotals();
    expect(totals.find((row) => row.entrypoint === entrypoint)).toEqual({ entrypoint, status: 'successful', count: 100 });
  });

  it('dequeues by priority, then age, and claims the jobs for the owner', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const [low1, high1, low2, high2, mid] = await queries.enqueue([
      { entrypoint, priority: 0 },
      { entrypoint, priority: 10 },
      { entrypoint, priority: 0 },
      { entrypoint, priority: 10 },
      { entrypoint, priority: 5 },
    ]);
    const ownerId = randomUUID();
    const first = await queries.dequeue({ ownerId, batchSize: 3, entrypoints: [entrypoint] });
    expect(first.map((job) => job.id)).toEqual([high1, high2, mid]);
    for (const job of first) expect(job).toMatchObject({ status: 'picked', ownerId, attempts: 1, entrypoint });
    const second = await queries.dequeue({ ownerId, batchSize: 3, entrypoints: [entrypoint] });
    expect(second.map((job) => job.id)).toEqual([low1, low2]);
    expect(await queries.dequeue({ ownerId, batchSize: 3, entrypoints: [entrypoint] })).toEqual([]);
  });

  it('within a priority, dequeues the earliest due first and passes over levels with only future jobs', async () => {
    const { queries, driver } = fx();
    const entrypoint = fx().entrypoint();
    const [later, earlier, future, low] = await queries.enqueue([
      { entrypoint, priority: 3 },
      { entrypoint, priority: 3 },
      { entrypoint, priority: 9, delayMs: 3_600_000 },
      { entrypoint, priority: 1 },
    ]);
    // The job with the higher id became due first (as a job retried without delay, or enqueued with
    // an older execute_after by another producer, would be).
    await driver.query(`UPDATE ${queries.names.jobs} SET execute_after = now() - interval '1 minute' WHERE id = $1::bigint`, [
      String(earlier),
    ]);
    const jobs = await queries.dequeue({ ownerId: randomUUID(), batchSize: 10, entrypoints: [entrypoint] });
    expect(jobs.map((job) => job.id)).toEqual([earlier, later, low]);
    expect((await queries.getJobs([future!]))[0]?.status).toBe('queued');
  });

  it('only dequeues due jobs of the requested entrypoints', async () => {
    const { queries } = fx();
    const [wanted, other] = [fx().entrypoint(), fx().entrypoint()];
    const [due, , otherId] = await queries.enqueue([
      { entrypoint: wanted },
      { entrypoint: wanted, delayMs: 60_000 },
      { entrypoint: other },
    ]);
    const jobs = await queries.dequeue({ ownerId: randomUUID(), batchSize: 10, entrypoints: [wanted] });
    expect(jobs.map((job) => job.id)).toEqual([due]);
    const delayed = (await queries.queueSize()).find((row) => row.entrypoint === wanted && row.status === 'queued');
    expect(delayed?.count).toBe(1);
    const others = await queries.dequeue({ ownerId: randomUUID(), batchSize: 10, entrypoints: { [other]: {} } });
    expect(others.map((job) => job.id)).toEqual([otherId]);
    expect(jobs[0]!.executeAfter.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('picks a delayed job once its time has come', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const id = await queries.enqueue({ entrypoint, delayMs: 300 });
    const ownerId = randomUUID();
    expect(await queries.dequeue({ ownerId, batchSize: 1, entrypoints: [entrypoint] })).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const jobs = await queries.dequeue({ ownerId, batchSize: 1, entrypoints: [entrypoint] });
    expect(jobs.map((job) => job.id)).toEqual([id]);
  });

  it('holds a concurrency limit on one connection and frees the slot on completion', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    await queries.enqueue(Array.from({ length: 5 }, () => ({ entrypoint })));
    const request = { batchSize: 10, entrypoints: { [entrypoint]: { concurrencyLimit: 2 } } };
    const a = randomUUID();
    const first = await queries.dequeue({ ownerId: a, ...request });
    expect(first).toHaveLength(2);
    expect(await queries.dequeue({ ownerId: randomUUID(), ...request })).toEqual([]);
    await queries.completeJobs({ ownerId: a, ids: [first[0]!.id], statuses: ['successful'] });
    expect(await queries.dequeue({ ownerId: randomUUID(), ...request })).toHaveLength(1);
  });

  it('re-picks a job whose heartbeat is older than the stale interval, and not before', async () => {
    const { driver, queries, schema } = fx();
    const entrypoint = fx().entrypoint();
    const id = await queries.enqueue({ entrypoint });
    const dead = randomUUID();
    await queries.dequeue({ ownerId: dead, batchSize: 1, entrypoints: [entrypoint] });
    const alive = randomUUID();
    expect(await queries.dequeue({ ownerId: alive, batchSize: 1, entrypoints: [entrypoint], staleAfterMs: 60_000 })).toEqual([]);
    await driver.query(`UPDATE "${schema}".pgqueuer SET heartbeat = now() - interval '2 minutes' WHERE id = $1::bigint`, [String(id)]);
    expect(await queries.dequeue({ ownerId: alive, batchSize: 1, entrypoints: [entrypoint], staleAfterMs: null })).toEqual([]);
    const [job] = await queries.dequeue({ ownerId: alive, batchSize: 1, entrypoints: [entrypoint], staleAfterMs: 60_000 });
    expect(job).toMatchObject({ id, ownerId: alive, attempts: 2, status: 'picked' });
  });

  it('renews heartbeats only for jobs the owner still holds', async () => {
    const { driver, queries, schema } = fx();
    const entrypoint = fx().entrypoint();
    const ids = await queries.enqueue([{ entrypoint }, { entrypoint }]);
    const owner = randomUUID();
    await queries.dequeue({ ownerId: owner, batchSize: 2, entrypoints: [entrypoint] });
    await driver.query(`UPDATE "${schema}".pgqueuer SET heartbeat = now() - interval '1 hour' WHERE id = ANY($1::bigint[])`, [
      `{${ids.join(',')}}`,
    ]);
    expect(await queries.heartbeat(randomUUID(), ids)).toEqual([]);
    expect((await queries.heartbeat(owner, ids)).sort((x, y) => x - y)).toEqual(ids);
    for (const job of await queries.getJobs(ids)) expect(Date.now() - job.heartbeatAt.getTime()).toBeLessThan(60_000);
  });

  it('completes with mixed statuses, records statistics, and ignores jobs it does not own', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const ids = await queries.enqueue(Array.from({ length: 6 }, () => ({ entrypoint, priority: 1 })));
    const owner = randomUUID();
    await queries.dequeue({ ownerId: owner, batchSize: 6, entrypoints: [entrypoint] });
    const statuses: CompletionStatus[] = ['successful', 'exception', 'successful', 'canceled', 'deleted', 'successful'];
    expect(await queries.completeJobs({ ownerId: randomUUID(), ids, statuses })).toEqual([]);
    expect(await queries.getJobs(ids)).toHaveLength(6);
    const done = await queries.completeJobs({ ownerId: owner, ids, statuses });
    expect(done.sort((x, y) => x - y)).toEqual(ids);
    expect(await queries.getJobs(ids)).toEqual([]);
    const totals = (await queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint);
    expect(totals).toEqual([
      { entrypoint, status: 'successful', count: 3 },
      { entrypoint, status: 'exception', count: 1 },
      { entrypoint, status: 'canceled', count: 1 },
      { entrypoint, status: 'deleted', count: 1 },
    ]);
    const rows = await queries.statistics({ entrypoints: [entrypoint] });
    expect(rows.reduce((sum, row) => sum + row.count, 0)).toBe(6);
    expect(rows.every((row) => row.priority === 1 && row.timeInQueueMs >= 0)).toBe(true);
  });

  it('does not complete a queued job that was never picked', async () => {
    const { queries } = fx();
    const id = await queries.enqueue({ entrypoint: fx().entrypoint() });
    expect(await queries.completeJobs({ ownerId: randomUUID(), ids: [id], statuses: ['successful'] })).toEqual([]);
    expect((await queries.getJobs([id]))[0]?.status).toBe('queued');
  });

  it('reports queue size per entrypoint, status and priority, and clears by entrypoint', async () => {
    const { queries } = fx();
    const [a, b] = [fx().entrypoint(), fx().entrypoint()];
    await queries.enqueue([
      { entrypoint: a, priority: 1 },
      { entrypoint: a, priority: 1 },
      { entrypoint: a, priority: 2 },
      { entrypoint: b },
    ]);
    await queries.dequeue({ ownerId: randomUUID(), batchSize: 1, entrypoints: [a] });
    const size = (await queries.queueSize()).filter((row) => row.entrypoint === a || row.entrypoint === b);
    expect(size).toEqual([
      { entrypoint: a, status: 'queued', priority: 1, count: 2 },
      { entrypoint: a, status: 'picked', priority: 2, count: 1 },
      { entrypoint: b, status: 'queued', priority: 0, count: 1 },
    ]);
    expect(await queries.clearQueue(a)).toBe(3);
    expect((await queries.queueSize()).filter((row) => row.entrypoint === a)).toEqual([]);
    expect((await queries.queueSize()).filter((row) => row.entrypoint === b)).toHaveLength(1);
  });

  it('rejects a duplicate dedupe key atomically, or skips it on request', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const key = `key-${randomUUID()}`;
    const first = await queries.enqueue({ entrypoint, dedupeKey: key });
    await expect(queries.enqueue([{ entrypoint }, { entrypoint, dedupeKey: key }])).rejects.toMatchObject({
      code: 'DUPLICATE_JOB',
      sqlState: '23505',
    });
    expect((await queries.queueSize()).filter((row) => row.entrypoint === entrypoint)[0]?.count).toBe(1);
    const ids = await queries.enqueue(
      [{ entrypoint }, { entrypoint, dedupeKey: key }, { entrypoint, dedupeKey: `${key}-new` }, { entrypoint }],
      { onDuplicate: 'skip' },
    );
    expect(ids[1]).toBeNull();
    expect(ids.filter((id) => id !== null)).toHaveLength(3);
    expect(ids[0]! < ids[2]! && ids[2]! < ids[3]!).toBe(true);
    const owner = randomUUID();
    const jobs = await queries.dequeue({ ownerId: owner, batchSize: 10, entrypoints: [entrypoint] });
    expect(jobs.find((job) => job.dedupeKey === `${key}-new`)?.id).toBe(ids[2]);
    await queries.completeJobs({ ownerId: owner, ids: [first], statuses: ['successful'] });
    expect(await queries.enqueue({ entrypoint, dedupeKey: key })).toBeGreaterThan(first);
  });

  it('enqueues inside a caller transaction: nothing remains when it rolls back', async () => {
    const { driver, queries } = fx();
    const entrypoint = fx().entrypoint();
    await expect(
      driver.transaction(async (tx) => {
        await queries.enqueue([{ entrypoint }, { entrypoint }], { executor: tx });
        throw new Error('rollback please');
      }),
    ).rejects.toThrow('rollback please');
    expect((await queries.queueSize()).filter((row) => row.entrypoint === entrypoint)).toEqual([]);
    const id = await driver.transaction((tx) => queries.enqueue({ entrypoint }, { executor: tx }));
    expect((await queries.getJobs([id]))[0]?.entrypoint).toBe(entrypoint);
  });

  it('queries.transaction and queries.in(tx): every statement in the transaction, none left after a rollback', async () => {
    const { driver, queries } = fx();
    const entrypoint = fx().entrypoint();
    const queued = async () => (await queries.queueSize()).filter((row) => row.entrypoint === entrypoint).length;
    const rollback = new Error('roll back');
    await expect(
      queries.transaction(async (inTx) => {
        await inTx.enqueue({ entrypoint, payload: { n: 1 } });
        await inTx.enqueue([{ entrypoint }, { entrypoint }]);
        // Seen inside the transaction, through the bound queries.
        expect((await inTx.queueSize()).find((row) => row.entrypoint === entrypoint)?.count).toBe(3);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(await queued()).toBe(0);
    await expect(
      driver.transaction(async (tx) => {
        await queries.in(tx).enqueue({ entrypoint });
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(await queued()).toBe(0);

    const [first, second] = await queries.transaction(async (inTx, tx) => {
      await tx.query('SELECT 1');
      return [await inTx.enqueue({ entrypoint, payload: { n: 2 } }), await inTx.enqueue({ entrypoint })];
    });
    const third = await driver.transaction((tx) => queries.in(tx).enqueue({ entrypoint }));
    expect((await queries.getJobs([first, second, third])).map((job) => job.id)).toEqual([first, second, third]);
  });

  it('queries.in refuses something that is not a transaction handle, and a bound transaction() call', async () => {
    const { driver, queries } = fx();
    expect(() => queries.in({} as never)).toThrow(/Queries\.in: expected a transaction handle/);
    await driver.transaction(async (tx) => {
      await expect(queries.in(tx).transaction(async () => undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });

  it('installs idempotently, verifies, uninstalls, and prints the SQL without connecting', async () => {
    const { driver } = fx();
    const options = { schema: fx().schema, prefix: 'alt_' };
    expect(getInstallSql(options)).toContain(`"${fx().schema}"."alt_pgqueuer"`);
    expect((await verifySchema(driver, options)).installed).toBe(false);
    expect(await installSchema(driver, options)).toEqual({ created: true });
    expect(await installSchema(driver, options)).toEqual({ created: false });
    expect(await verifySchema(driver, options)).toEqual({
      installed: true,
      version: SCHEMA_VERSION,
      currentVersion: SCHEMA_VERSION,
      pendingSteps: [],
      problems: [],
    });
    const alt = new Queries(driver, options);
    await alt.enqueue({ entrypoint: 'x' });
    expect(await alt.queueSize()).toEqual([{ entrypoint: 'x', status: 'queued', priority: 0, count: 1 }]);
    await driver.exec(`DROP TABLE "${fx().schema}".alt_pgqueuer_statistics`);
    const report = await verifySchema(driver, options);
    expect(report.installed).toBe(false);
    expect(report.problems.join()).toContain('alt_pgqueuer_statistics" is missing');
    await expect(installSchema(driver, options)).rejects.toMatchObject({ code: 'SCHEMA_NOT_INSTALLED' });
    await uninstallSchema(driver, options);
    // The type, the five tables and the dequeue function (after uninstall the marker is gone too, so
    // the tables added by later versions count as missing).
    expect((await verifySchema(driver, options)).problems).toHaveLength(7);
  });
}
