/** The worker when things go wrong or change: cancels, lost leases, dead workers, lost connections, shutdown. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { PgQueueError } from '../errors.js';
import type { Job, JobId } from '../job.js';
import { Queries, type CompleteBatch, type DequeueOptions, type LeaseRenewal, type StatementOptions } from '../queries.js';
import { countingDriver } from './counting.js';
import { codeOf, gate, untilAborted, withoutListen, type WorkerHarness } from './worker-harness.js';
import { sleep, waitFor } from './wait.js';

const HOUR_MS = 3_600_000;

export function resilienceCases(h: WorkerHarness, requiresServer: boolean): void {
  it('run() rejects with SCHEMA_NOT_INSTALLED and the install hint within a second when the schema is missing', async () => {
    const schema = `pgq_missing_${randomUUID().slice(0, 8)}`;
    const worker = await h.worker({ schema, pollIntervalMs: 50 });
    worker.qm.entrypoint('anything', () => undefined);
    const started = Date.now();
    const error = await worker.run().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(PgQueueError.isInstance(error) && error.code).toBe('SCHEMA_NOT_INSTALLED');
    expect((error as Error).message).toContain(`installSchema(driver, { schema: '${schema}' })`);
    expect(worker.logs.filter((log) => log.level === 'error').map((log) => log.message)).toEqual([
      expect.stringContaining('cannot start'),
    ]);
  });

  it('keeps fetching through transient errors, logging each as a warning, then serves the job', async () => {
    const driver = await h.driver();
    let failuresLeft = 3;
    // The same driver, whose next three dequeues fail as a dropped connection would.
    const flaky = Object.create(driver) as typeof driver;
    flaky.query = (async (text: string, params?: readonly (string | null)[], options?: object) => {
      if (text.includes('dequeue') && failuresLeft > 0) {
        failuresLeft--;
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
      }
      return driver.query(text, params, options);
    }) as typeof driver.query;
    const worker = await h.worker({ driver: flaky, pollIntervalMs: 50 });
    const entrypoint = h.fx().entrypoint('flaky');
    const ran: JobId[] = [];
    worker.qm.entrypoint(entrypoint, (job) => void ran.push(job.id));
    const id = await h.fx().queries.enqueue({ entrypoint });
    void worker.run();
    await waitFor('the job to run after the fetch failures', () => ran.length === 1, 15_000);
    expect(ran).toEqual([id]);
    const warnings = worker.logs.filter((log) => log.level === 'warn' && log.message.includes('dequeue failed'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]!.message).toMatch(/could not talk to PostgreSQL/);
    expect(worker.errors.filter((entry) => entry.operation === 'dequeue')).toHaveLength(3);
  });

  const jobsTable = () => `"${h.fx().schema}".pgqueuer`;
  const totalsOf = async (queries: Queries, entrypoint: string) =>
    (await queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint);

  it('never runs a canceled queued job, and aborts a running one through its signal', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('cancel');
    const queued = await queries.enqueue({ entrypoint });
    expect(await queries.cancelJobs([queued])).toEqual({ canceled: [queued], canceling: [] });
    const started: JobId[] = [];
    const reasons: unknown[] = [];
    const worker = await h.worker({ pollIntervalMs: HOUR_MS });
    const canceled: JobId[] = [];
    worker.qm.on('jobCanceled', (job) => canceled.push(job.id));
    worker.qm.entrypoint(entrypoint, async (job, { signal }) => {
      started.push(job.id);
      await untilAborted(signal).catch((reason: unknown) => {
        reasons.push(reason);
        throw reason;
      });
    });
    void worker.run();
    const running = await queries.enqueue({ entrypoint });
    await waitFor('the job to start', () => started.length === 1);
    expect(await queries.cancelJobs([running])).toEqual({ canceled: [], canceling: [running] });
    await waitFor('the handler to be aborted', () => reasons.length === 1);
    expect(codeOf(reasons[0])).toBe('JOB_CANCELED');
    await waitFor('the canceled job to be written', async () => (await queries.getJobs([running])).length === 0);
    expect(started).toEqual([running]);
    expect(canceled).toEqual([running]);
    expect(await totalsOf(queries, entrypoint)).toEqual([{ entrypoint, status: 'canceled', count: 2 }]);
    expect(worker.errors).toEqual([]);
  });

  it('learns about a cancel from its heartbeat when it gets no notifications, and skips a canceled job it re-picks', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('cancel_hb');
    const [deadJob, liveJob] = (await queries.enqueue([{ entrypoint }, { entrypoint, priority: -1 }])) as [JobId, JobId];
    // A worker that died holding the first job, which was then canceled.
    const dead = randomUUID();
    await queries.dequeue({ ownerId: dead, batchSize: 1, entrypoints: [entrypoint] });
    expect(await queries.cancelJobs([deadJob])).toEqual({ canceled: [], canceling: [deadJob] });
    await h.fx().driver.query(`UPDATE ${jobsTable()} SET heartbeat = now() - interval '1 hour' WHERE id = $1::bigint`, [
      String(deadJob),
    ]);
    const started: JobId[] = [];
    const reasons: unknown[] = [];
    const worker = await h.worker({ driver: withoutListen(await h.driver()), heartbeatIntervalMs: 50, pollIntervalMs: 50 });
    worker.qm.entrypoint(entrypoint, async (job, { signal }) => {
      started.push(job.id);
      await untilAborted(signal).catch((reason: unknown) => {
        reasons.push(reason);
        throw reason;
      });
    });
    void worker.run();
    await waitFor('the live job to start', () => started.length === 1);
    await queries.cancelJobs([liveJob]);
    await waitFor('the heartbeat to abort the handler', () => reasons.length === 1);
    expect(codeOf(reasons[0])).toBe('JOB_CANCELED');
    await waitFor('both jobs to be written', async () => (await queries.getJobs([deadJob, liveJob])).length === 0);
    expect(started).toEqual([liveJob]);
    expect(await totalsOf(queries, entrypoint)).toEqual([{ entrypoint, status: 'canceled', count: 2 }]);
  });

  it('aborts a handler whose lease was taken over, and leaves the new owner’s job alone', async () => {
    const { queries, driver } = h.fx();
    const entrypoint = h.fx().entrypoint('lease');
    const id = await queries.enqueue({ entrypoint });
    const reasons: unknown[] = [];
    const lost: JobId[] = [];
    const worker = await h.worker({ heartbeatIntervalMs: 50 });
    worker.qm.on('leaseLost', (jobId) => lost.push(jobId));
    worker.qm.entrypoint(entrypoint, async (_job, { signal }) => {
      await untilAborted(signal).catch((reason: unknown) => {
        reasons.push(reason);
        throw reason;
      });
    });
    void worker.run();
    await waitFor('the job to start', () => worker.qm.activeJobs === 1);
    // What a re-pick by another worker does to the row.
    const other = randomUUID();
    await driver.query(`UPDATE ${jobsTable()} SET queue_manager_id = $1::uuid, attempts = attempts + 1 WHERE id = $2::bigint`, [
      other,
      String(id),
    ]);
    await waitFor('the handler to be aborted', () => reasons.length === 1);
    expect(codeOf(reasons[0])).toBe('LEASE_LOST');
    expect(lost).toEqual([id]);
    await worker.qm.stop();
    const [job] = await queries.getJobs([id]);
    expect(job).toMatchObject({ status: 'picked', ownerId: other, attempts: 2 });
    expect(await totalsOf(queries, entrypoint)).toEqual([]);
    expect(await queries.completeJobs({ ownerId: other, ids: [id], statuses: ['successful'] })).toEqual([id]);
  });

  // On a one-connection driver every statement takes its turn, so a completion held back here
  // would hold back the renewals too; a real PGlite statement cannot hang that way.
  it.skipIf(!requiresServer)('keeps renewing the lease of a finished job while its outcome waits to be written, and never runs it again', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('unwritten');
    const id = await queries.enqueue({ entrypoint });
    const writes = gate();
    class SlowQueries extends Queries {
      override async completeJobs(batch: CompleteBatch, statement?: StatementOptions): Promise<JobId[]> {
        await writes.promise;
        return super.completeJobs(batch, statement);
      }
    }
    const driver = await h.driver();
    const options = { staleAfterMs: 1_000, heartbeatIntervalMs: 100, pollIntervalMs: 100 };
    const worker = await h.worker({ ...options, driver, queries: new SlowQueries(driver, { schema: h.fx().schema }) });
    const runs: JobId[] = [];
    worker.qm.entrypoint(entrypoint, (job) => {
      runs.push(job.id);
    });
    void worker.run();
    await waitFor('the job to run', () => runs.length === 1);
    const other = await h.worker(options);
    other.qm.entrypoint(entrypoint, (job) => {
      runs.push(job.id);
    });
    void other.run();
    const [before] = await queries.getJobs([id]);
    // Past the lease: before the fix, the outcome's job went stale and was picked and run again.
    await sleep(2_000);
    const [after] = await queries.getJobs([id]);
    expect(after).toMatchObject({ status: 'picked', ownerId: worker.qm.ownerId, attempts: 1 });
    expect(after!.heartbeatAt.getTime()).toBeGreaterThan(before!.heartbeatAt.getTime());
    writes.open();
    await waitFor('the outcome to be written', async () => (await queries.getJobs([id])).length === 0);
    expect(runs).toEqual([id]);
    expect(await totalsOf(queries, entrypoint)).toEqual([{ entrypoint, status: 'successful', count: 1 }]);
    expect([...worker.errors, ...other.errors]).toEqual([]);
  });

  it.skipIf(!requiresServer)(
    'does not run a job again when its own fetch re-picked it just before its outcome was written',
    async () => {
      const { queries } = h.fx();
      const entrypoint = h.fx().entrypoint('repicked');
      const id = await queries.enqueue({ entrypoint });
      let outage = true;
      let repickedYet = false;
      const repicked = gate();
      const written = gate();
      const unreachable = () => new PgQueueError('CONNECTION_FAILED', 'server unreachable (simulated)');
      // An outage at the Queries level. After it, the fetch re-picks the stale job first, and
      // answers only once the job's outcome was written: the order in which two answers on
      // separate connections can arrive.
      class OutageQueries extends Queries {
        override async completeJobs(batch: CompleteBatch, statement?: StatementOptions): Promise<JobId[]> {
          if (outage) throw unreachable();
          await repicked.promise;
          const done = await super.completeJobs(batch, statement);
          if (done.includes(id)) written.open();
          return done;
        }
        override async renewLeases(ownerId: string, ids: readonly JobId[], statement?: StatementOptions): Promise<LeaseRenewal> {
          // Down until the re-pick, or a renewal after the outage would freshen the lease first.
          if (!repickedYet) throw unreachable();
          return super.renewLeases(ownerId, ids, statement);
        }
        override async dequeue(options: DequeueOptions, statement?: StatementOptions): Promise<Job[]> {
          if (outage && runs.length > 0) throw unreachable();
          const jobs = await super.dequeue(options, statement);
          if (jobs.some((job) => job.id === id) && runs.length > 0) {
            repickedYet = true;
            repicked.open();
            await written.promise;
          }
          return jobs;
        }
      }
      const runs: JobId[] = [];
      const driver = await h.driver();
      const worker = await h.worker({
        driver,
        queries: new OutageQueries(driver, { schema: h.fx().schema }),
        staleAfterMs: 1_000,
        heartbeatIntervalMs: 100,
        pollIntervalMs: 100,
      });
      worker.qm.entrypoint(entrypoint, (job) => {
        runs.push(job.id);
      });
      void worker.run();
      await waitFor('the job to run', () => runs.length === 1);
      // Past the lease, with the outcome unwritten and the lease not renewed.
      await sleep(1_500);
      outage = false;
      await waitFor('the outcome to be written', async () => (await queries.getJobs([id])).length === 0);
      await sleep(300);
      expect(runs).toEqual([id]);
      expect(await totalsOf(queries, entrypoint)).toEqual([{ entrypoint, status: 'successful', count: 1 }]);
      expect(worker.errors.map(({ error }) => codeOf(error)).filter((code) => code !== 'CONNECTION_FAILED')).toEqual([]);
    },
  );

  it('finishes the jobs of a worker that stopped heart-beating, once their lease is stale', async () => {
    const { queries, driver } = h.fx();
    const entrypoint = h.fx().entrypoint('orphans');
    const ids = await queries.enqueue(Array.from({ length: 6 }, (_, i) => ({ entrypoint, payload: { i } })));
    const dead = randomUUID();
    const orphans = await queries.dequeue({ ownerId: dead, batchSize: 4, entrypoints: [entrypoint] });
    await driver.query(`UPDATE ${jobsTable()} SET heartbeat = now() - interval '1 hour' WHERE queue_manager_id = $1::uuid`, [dead]);
    const runs: { id: JobId; attempts: number }[] = [];
    const worker = await h.worker({ staleAfterMs: 60_000 });
    worker.qm.entrypoint(entrypoint, (job) => {
      runs.push({ id: job.id, attempts: job.attempts });
    });
    await worker.run({ drain: true });
    expect(runs.map((run) => run.id).sort((a, b) => a - b)).toEqual(ids);
    for (const orphan of orphans) expect(runs.find((run) => run.id === orphan.id)?.attempts).toBe(2);
    expect(await totalsOf(queries, entrypoint)).toEqual([{ entrypoint, status: 'successful', count: 6 }]);
  });

  it('wakes on a notification for its entrypoints only, and polls when LISTEN is unavailable', async () => {
    const { queries } = h.fx();
    const mine = h.fx().entrypoint('mine');
    const counting = countingDriver(await h.driver());
    const dequeues = () => counting.statements.filter((text) => text.includes('pgqueuer_dequeue')).length;
    const done: JobId[] = [];
    const worker = await h.worker({ driver: counting, pollIntervalMs: HOUR_MS });
    worker.qm.entrypoint(mine, (job) => {
      done.push(job.id);
    });
    void worker.run();
    await waitFor('the first fetch', () => dequeues() === 1);
    await queries.enqueue({ entrypoint: h.fx().entrypoint('not_mine') });
    const id = await queries.enqueue({ entrypoint: mine });
    await waitFor('the notified job to run', () => done.length === 1);
    await waitFor('its completion', async () => (await queries.getJobs([id])).length === 0);
    expect(dequeues()).toBe(2);

    const polled = h.fx().entrypoint('polled');
    const polling = await h.worker({ driver: withoutListen(await h.driver()), pollIntervalMs: 50 });
    const polledDone: JobId[] = [];
    polling.qm.entrypoint(polled, (job) => {
      polledDone.push(job.id);
    });
    void polling.run();
    const polledId = await queries.enqueue({ entrypoint: polled });
    await waitFor('the polled job to run', () => polledDone.length === 1);
    expect(polledDone).toEqual([polledId]);
    expect([...worker.errors, ...polling.errors]).toEqual([]);
  });

  it.skipIf(!requiresServer)(
    'reconnects after the server terminates its LISTEN connection and runs jobs enqueued during and after the outage',
    async () => {
      const { queries, driver } = h.fx();
      const entrypoint = h.fx().entrypoint('outage');
      const done: JobId[] = [];
      // Polling is off in practice: only notifications and the catch-up fetch can find the jobs.
      const worker = await h.worker({ pollIntervalMs: HOUR_MS });
      worker.qm.entrypoint(entrypoint, (job) => {
        done.push(job.id);
      });
      void worker.run();
      const listeners = async () =>
        (
          await driver.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE query ILIKE '%listen%' AND query LIKE '%' || $1::text || '%' AND pid <> pg_backend_pid()`,
            [queries.channel],
          )
        ).rows.map((row) => row.pid);
      await waitFor('the LISTEN connection', async () => (await listeners()).length === 1);
      const [before] = await listeners();
      await driver.query('SELECT pg_terminate_backend($1::integer)', [String(before)]);
      const during = await queries.enqueue({ entrypoint });
      await waitFor('the job enqueued during the outage', () => done.includes(during));
      await waitFor('a new LISTEN connection', async () => {
        const now = await listeners();
        return now.length === 1 && now[0] !== before;
      });
      const after = await queries.enqueue({ entrypoint });
      await waitFor('the job enqueued after the outage', () => done.includes(after));
      expect(done).toEqual([during, after]);
      expect(worker.errors.map(({ operation }) => operation)).toContain('listen');
      expect(worker.errors.filter(({ operation }) => operation !== 'listen')).toEqual([]);
    },
  );

  it('on stop, lets running jobs finish, aborts the rest at the deadline, and writes every finished job', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('shutdown');
    const ids = await queries.enqueue(Array.from({ length: 6 }, (_, i) => ({ entrypoint, payload: { quick: i < 3 } })));
    const release = gate();
    const finished: JobId[] = [];
    const reasons: unknown[] = [];
    const worker = await h.worker({ pollIntervalMs: HOUR_MS, completion: { flushIntervalMs: 60_000 } });
    const requeued: { id: JobId; reason: string }[] = [];
    worker.qm.on('jobRetried', (job, info) => requeued.push({ id: job.id, reason: info.reason }));
    worker.qm.entrypoint<{ quick: boolean }>(entrypoint, async (job, { signal }) => {
      if (job.payload.quick) {
        await release.promise;
        finished.push(job.id);
        return;
      }
      await untilAborted(signal).catch((reason: unknown) => {
        reasons.push(reason);
        throw reason;
      });
    });
    const running = worker.run();
    await waitFor('all six jobs to start', () => worker.qm.activeJobs === 6);
    const stopping = worker.qm.stop({ timeoutMs: HOUR_MS });
    release.open();
    await waitFor('the quick jobs to finish', () => finished.length === 3);
    expect(reasons).toEqual([]);
    // A second stop brings the deadline forward: the other three are aborted now.
    await worker.qm.stop({ timeoutMs: 0 });
    await stopping;
    await running;
    expect(reasons.map(codeOf)).toEqual(['WORKER_STOPPED', 'WORKER_STOPPED', 'WORKER_STOPPED']);
    expect(requeued.map((event) => event.reason)).toEqual(['shutdown', 'shutdown', 'shutdown']);
    expect(await totalsOf(queries, entrypoint)).toEqual([{ entrypoint, status: 'successful', count: 3 }]);
    const left = await queries.getJobs(ids);
    expect(left.map((job) => job.id)).toEqual(ids.slice(3));
    for (const job of left) expect(job).toMatchObject({ status: 'queued', attempts: 0, ownerId: null });
    expect(worker.errors).toEqual([]);
  });

  it('stops without waiting for a handler that ignores its signal, and puts that job back in the queue', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('stubborn');
    const id = await queries.enqueue({ entrypoint });
    const never = gate();
    const worker = await h.worker({ pollIntervalMs: HOUR_MS });
    const requeued: { id: JobId; reason: string; code: string | undefined }[] = [];
    worker.qm.on('jobRetried', (job, info) => requeued.push({ id: job.id, reason: info.reason, code: codeOf(info.error) }));
    worker.qm.entrypoint(entrypoint, () => never.promise);
    const running = worker.run();
    await waitFor('the job to start', () => worker.qm.activeJobs === 1);
    await worker.qm.stop({ timeoutMs: 0 });
    await running;
    expect(requeued).toEqual([{ id, reason: 'shutdown', code: 'WORKER_STOPPED' }]);
    expect((await queries.getJobs([id]))[0]).toMatchObject({ status: 'queued', ownerId: null, attempts: 0 });
    // Its late outcome is ignored: the job stays queued for the next worker.
    never.open();
    await sleep(50);
    expect((await queries.getJobs([id]))[0]).toMatchObject({ status: 'queued', ownerId: null });
    expect(worker.errors).toEqual([]);
  });

  it('stops an idle worker at once, without waiting for its poll interval', async () => {
    const worker = await h.worker({ pollIntervalMs: HOUR_MS, shutdownTimeoutMs: HOUR_MS });
    worker.qm.entrypoint(h.fx().entrypoint('idle'), () => undefined);
    const running = worker.run();
    // Let it reach its wait: subscribed, fetched, found nothing. Were stop() to wait for the
    // poll, the test would time out.
    await sleep(50);
    await worker.qm.stop();
    await running;
    expect(worker.errors).toEqual([]);
  });
}
