/**
 * One worker process of a fault scenario: a QueueManager on the pg adapter, with connections of
 * its own, started and stopped by the scenario over IPC and otherwise killed, frozen or cut off by
 * it. Its handler records the run (recorder.ts), then works for the job's `ms`, giving up when
 * its signal aborts (lost lease, stop deadline), as a well-behaved handler does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { QueueManager } from '@pgqueue/core';
import { createPgDriver } from '@pgqueue/pg';
import { RECORDER_APPLICATION, WORKER_APPLICATION } from './database.js';
import type { FaultJob, FromWorker, ToWorker, WorkerSpec } from './protocol.js';
import { RunRecorder } from './recorder.js';

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('worker-process.ts is started by a fault scenario over IPC, not by hand');
  let finished = false;
  // The scenario died: stop at once rather than run on as an orphan.
  process.once('disconnect', () => {
    if (!finished) process.exit(1);
  });
  const spec = await new Promise<WorkerSpec>((resolve) => {
    process.once('message', (message: ToWorker) => {
      if (message.type === 'start') resolve(message.spec);
    });
  });
  const driver = createPgDriver(spec.workerUrl, { max: 4, applicationName: WORKER_APPLICATION });
  const recorderPool = new pg.Pool({ connectionString: spec.recorderUrl, max: 2, application_name: RECORDER_APPLICATION });
  recorderPool.on('error', () => undefined);
  const qm = new QueueManager(driver, {
    batchSize: spec.batchSize,
    maxConcurrentTasks: spec.maxConcurrentTasks,
    pollIntervalMs: spec.pollIntervalMs,
    staleAfterMs: spec.staleAfterMs,
    shutdownTimeoutMs: spec.shutdownTimeoutMs,
  });
  const recorder = new RunRecorder(recorderPool, qm.ownerId);
  qm.entrypoint<FaultJob | null>(
    spec.entrypoint,
    async (job, { signal }) => {
      await recorder.record(job.id, job.attempts);
      const ms = job.payload?.ms;
      if (ms !== undefined) await sleep(ms, undefined, { signal });
    },
    // A job orphaned by several kills in a row is picked more often than the default three
    // attempts allow; the scenarios count those picks instead of failing the job.
    { retry: { maxAttempts: 1_000, baseDelayMs: 50 } },
  );
  qm.on('error', (error, { operation }) => send({ type: 'error', operation, message: error instanceof Error ? error.message : String(error) }));
  qm.on('leaseLost', () => send({ type: 'leaseLost' }));

  let stopCalledAt: number | undefined;
  process.on('message', (message: ToWorker) => {
    if (message.type !== 'stop') return;
    stopCalledAt ??= Date.now();
    void qm.stop({ timeoutMs: message.timeoutMs });
  });
  const memoryTimer =
    spec.memoryEveryMs === undefined
      ? undefined
      : setInterval(() => {
          // After a full collection the heap is what the worker retains, not garbage V8 has not
          // bothered to collect yet: the figure a leak shows in. The soak starts it with --expose-gc.
          (globalThis as { gc?: () => void }).gc?.();
          const { rss, heapUsed } = process.memoryUsage();
          send({ type: 'memory', rss, heapUsed, resources: process.getActiveResourcesInfo().length });
        }, spec.memoryEveryMs);
  const running = qm.run();
  send({ type: 'ready', ownerId: qm.ownerId });
  await running;
  clearInterval(memoryTimer);
  const stoppedAt = Date.now();
  send({ type: 'stopped', stopMs: stoppedAt - (stopCalledAt ?? stoppedAt) });
  await driver.close();
  await recorderPool.end();
  send({ type: 'closed', closeMs: Date.now() - stoppedAt });
  finished = true;
  process.disconnect();
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
