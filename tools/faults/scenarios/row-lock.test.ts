/**
 * A row lock on a running job, held by another session: an application reads one of a worker's
 * running jobs with SELECT … FOR UPDATE in a transaction and holds it for longer than the lease.
 * The worker's other running jobs must keep their leases: nobody may take them over, and none
 * may run twice. Only the locked job itself may be taken over, once its lease truly expired.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { STALE_AFTER_MS, Scenario } from '../src/scenario.js';

const JOBS = 20;
const JOB_MS = 4 * STALE_AFTER_MS;
const LOCK_MS = 3 * STALE_AFTER_MS;

let scenario: Scenario;
beforeAll(async () => {
  scenario = await Scenario.open('row-lock');
});
afterAll(async () => {
  await scenario?.close();
});

it('a running job locked by another session costs the worker none of its other leases', async () => {
  const holder = await scenario.worker('holder');
  const ids = await scenario.enqueue(JOBS, { ms: JOB_MS });
  await scenario.until(`the worker to run all ${JOBS} jobs`, 60_000, async () => (await scenario.runs(holder.ownerId)) === JOBS);
  // Other workers, polling for work and for stale leases to take over.
  await scenario.workersNamed('other-1', 'other-2');
  const locked = ids[0]!;
  const app = await scenario.db.session('pgq_faults_app');
  await app.query('BEGIN');
  await app.query('SELECT id FROM pgqueuer WHERE id = $1 FOR UPDATE', [locked]);
  await new Promise((resolve) => setTimeout(resolve, LOCK_MS));
  await app.query('COMMIT');
  const releasedAt = Date.now();
  const recoveryMs = await scenario.recovery(holder, releasedAt);
  await scenario.drained();
  const verdict = await scenario.verdict({ takeoverAllowed: (takeover) => takeover.jobId === locked });
  const shutdown = await scenario.stopAll();
  scenario.report(verdict, {
    recoveryMs,
    shutdown,
    note: `${JOBS} jobs of ${JOB_MS / 1000} s, one locked for ${LOCK_MS / 1000} s (staleAfterMs ${STALE_AFTER_MS / 1000} s)`,
  });
});
