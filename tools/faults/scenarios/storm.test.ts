/**
 * A connection-kill storm: the server terminates the workers' backends (pool and LISTEN
 * connections alike) several times a second, as a failover or an operator's
 * pg_terminate_backend would. Only this scenario's database and its workers' application_name are
 * aimed at, never another session. Workers reconnect by themselves; a lease can expire only if
 * renewals fail for longer than staleAfterMs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WORKER_APPLICATION } from '../src/database.js';
import { Scenario } from '../src/scenario.js';

const WORKERS = 4;
const STORM_MS = 10_000;
const KILL_EVERY_MS = 100;

let scenario: Scenario;
beforeAll(async () => {
  scenario = await Scenario.open('connection-storm');
});
afterAll(async () => {
  await scenario?.close();
});

it('loses no job and counts every job once while the workers’ connections are terminated', async () => {
  await scenario.enqueue(4_000, { ms: 5 });
  const workers = await scenario.workersNamed(...Array.from({ length: WORKERS }, (_, i) => `w${i}`));
  const killer = await scenario.db.session('pgq_faults_killer');
  let terminated = 0;
  const stormStart = Date.now();
  const stormEnd = stormStart + STORM_MS;
  for (let round = 0; Date.now() < stormEnd; round++) {
    // A steady producer, so the workers are busy through the whole storm.
    if (round % 10 === 0) await scenario.enqueue(800, { ms: 5 });
    const { rows } = await killer.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()
       ORDER BY random() LIMIT 1`,
      [WORKER_APPLICATION],
    );
    if (rows[0]?.ok === true) terminated++;
    await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS));
  }
  const calm = Date.now();
  await Promise.all(workers.map((worker) => scenario.recovery(worker, calm)));
  await scenario.drained();
  // The workers never stop: what the storm costs is the longest time one wrote no outcome.
  const pauses = await Promise.all(workers.map((worker) => scenario.longestPause(worker, stormStart, calm)));
  // Every worker was hit: a takeover is expected only where renewals failed past the lease.
  const verdict = await scenario.verdict({ takeoverAllowed: () => true });
  const shutdown = await scenario.stopAll();
  expect(terminated, 'backends terminated').toBeGreaterThan(STORM_MS / KILL_EVERY_MS / 2);
  scenario.report(verdict, {
    recoveryMs: Math.max(...pauses),
    shutdown,
    note: `${terminated} backends terminated in ${STORM_MS / 1000} s, ${workers.reduce((sum, worker) => sum + worker.errors.length, 0)} worker errors reported; recovery: the longest pause in a worker's completions`,
  });
});
