/** The worker runtime doing its job: draining, concurrency limits, failures and retries, dedupe. */
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { PgQueueError } from '../errors.js';
import type { Job, JobId } from '../job.js';
import { Queries, type CompleteBatch, type DequeueOptions } from '../queries.js';
import { CompletionBuffer } from '../worker/completion-buffer.js';
import type { WorkerJob } from '../worker/job.js';
import { QueueManager } from '../worker/queue-manager.js';
import { RetryLater } from '../worker/retry.js';
import { countingDriver } from './counting.js';
import { codeOf, gate, withCapabilities, type WorkerHarness } from './worker-harness.js';
import { sleep, waitFor } from './wait.js';

export interface RuntimeCaseOptions {
  /** Jobs in the many-workers drain case. */
  drainJobs: number;
}

/** The SQLSTATE of an error or of anything in its cause chain. */
function sqlStateIn(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 8; depth++) {
    const state = PgQueueError.isInstance(current) ? current.sqlState : (current as { code?: unknown }).code;
    if (typeof state === 'string' && /^[0-9A-Z]{5}$/.test(state)) return state;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The error code reading `job.payload` throws, if any, and whether its message points at `rawPayload`. */
function payloadErrorCode(job: WorkerJob): string | undefined {
  try {
    void job.payload;
    return undefined;
  } catch (error) {
    if (!PgQueueError.isInstance(error)) return 'not a PgQueueError';
    return error.message.includes('job.rawPayload') ? `${error.code}, read job.rawPayload` : error.code;
  }
}

export function runtimeCases(h: WorkerHarness, options: RuntimeCaseOptions): void {
  const WORKERS = 8;

  it(`8 workers drain ${options.drainJobs} jobs: each runs exactly once, statistics sum up, no deadlock`, async () => {
    const entrypoint = h.fx().entrypoint('drain');
    const total = options.drainJobs;
    for (let start = 0; start < total; start += 5_000) {
      await h.fx().queries.enqueue(
        Array.from({ length: Math.min(5_000, total - start) }, (_, i) => ({ entrypoint, payload: { n: start + i }, priority: i % 3 })),
      );
    }
    const runs = new Map<number, number>();
    const workers = await Promise.all(Array.from({ length: WORKERS }, () => h.worker()));
    for (const { qm } of workers) {
      qm.entrypoint<{ n: number }>(entrypoint, (job) => {
        runs.set(job.payload.n, (runs.get(job.payload.n) ?? 0) + 1);
      });
    }
    await Promise.all(workers.map((worker) => worker.run({ drain: true })));

    const errors = workers.flatMap((worker) => worker.errors);
    expect(errors.filter(({ error }) => sqlStateIn(error) === '40P01')).toEqual([]);
    expect(errors).toEqual([]);
    expect(runs.size).toBe(total);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect((await h.fx().queries.queueSize()).filter((row) => row.entrypoint === entrypoint)).toEqual([]);
    const totals = (await h.fx().queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint);
    expect(totals).toEqual([{ entrypoint, status: 'successful', count: total }]);
  });

  it('vacuums the jobs table once its dead rows pass vacuum.minDeadRows, and not with vacuum: false', async () => {
    const { queries } = h.fx();
    const vacuums = async () => {
      const { rows } = await h.fx().driver.query<{ count: string }>(
        `SELECT pg_stat_get_vacuum_count('${queries.names.jobs}'::regclass)::text AS count`,
      );
      return Number(rows[0]?.count ?? 0);
    };
    const serveWith = async (vacuum: { intervalMs: number; minDeadRows: number } | false) => {
      const entrypoint = h.fx().entrypoint('vacuum');
      const done: JobId[] = [];
      const ids = await queries.enqueue(Array.from({ length: 200 }, () => ({ entrypoint })));
      const worker = await h.worker({ vacuum });
      worker.qm.entrypoint(entrypoint, (job) => void done.push(job.id));
      void worker.run();
      await waitFor('every job to run', () => done.length === ids.length);
      return worker;
    };

    const before = await vacuums();
    const off = await serveWith(false);
    await sleep(300);
    await off.qm.stop();
    expect(await vacuums()).toBe(before);
    expect(off.errors).toEqual([]);

    // The statistics system counts the vacuum once it has ended; another worker's may come first.
    const on = await serveWith({ intervalMs: 50, minDeadRows: 1 });
    await waitFor('a vacuum of the jobs table', async () => (await vacuums()) > before);
    await on.qm.stop();
    expect(on.errors).toEqual([]);
  });

  it('keeps nothing of a job once it ran: no fetch leaves its batch reachable while the worker runs on', async () => {
    // A Promise.race per fetch against a promise living as long as the worker kept every batch
    // reachable (0.8 KB a job). The payload buffers are the fetched rows' own.
    v8.setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const entrypoint = h.fx().entrypoint('collected');
    const ids = await h.fx().queries.enqueue(Array.from({ length: 60 }, (_, n) => ({ entrypoint, payload: { n } })));
    const payloads: WeakRef<Uint8Array>[] = [];
    const worker = await h.worker({ batchSize: 10, pollIntervalMs: 20 });
    worker.qm.entrypoint(entrypoint, (job) => {
      if (job.rawPayload !== null) payloads.push(new WeakRef(job.rawPayload));
    });
    void worker.run();
    await waitFor('every job to run', () => payloads.length === ids.length);
    // What the worker still references (its last batch, at most) may stay; 6 batches must not.
    const reachable = () => payloads.filter((payload) => payload.deref() !== undefined).length;
    let left = ids.length;
    for (let i = 0; i < 40 && left > 10; i++) {
      await sleep(50);
      collect();
      left = reachable();
    }
    expect(left).toBeLessThanOrEqual(10);
    await worker.qm.stop();
    expect(worker.errors).toEqual([]);
  });

  it('keeps a concurrency limit of 2, observed inside the handlers, while 4 workers serve the entrypoint', async () => {
    const entrypoint = h.fx().entrypoint('limited');
    const total = 40;
    await h.fx().queries.enqueue(Array.from({ length: total }, () => ({ entrypoint })));
    let inside = 0;
    let most = 0;
    let done = 0;
    const workers = await Promise.all(Array.from({ length: 4 }, () => h.worker({ batchSize: 5 })));
    for (const { qm } of workers) {
      qm.entrypoint(
        entrypoint,
        async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(3);
          inside--;
          done++;
        },
        { concurrencyLimit: 2 },
      );
    }
    await Promise.all(workers.map((worker) => worker.run({ drain: true })));
    expect(workers.flatMap((worker) => worker.errors)).toEqual([]);
    expect(done).toBe(total);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    const totals = (await h.fx().queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint);
    expect(totals).toEqual([{ entrypoint, status: 'successful', count: total }]);
  });

  it('keeps going when handlers throw or reject: retries per policy, then holds the job with its error for requeue', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('failing');
    const [throws, rejects, ...fine] = await queries.enqueue([
      { entrypoint, payload: { mode: 'throw' } },
      { entrypoint, payload: { mode: 'reject' } },
      ...Array.from({ length: 5 }, () => ({ entrypoint, payload: { mode: 'ok' } })),
    ]);
    let healed = false;
    const attempts = new Map<JobId, number[]>();
    const worker = await h.worker();
    const retried: { id: JobId; reason: string; delayMs: number }[] = [];
    const failed: { id: JobId; action: string; message: string }[] = [];
    worker.qm.on('jobRetried', (job, info) => retried.push({ id: job.id, reason: info.reason, delayMs: info.delayMs }));
    worker.qm.on('jobFailed', (job, info) => failed.push({ id: job.id, action: info.action, message: (info.error as Error).message }));
    worker.qm.entrypoint<{ mode: 'throw' | 'reject' | 'ok' }>(
      entrypoint,
      (job) => {
        attempts.set(job.id, [...(attempts.get(job.id) ?? []), job.attempts]);
        if (healed || job.payload.mode === 'ok') return;
        // A synchronous throw from a plain function, and a rejected promise.
        if (job.payload.mode === 'throw') throw new TypeError(`cannot handle job ${job.id}`);
        return Promise.reject(new Error(`rejected job ${job.id}`));
      },
      { retry: { maxAttempts: 3, baseDelayMs: 0 } },
    );
    await worker.run({ drain: true });

    expect(worker.errors).toEqual([]);
    expect(attempts.get(throws!)).toEqual([1, 2, 3]);
    expect(attempts.get(rejects!)).toEqual([1, 2, 3]);
    for (const id of fine) expect(attempts.get(id)).toEqual([1]);
    expect(retried.filter((event) => event.id === throws)).toEqual([
      { id: throws, reason: 'error', delayMs: 0 },
      { id: throws, reason: 'error', delayMs: 0 },
    ]);
    expect(failed.sort((a, b) => a.id - b.id)).toEqual([
      { id: throws, action: 'hold', message: `cannot handle job ${throws}` },
      { id: rejects, action: 'hold', message: `rejected job ${rejects}` },
    ]);
    const held = await queries.listFailed({ entrypoints: [entrypoint] });
    expect(held.map((job) => job.id)).toEqual([throws, rejects]);
    expect(held[0]).toMatchObject({ status: 'failed', attempts: 3, lastError: { name: 'TypeError', attempt: 3 } });
    expect(held[0]!.lastError!.message).toBe(`cannot handle job ${throws}`);
    expect(held[0]!.lastError!.stack).toContain('TypeError: cannot handle job');
    const totals = (await queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint);
    expect(totals).toEqual([{ entrypoint, status: 'successful', count: 5 }]);

    // Requeued, the held jobs run again from attempt 1 and now succeed.
    healed = true;
    expect(await queries.requeueFailed([throws!, rejects!])).toEqual([throws, rejects]);
    const again = await h.worker();
    again.qm.entrypoint(entrypoint, (job) => {
      attempts.set(job.id, [...(attempts.get(job.id) ?? []), job.attempts]);
    });
    await again.run({ drain: true });
    expect(attempts.get(throws!)).toEqual([1, 2, 3, 1]);
    expect(await queries.listFailed({ entrypoints: [entrypoint] })).toEqual([]);
    expect((await queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint)).toEqual([
      { entrypoint, status: 'successful', count: 7 },
    ]);
  });

  it("deletes a finally failed job with onFinalFailure 'delete' and counts it as exception", async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('delete');
    const id = await queries.enqueue({ entrypoint });
    const worker = await h.worker();
    const failed: { action: string; error: unknown }[] = [];
    worker.qm.on('jobFailed', (_job, info) => failed.push({ action: info.action, error: info.error }));
    worker.qm.entrypoint(
      entrypoint,
      () => {
        throw new Error('always');
      },
      { retry: { maxAttempts: 1 }, onFinalFailure: 'delete' },
    );
    await worker.run({ drain: true });
    expect(failed).toEqual([{ action: 'delete', error: new Error('always') }]);
    expect(await queries.getJobs([id])).toEqual([]);
    expect((await queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint)).toEqual([
      { entrypoint, status: 'exception', count: 1 },
    ]);
  });

  it('runs a job again after RetryLater without counting the attempt, and leaves a backed-off retry queued until due', async () => {
    const { queries } = h.fx();
    const later = h.fx().entrypoint('later');
    const backoff = h.fx().entrypoint('backoff');
    const [laterId, backoffId] = await queries.enqueue([{ entrypoint: later }, { entrypoint: backoff }]);
    const seen: number[] = [];
    const worker = await h.worker();
    worker.qm
      .entrypoint(
        later,
        (job) => {
          seen.push(job.attempts);
          if (seen.length < 3) throw new RetryLater(0, 'not yet');
        },
        { retry: { maxAttempts: 1 } },
      )
      .entrypoint(
        backoff,
        () => {
          throw new Error('try again in a minute');
        },
        { retry: { maxAttempts: 5, baseDelayMs: 60_000, jitter: 0 } },
      );
    await worker.run({ drain: true });
    expect(seen).toEqual([1, 1, 1]);
    expect(await queries.getJobs([laterId!])).toEqual([]);
    expect((await queries.statisticsTotals()).filter((row) => row.entrypoint === later)).toEqual([
      { entrypoint: later, status: 'successful', count: 1 },
    ]);
    const [waiting] = await queries.getJobs([backoffId!]);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1, lastError: { message: 'try again in a minute', attempt: 1 } });
    expect(waiting!.executeAfter.getTime() - waiting!.updatedAt.getTime()).toBeGreaterThanOrEqual(59_000);
  });

  it('writes a batch of retries, then of held failures, with one statement each', async () => {
    const counting = countingDriver(await h.driver());
    const entrypoint = h.fx().entrypoint('batched');
    await h.fx().queries.enqueue(Array.from({ length: 10 }, () => ({ entrypoint })));
    const worker = await h.worker({
      driver: counting,
      batchSize: 10,
      completion: { batchSize: 10, flushIntervalMs: 60_000 },
    });
    worker.qm.entrypoint(
      entrypoint,
      () => {
        throw new Error('no');
      },
      { retry: { maxAttempts: 2, baseDelayMs: 0 } },
    );
    await worker.run({ drain: true });
    const statements = (needle: string) => counting.statements.filter((text) => text.includes(needle)).length;
    expect(statements(`SET status = 'queued'`)).toBe(1);
    expect(statements(`SET status = 'failed'`)).toBe(1);
    expect(statements('DELETE FROM')).toBe(0);
    expect((await h.fx().queries.listFailed({ entrypoints: [entrypoint] })).length).toBe(10);
  });

  it('retries a completion that failed on a transient error, with an injected Queries subclass', async () => {
    const driver = await h.driver();
    const entrypoint = h.fx().entrypoint('flaky');
    await h.fx().queries.enqueue(Array.from({ length: 5 }, () => ({ entrypoint })));
    let failures = 0;
    class FlakyQueries extends Queries {
      override async completeJobs(batch: CompleteBatch): Promise<JobId[]> {
        if (failures < 2) {
          failures++;
          throw new PgQueueError('DEADLOCK', 'deadlock detected (simulated)', { sqlState: '40P01' });
        }
        return super.completeJobs(batch);
      }
    }
    const worker = await h.worker({ driver, queries: new FlakyQueries(driver, { schema: h.fx().schema }) });
    worker.qm.entrypoint(entrypoint, () => undefined);
    await worker.run({ drain: true });
    expect(worker.errors.map(({ error, operation }) => [operation, sqlStateIn(error)])).toEqual([
      ['complete', '40P01'],
      ['complete', '40P01'],
    ]);
    expect((await h.fx().queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint)).toEqual([
      { entrypoint, status: 'successful', count: 5 },
    ]);
  });

  it('holds one outcome per job in the completion buffer: the first one stays, a later one is ignored', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('one_outcome');
    const ids = await queries.enqueue([{ entrypoint }, { entrypoint }]);
    const ownerId = randomUUID();
    await queries.dequeue({ ownerId, batchSize: 2, entrypoints: [entrypoint] });
    const errors: unknown[] = [];
    const settled: JobId[] = [];
    const removed: JobId[] = [];
    const buffer = new CompletionBuffer(
      queries,
      { ownerId, batchSize: 100, flushIntervalMs: 60_000, timeoutMs: () => 10_000, runStatement: (statement) => statement() },
      {
        onError: (error) => errors.push(error),
        onLeaseLost: () => undefined,
        expired: () => [],
        onGivenUp: () => undefined,
        onRemoved: (done) => removed.push(...done),
        onSettled: (done) => settled.push(...done),
        onFlushed: () => undefined,
      },
    );
    buffer.complete(ids[0]!, 'successful');
    buffer.complete(ids[0]!, 'exception');
    buffer.retry({ id: ids[0]!, delayMs: 0 });
    buffer.retry({ id: ids[1]!, delayMs: 0, countAttempt: false });
    buffer.complete(ids[1]!, 'successful');
    expect(buffer.pending).toBe(2);
    expect(await buffer.flush()).toBe(true);
    expect(errors).toEqual([]);
    expect([...settled].sort((a, b) => a - b)).toEqual(ids);
    expect(removed).toEqual([ids[0]]);
    expect((await queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint)).toEqual([
      { entrypoint, status: 'successful', count: 1 },
    ]);
    expect(await queries.getJobs(ids)).toMatchObject([{ id: ids[1], status: 'queued', attempts: 0 }]);
  });

  it('never retries a completion the core refuses as invalid: writes the rest one by one, drops and reports the refused one', async () => {
    const driver = await h.driver();
    const entrypoint = h.fx().entrypoint('refused');
    const ids = await h.fx().queries.enqueue(Array.from({ length: 5 }, () => ({ entrypoint })));
    const poisoned = ids[2]!;
    const batches: number[] = [];
    class RefusingQueries extends Queries {
      override async completeJobs(batch: CompleteBatch): Promise<JobId[]> {
        batches.push(batch.ids.length);
        if (batch.ids.includes(poisoned)) throw new PgQueueError('INVALID_ARGUMENT', `completeJobs: job ${poisoned} refused (simulated)`);
        return super.completeJobs(batch);
      }
    }
    const worker = await h.worker({
      driver,
      queries: new RefusingQueries(driver, { schema: h.fx().schema }),
      completion: { batchSize: 5, flushIntervalMs: 60_000 },
    });
    worker.qm.entrypoint(entrypoint, () => undefined);
    await worker.run({ drain: true });
    expect(batches).toEqual([5, 1, 1, 1, 1, 1]);
    expect(worker.errors.map(({ error, operation }) => [operation, codeOf(error)])).toEqual([['complete', 'INVALID_ARGUMENT']]);
    expect((await h.fx().queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint)).toEqual([
      { entrypoint, status: 'successful', count: 4 },
    ]);
    expect((await h.fx().queries.getJobs(ids)).map((job) => job.id)).toEqual([poisoned]);
  });

  it('stops claiming jobs while its completions lag: at most maxConcurrentTasks + completion.batchSize unwritten', async () => {
    // On PGlite the worker would otherwise queue its fetches behind the held completion and never
    // show the pile-up; PGlite queues concurrent statements itself.
    const driver = withCapabilities(await h.driver(), { concurrentQueries: true });
    const entrypoint = h.fx().entrypoint('lagging');
    const total = 60;
    await h.fx().queries.enqueue(Array.from({ length: total }, () => ({ entrypoint })));
    const bound = 5 + 5; // maxConcurrentTasks + completion.batchSize below
    const held = gate();
    let fetched = 0;
    let written = 0;
    let mostUnwritten = 0;
    let flushes = 0;
    class LaggingQueries extends Queries {
      override async dequeue(options: DequeueOptions): Promise<Job[]> {
        const jobs = await super.dequeue(options);
        fetched += jobs.length;
        mostUnwritten = Math.max(mostUnwritten, fetched - written);
        return jobs;
      }
      override async completeJobs(batch: CompleteBatch): Promise<JobId[]> {
        flushes++;
        await held.promise;
        await sleep(20); // still slow once let go
        const done = await super.completeJobs(batch);
        written += done.length;
        return done;
      }
    }
    const picked = async () =>
      (await h.fx().queries.queueSize())
        .filter((row) => row.entrypoint === entrypoint && row.status === 'picked')
        .reduce((sum, row) => sum + row.count, 0);
    const worker = await h.worker({
      driver,
      queries: new LaggingQueries(driver, { schema: h.fx().schema }),
      batchSize: 5,
      maxConcurrentTasks: 5,
      completion: { batchSize: 5, flushIntervalMs: 1 },
      // Only a finished flush (or handler) may wake a worker whose slots are taken by unwritten outcomes.
      pollIntervalMs: 3_600_000,
    });
    worker.qm.entrypoint(entrypoint, () => undefined);
    const running = worker.run();
    await waitFor('a completion to be held', () => flushes > 0);
    await sleep(200); // ample time to claim all 60 jobs for a worker that ignores its unwritten outcomes
    expect(fetched).toBe(bound);
    expect(await picked()).toBe(bound);
    held.open();
    await waitFor('every job to be written', () => written === total);
    expect(mostUnwritten).toBeLessThanOrEqual(bound);
    expect(await picked()).toBe(0);
    await worker.qm.stop();
    await running;
    expect(worker.errors).toEqual([]);
    expect((await h.fx().queries.statisticsTotals()).filter((row) => row.entrypoint === entrypoint)).toEqual([
      { entrypoint, status: 'successful', count: total },
    ]);
  });

  it('honours dedupe keys while a job is queued or running, with an error or a skip, and frees the key when done', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('dedupe');
    const key = `report-${entrypoint}`;
    const first = await queries.enqueue({ entrypoint, dedupeKey: key, payload: { n: 1 } });
    await expect(queries.enqueue({ entrypoint, dedupeKey: key })).rejects.toMatchObject({ code: 'DUPLICATE_JOB' });
    expect(await queries.enqueue({ entrypoint, dedupeKey: key }, { onDuplicate: 'skip' })).toBeNull();
    const release = gate();
    const ran: number[] = [];
    const worker = await h.worker();
    worker.qm.entrypoint<{ n: number }>(entrypoint, async (job) => {
      ran.push(job.payload.n);
      if (job.payload.n === 1) await release.promise;
    });
    const running = worker.run({ drain: true });
    await waitFor('the first job to start', () => ran.length === 1);
    await expect(queries.enqueue({ entrypoint, dedupeKey: key })).rejects.toMatchObject({ code: 'DUPLICATE_JOB' });
    release.open();
    await running;
    expect(await queries.getJobs([first])).toEqual([]);
    const second = await queries.enqueue({ entrypoint, dedupeKey: key, payload: { n: 2 } });
    expect(second).toBeGreaterThan(first);
    const next = await h.worker();
    next.qm.entrypoint<{ n: number }>(entrypoint, (job) => {
      ran.push(job.payload.n);
    });
    await next.run({ drain: true });
    expect(ran).toEqual([1, 2]);
  });

  it('hands the handler its typed payload, raw bytes, headers, and a queries object for follow-up jobs', async () => {
    const { queries } = h.fx();
    const entrypoint = h.fx().entrypoint('typed');
    const followUp = h.fx().entrypoint('follow_up');
    const bytes = Uint8Array.from([0, 1, 255]);
    await queries.enqueue([
      { entrypoint, payload: { to: 'ada@example.com', count: 2 }, headers: { trace: 't-1' } },
      { entrypoint, payload: bytes },
    ]);
    const seen: unknown[] = [];
    const worker = await h.worker();
    worker.qm.entrypoint<{ to: string; count: number }>(entrypoint, async (job, { queries: own }) => {
      if (job.headers === null) {
        seen.push({ raw: [...job.rawPayload!], payloadError: payloadErrorCode(job) });
        return;
      }
      seen.push({ to: job.payload.to, count: job.payload.count, trace: job.headers.trace });
      await own.enqueue({ entrypoint: followUp, payload: { from: job.id } });
    });
    await worker.run({ drain: true });
    expect(seen).toEqual([
      { to: 'ada@example.com', count: 2, trace: 't-1' },
      { raw: [0, 1, 255], payloadError: 'PAYLOAD_NOT_SERIALIZABLE, read job.rawPayload' },
    ]);
    expect((await queries.queueSize()).filter((row) => row.entrypoint === followUp)).toEqual([
      { entrypoint: followUp, status: 'queued', priority: 0, count: 1 },
    ]);
  });

  it('reports jobStarted and jobCompleted for every job, and survives a throwing listener', async () => {
    const entrypoint = h.fx().entrypoint('events');
    const ids = await h.fx().queries.enqueue(Array.from({ length: 5 }, () => ({ entrypoint })));
    const worker = await h.worker();
    const started: JobId[] = [];
    const completed: JobId[] = [];
    worker.qm.on('jobStarted', (job) => started.push(job.id));
    worker.qm.on('jobStarted', () => {
      throw new Error('a broken metrics hook');
    });
    worker.qm.on('jobCompleted', (job, info) => {
      expect(info.durationMs).toBeGreaterThanOrEqual(0);
      completed.push(job.id);
    });
    worker.qm.entrypoint(entrypoint, () => undefined);
    await worker.run({ drain: true });
    expect(started.sort((a, b) => a - b)).toEqual(ids);
    expect(completed.sort((a, b) => a - b)).toEqual(ids);
    expect(worker.errors.map(({ operation }) => operation)).toEqual(Array(5).fill('listener'));
    expect((await h.fx().queries.statisticsTotals()).find((row) => row.entrypoint === entrypoint)?.count).toBe(5);
  });

  it('refuses bad options and registrations with INVALID_ARGUMENT', async () => {
    const driver = h.fx().driver;
    const invalid = { code: 'INVALID_ARGUMENT' };
    expect(() => new QueueManager(driver, { batchSize: 0 })).toThrow(expect.objectContaining(invalid));
    expect(() => new QueueManager(driver, { heartbeatIntervalMs: 5_000, staleAfterMs: 5_000 })).toThrow(
      expect.objectContaining(invalid),
    );
    expect(() => new QueueManager(driver, { ownerId: 'me' })).toThrow(expect.objectContaining(invalid));
    const qm = new QueueManager(driver, { queries: new Queries(driver, { schema: h.fx().schema }) });
    expect(() => qm.entrypoint('', () => undefined)).toThrow(expect.objectContaining(invalid));
    expect(() => qm.entrypoint('x', () => undefined, { retry: { jitter: 2 } })).toThrow(expect.objectContaining(invalid));
    expect(() => qm.entrypoint('x', () => undefined, { concurrencyLimit: 0 })).toThrow(expect.objectContaining(invalid));
    await expect(qm.run()).rejects.toMatchObject(invalid);
    qm.entrypoint('x', () => undefined);
    expect(() => qm.entrypoint('x', () => undefined)).toThrow(expect.objectContaining(invalid));
    await qm.stop();
    await qm.run();
  });
}
