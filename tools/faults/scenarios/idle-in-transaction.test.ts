/**
 * Idle-in-transaction pinning: while workers drain the queue, one session sits idle in a
 * REPEATABLE READ transaction that read the queue tables (an old snapshot: no dead row can be
 * vacuumed or pruned meanwhile, and it holds their ACCESS SHARE locks), and another sits idle
 * holding a queued job FOR UPDATE. Every other job must be worked around them, the pinned job
 * runs once its lock is gone, and no lease may expire. The same number of jobs is drained before
 * the pins, for the cost of the old snapshot.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Scenario } from '../src/scenario.js';

const PHASE_JOBS = 3_000;
const PIN_MS = 8_000;

let scenario: Scenario;
beforeAll(async () => {
  scenario = await Scenario.open('idle-in-transaction');
});
afterAll(async () => {
  await scenario?.close();
});

it('sessions idle in transaction, on an old snapshot and on a locked queued job, cost no job and no lease', async () => {
  const workers = await scenario.workersNamed('a', 'b', 'c');
  const freeFrom = Date.now();
  await scenario.enqueue(PHASE_JOBS, { ms: 5 });
  await scenario.drained();
  const freeMs = Date.now() - freeFrom;

  // Delayed, so that it is locked before any worker could take it.
  const [pinned] = await scenario.enqueue(1, { ms: 5 }, 1_000);
  const locker = await scenario.db.session('pgq_faults_app');
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM pgqueuer WHERE id = $1 FOR UPDATE', [pinned!]);
  const snapshot = await scenario.db.session('pgq_faults_app');
  await snapshot.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await snapshot.query('SELECT count(*) FROM pgqueuer');
  await snapshot.query('SELECT count(*) FROM pgqueuer_statistics');
  const pinnedFrom = Date.now();
  await scenario.enqueue(PHASE_JOBS, { ms: 5 });
  await scenario.until('every job but the pinned one to be completed', 60_000, async () => {
    const { rows } = await scenario.db.admin.query<{ id: string }>('SELECT id::text AS id FROM pgqueuer');
    return rows.length === 1 && Number(rows[0]!.id) === pinned;
  });
  const pinnedDrainMs = Date.now() - pinnedFrom;
  const wait = PIN_MS - pinnedDrainMs;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  expect(await scenario.runs(), 'runs while the job was pinned: every other job, once').toBe(scenario.jobs - 1);
  await locker.query('COMMIT');
  await snapshot.query('COMMIT');
  const releasedAt = Date.now();
  await scenario.drained();
  const recoveryMs = Date.now() - releasedAt;
  const verdict = await scenario.verdict();
  const shutdown = await scenario.stopAll();
  const rate = (ms: number) => Math.round(PHASE_JOBS / (ms / 1000));
  scenario.report(verdict, {
    recoveryMs,
    shutdown,
    note:
      `${workers.length} workers drained ${PHASE_JOBS} jobs in ${(freeMs / 1000).toFixed(1)} s (${rate(freeMs)}/s) before the pins, ` +
      `${PHASE_JOBS} around them in ${(pinnedDrainMs / 1000).toFixed(1)} s (${rate(pinnedDrainMs)}/s); recovery: the pinned job done after release`,
  });
});
