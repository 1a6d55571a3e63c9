/**
 * A worker process for the fleet test in schedules.test.ts: schedules one entrypoint every
 * second and serves it, each run recorded in a table (so runs of a process killed later are
 * kept). Reports "ready" on stdout, stops cleanly on SIGTERM. Configured by environment:
 * DATABASE_URL, PGQ_SCHEMA, PGQ_ENTRYPOINT, PGQ_STALE_AFTER_MS.
 */
import { QueueManager, stopOnSignals } from '@pgqueue/core';
import { createPgDriver } from '../src/index.js';

const schema = process.env.PGQ_SCHEMA!;
const entrypoint = process.env.PGQ_ENTRYPOINT!;
const staleAfterMs = Number(process.env.PGQ_STALE_AFTER_MS);
const driver = createPgDriver(process.env.DATABASE_URL!, { max: 3 });
const qm = new QueueManager(driver, {
  schema,
  pollIntervalMs: 200,
  staleAfterMs,
  heartbeatIntervalMs: Math.floor(staleAfterMs / 4),
});
qm.entrypoint(entrypoint, async (job) => {
  const tick = (job.headers as { schedule: { tick: string } }).schedule.tick;
  await driver.query(`INSERT INTO "${schema}".tick_runs (job_id, tick, pid) VALUES ($1::bigint, $2::timestamptz, $3::integer)`, [
    String(job.id),
    tick,
    String(process.pid),
  ]);
});
qm.schedule('* * * * * *', entrypoint);
qm.on('error', (error, { operation }) => process.stderr.write(`worker ${process.pid}: ${operation}: ${String(error)}\n`));
stopOnSignals(qm);
process.stdout.write('ready\n');
await qm.run();
await driver.close();
