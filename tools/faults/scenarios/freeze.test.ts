/**
 * A frozen worker: SIGSTOP for 2.5 × staleAfterMs (a long GC pause, a stopped container, a
 * suspended VM), then SIGCONT. Its jobs are taken over by the other worker once their leases
 * expire; when it wakes, it learns it lost them (its outcomes for them are refused), and goes on
 * working without a restart.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { STALE_AFTER_MS, Scenario } from '../src/scenario.js';

const FROZEN_MS = 2.5 * STALE_AFTER_MS;

let scenario: Scenario;
beforeAll(async () => {
  scenario = await Scenario.open('frozen-worker');
});
afterAll(async () => {
  await scenario?.close();
});

it('a worker frozen past its lease loses its jobs to another, then goes on without a restart', async () => {
  await scenario.enqueue(8_000, { ms: 20 });
  const [frozen] = await scenario.workersNamed('frozen', 'other');
  await scenario.until('the worker to run jobs', 60_000, async () => (await scenario.runs(frozen!.ownerId)) >= 200);
  frozen!.freeze();
  await new Promise((resolve) => setTimeout(resolve, FROZEN_MS));
  frozen!.thaw();
  const thawedAt = Date.now();
  const recoveryMs = await scenario.recovery(frozen!, thawedAt);
  // It keeps writing, not just once.
  await scenario.recovery(frozen!, Date.now());
  await scenario.drained();
  const verdict = await scenario.verdict({ takeoverAllowed: (takeover) => takeover.oldOwner === frozen!.ownerId });
  const shutdown = await scenario.stopAll();
  scenario.report(verdict, {
    recoveryMs,
    shutdown,
    note: `frozen ${FROZEN_MS / 1000} s (staleAfterMs ${STALE_AFTER_MS / 1000} s), ${frozen!.leasesLost} leases lost by it`,
  });
});
