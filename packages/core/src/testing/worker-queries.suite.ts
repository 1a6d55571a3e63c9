/** The statements the worker runtime is built on: retry, hold, failed jobs, cancel, lease renewal. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { JobError } from '../job.js';
import type { Fixture } from './target.js';
import { gate } from './worker-harness.js';
import { waitFor } from './wait.js';

const boom = (attempt: number): JobError => ({ name: 'Error', message: 'boom', stack: 'Error: boom\n    at handler', attempt });

export function workerQueryCases(fx: () => Fixture, requiresServer: boolean): void {
  const jobsTable = () => `"${fx().schema}".pgqueuer`;

  it('retries running jobs in one statement: delay, stored error, attempt given back, owner guarded', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint('retry');
    const ids = await queries.enqueue([{ entrypoint }, { entrypoint }, { entrypoint }]);
    const owner = randomUUID();
    await queries.dequeue({ ownerId: owner, batchSize: 3, entrypoints: [entrypoint] });
    expect(await queries.retryJobs({ ownerId: randomUUID(), jobs: [{ id: ids[0]!, delayMs: 0 }] })).toEqual([]);
    const retried = await queries.retryJobs({
      ownerId: owner,
      jobs: [
        { id: ids[0]!, delayMs: 0, error: boom(1) },
        { id: ids[1]!, delayMs: 3_600_000, error: boom(1) },
        { id: ids[2]!, delayMs: 0, countAttempt: false },
      ],
    });
    expect([...retried].sort((a, b) => a - b)).toEqual(ids);
    const [now, later, refunded] = await queries.getJobs(ids);
    expect(now).toMatchObject({ status: 'queued', ownerId: null, attempts: 1, lastError: boom(1) });
    expect(later!.executeAfter.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(refunded).toMatchObject({ status: 'queued', attempts: 0, lastError: null });
    const again = await queries.dequeue({ ownerId: owner, batchSize: 3, entrypoints: [entrypoint] });
    expect(again.map((job) => job.id).sort((a, b) => a - b)).toEqual([ids[0], ids[2]]);
    // A retry without an error keeps the one stored by the attempt before.
    await queries.retryJobs({ ownerId: owner, jobs: [{ id: ids[0]!, delayMs: 0 }] });
    expect((await queries.getJobs([ids[0]!]))[0]?.lastError).toEqual(boom(1));
  });

  it('holds failed jobs with their errors, lists them by page, and requeues them as new', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint('hold');
    const ids = await queries.enqueue([{ entrypoint }, { entrypoint }, { entrypoint }]);
    const owner = randomUUID();
    await queries.dequeue({ ownerId: owner, batchSize: 3, entrypoints: [entrypoint] });
    const huge: JobError = { name: 'Error', message: 'x\u0000y'.repeat(5_000), stack: null, attempt: 1 };
    expect(await queries.failJobs({ ownerId: randomUUID(), jobs: [{ id: ids[0]!, error: boom(1) }] })).toEqual([]);
    const held = await queries.failJobs({
      ownerId: owner,
      jobs: [
        { id: ids[0]!, error: boom(1) },
        { id: ids[1]!, error: huge },
      ],
    });
    expect([...held].sort((a, b) => a - b)).toEqual(ids.slice(0, 2));
    const firstPage = await queries.listFailed({ entrypoints: [entrypoint], limit: 1 });
    expect(firstPage.map((job) => job.id)).toEqual([ids[0]]);
    expect(firstPage[0]).toMatchObject({ status: 'failed', ownerId: null, attempts: 1, lastError: boom(1) });
    const secondPage = await queries.listFailed({ entrypoints: [entrypoint], afterId: ids[0]! });
    expect(secondPage.map((job) => job.id)).toEqual([ids[1]]);
    expect(secondPage[0]!.lastError!.message).toMatch(/^xyxy/);
    expect(secondPage[0]!.lastError!.message.length).toBeLessThanOrEqual(4096);
    expect((await queries.listFailed()).some((job) => job.id === ids[2])).toBe(false);

    expect(await queries.requeueFailed([ids[0]!, ids[2]!])).toEqual([ids[0]]);
    const [requeued] = await queries.getJobs([ids[0]!]);
    expect(requeued).toMatchObject({ status: 'queued', attempts: 0, lastError: boom(1) });
    expect((await queries.listFailed({ entrypoints: [entrypoint] })).map((job) => job.id)).toEqual([ids[1]]);
  });

  it('keeps a held job held when a newer job took its dedupe key', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint('hold_key');
    const key = `key-${randomUUID()}`;
    const first = await queries.enqueue({ entrypoint, dedupeKey: key });
    const owner = randomUUID();
    await queries.dequeue({ ownerId: owner, batchSize: 1, entrypoints: [entrypoint] });
    await queries.failJobs({ ownerId: owner, jobs: [{ id: first, error: boom(1) }] });
    const second = await queries.enqueue({ entrypoint, dedupeKey: key });
    expect(await queries.requeueFailed([first])).toEqual([]);
    expect((await queries.getJobs([first, second])).map((job) => job.status)).toEqual(['failed', 'queued']);
    await queries.cancelJobs([second]);
    expect(await queries.requeueFailed([first])).toEqual([first]);
  });

  it('cancels queued and held jobs (counted as canceled) and flags running ones, notifying their ids', async () => {
    const { driver, queries } = fx();
    const entrypoint = fx().entrypoint('cancel');
    const [queued, running, held, gone] = await queries.enqueue([{ entrypoint }, { entrypoint }, { entrypoint }, { entrypoint }]);
    const owner = randomUUID();
    await driver.query(`UPDATE ${jobsTable()} SET execute_after = now() + interval '1 hour' WHERE id = $1::bigint`, [String(queued)]);
    const picked = await queries.dequeue({ ownerId: owner, batchSize: 3, entrypoints: [entrypoint] });
    expect(picked.map((job) => job.id).sort((a, b) => a - b)).toEqual([running, held, gone]);
    await queries.failJobs({ ownerId: owner, jobs: [{ id: held!, error: boom(1) }] });
    await queries.completeJobs({ ownerId: owner, ids: [gone!], statuses: ['successful'] });

    const received: string[] = [];
    const handle = await driver.listen(queries.channel, (payload) => received.push(payload));
    try {
      const result = await queries.cancelJobs([queued!, running!, held!, gone!]);
      expect(result).toEqual({ canceled: [queued, held], canceling: [running] });
      await queries.enqueue({ entrypoint: fx().entrypoint('after_cancel') });
      await waitFor('both notifications', () => received.length >= 2);
      expect(JSON.parse(received[0]!)).toEqual({ type: 'job_canceled', ids: [running] });
    } finally {
      await handle.close();
    }
    const [flagged] = await queries.getJobs([running!]);
    expect(flagged).toMatchObject({ status: 'picked', ownerId: owner, cancelRequested: true });
    expect(await queries.renewLeases(owner, [running!])).toEqual({ renewed: [running], busy: [], cancelRequested: [running] });
    const totals = (await queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint);
    expect(totals).toEqual([
      { entrypoint, status: 'successful', count: 1 },
      { entrypoint, status: 'canceled', count: 2 },
    ]);
    expect(await queries.cancelJobs([])).toEqual({ canceled: [], canceling: [] });
  });

  // A row lock held by another session needs a second connection: a server.
  it.skipIf(!requiresServer)('renews leases without waiting on a row locked elsewhere, and tells a locked row (busy) from a lost one', async () => {
    const { queries, driver } = fx();
    const entrypoint = fx().entrypoint('renew_locked');
    const ids = await queries.enqueue([{ entrypoint }, { entrypoint }, { entrypoint }]);
    const [free, locked, taken] = ids as [number, number, number];
    const owner = randomUUID();
    await queries.dequeue({ ownerId: owner, batchSize: 3, entrypoints: [entrypoint] });
    await driver.query(`UPDATE ${jobsTable()} SET queue_manager_id = $1::uuid WHERE id = $2::bigint`, [randomUUID(), String(taken)]);
    await driver.query(`UPDATE ${jobsTable()} SET heartbeat = now() - interval '1 hour' WHERE id = ANY ($1::bigint[])`, [
      `{${ids.join(',')}}`,
    ]);
    // An application holding the row lock of one running job in a transaction of its own.
    const { driver: app } = await fx().extraDriver();
    const locking = gate();
    const holding = gate();
    const transaction = app.transaction(async (tx) => {
      await tx.query(`SELECT id FROM ${jobsTable()} WHERE id = $1::bigint FOR UPDATE`, [String(locked)]);
      holding.open();
      await locking.promise;
    });
    try {
      await holding.promise;
      expect(await queries.renewLeases(owner, ids)).toEqual({ renewed: [free], busy: [locked], cancelRequested: [] });
    } finally {
      locking.open();
      await transaction;
    }
    const rows = await queries.getJobs(ids);
    expect(rows[0]!.heartbeatAt.getTime()).toBeGreaterThan(rows[1]!.heartbeatAt.getTime() + 3_000_000);
    expect(await queries.renewLeases(owner, ids)).toEqual({ renewed: [free, locked], busy: [], cancelRequested: [] });
  });
}
