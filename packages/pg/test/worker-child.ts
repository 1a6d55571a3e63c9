/**
 * A worker process for the SIGKILL test in worker.test.ts: serves one entrypoint with handlers
 * that never finish, reports its owner id and every job it starts on stdout, and waits to be
 * killed. Configured by environment: DATABASE_URL, PGQ_SCHEMA, PGQ_ENTRYPOINT, PGQ_STALE_AFTER_MS.
 */
import { QueueManager } from '@pgqueue/core';
import { createPgDriver } from '../src/index.js';

const driver = createPgDriver(process.env.DATABASE_URL!, { max: 2 });
const staleAfterMs = Number(process.env.PGQ_STALE_AFTER_MS);
const qm = new QueueManager(driver, {
  schema: process.env.PGQ_SCHEMA!,
  batchSize: 5,
  maxConcurrentTasks: 5,
  staleAfterMs,
  heartbeatIntervalMs: Math.floor(staleAfterMs / 3),
});
qm.entrypoint(process.env.PGQ_ENTRYPOINT!, (job) => {
  process.stdout.write(`started ${job.id}\n`);
  return new Promise<void>(() => undefined);
});
process.stdout.write(`owner ${qm.ownerId}\n`);
await qm.run();
