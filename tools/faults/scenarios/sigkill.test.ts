/**
 * Worker processes killed with SIGKILL in a loop while the queue drains, each replaced at once:
 * the jobs a killed worker held (running, or finished but not yet written) are taken over once
 * their lease expires, and run again; nothing is lost, nothing is counted twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Scenario } from '../src/scenario.js';
import type { WorkerProcess } from '../src/workers.js';

const WORKERS = 4;
const JOBS = 10_000;
/** Enqueued before each kill, so the workers are busy at every kill however fast they drain. */
const JOBS_PER_KILL = 2_000;
const KILLS = 8;
const KILL_EVERY_MS = 1_500;

let scenario: Scenario;
beforeAll(async () => {
  scenario = await Scenario.open('sigkill-loop');
});
afterAll(async () => {
  await scenario?.close();
});

it('loses no job and counts every job once while workers are killed and restarted', async () => {
  await scenario.enqueue(JOBS, { ms: 10 });
  const fleet: WorkerProcess[] = await scenario.workersNamed(...Array.from({ length: WORKERS }, (_, i) => `w${i}`));
  /** Each killed worker's owner id, with when it was killed. */
  const killed = new Map<string, number>();
  const replacements: Promise<WorkerProcess>[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    await scenario.enqueue(JOBS_PER_KILL, { ms: 10 });
    await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
    // Round robin over the workers that are up, so every kill hits a working worker.
    await scenario.until('a worker to be up', 60_000, async () => fleet.length > 0);
    const victim = fleet.shift()!;
    await victim.kill();
    killed.set(victim.ownerId, Date.now());
    replacements.push(scenario.worker(`w-restart-${kill}`).then((worker) => (fleet.push(worker), worker)));
  }
  await Promise.all(replacements);
  await scenario.drained();
  const verdict = await scenario.verdict({ takeoverAllowed: (takeover) => killed.has(takeover.oldOwner) });
  // How long after its kill the last of a worker's jobs was taken over, for the slowest.
  const lastTakeovers = await scenario.db.admin.query<{ owner: string; at: number }>(
    'SELECT old_owner::text AS owner, (extract(epoch FROM max(at)) * 1000)::float8 AS at FROM faults_takeovers GROUP BY old_owner',
  );
  const shutdown = await scenario.stopAll();
  expect(verdict.takeovers.length, 'jobs orphaned by the kills and taken over').toBeGreaterThan(0);
  scenario.report(verdict, {
    recoveryMs: Math.max(...lastTakeovers.rows.map((row) => row.at - killed.get(row.owner)!)),
    shutdown,
    note: `${KILLS} kills of ${WORKERS} workers in ${((KILLS * KILL_EVERY_MS) / 1000).toFixed(0)} s; recovery: a kill to the last takeover of its worker's jobs, the slowest`,
  });
});
