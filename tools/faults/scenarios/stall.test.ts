/**
 * A stalled connection during shutdown: the database stops answering (the proxy keeps every
 * connection open and forwards nothing, as a hung server or a black-holed path would) while a
 * worker holds running jobs, and the worker is asked to stop. stop() must still end within its
 * deadline; the outcomes it could not write are not lost: those jobs' leases expire and another
 * worker, on a connection of its own, runs them again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOutageProxy, type OutageProxy } from '@pgqueue/core/testing';
import { Scenario } from '../src/scenario.js';

const STOP_TIMEOUT_MS = 2_000;
/**
 * How far past its timeout a stop may run: the one-second grace for aborted handlers, then the
 * final writes, which get at least two seconds whatever the database does (queue-manager.ts),
 * and two seconds of room for a busy machine.
 */
const STOP_ALLOWANCE_MS = 1_000 + 2_000 + 2_000;

let scenario: Scenario;
let proxy: OutageProxy;
beforeAll(async () => {
  scenario = await Scenario.open('stalled-shutdown');
  proxy = await startOutageProxy(scenario.db.url);
});
afterAll(async () => {
  await scenario?.close();
  await proxy?.close();
});

it('stop() ends within its deadline while the connection is stalled, and the jobs it held run elsewhere', async () => {
  const stalled = await scenario.worker('stalled', { workerUrl: proxy.url });
  await scenario.enqueue(200, { ms: 1_000 });
  await scenario.until('the worker to run 20 jobs', 60_000, async () => (await scenario.runs(stalled.ownerId)) >= 20);
  // Outcomes in flight and leases to renew when the line goes dead.
  await new Promise((resolve) => setTimeout(resolve, 500));
  proxy.stall();
  const shutdown = await stalled.stop(STOP_TIMEOUT_MS, STOP_TIMEOUT_MS + STOP_ALLOWANCE_MS);
  expect(shutdown.stopMs, 'stop() duration').toBeLessThanOrEqual(STOP_TIMEOUT_MS + STOP_ALLOWANCE_MS);

  const rescuer = await scenario.worker('rescuer');
  const rescueFrom = Date.now();
  const recoveryMs = await scenario.recovery(rescuer, rescueFrom);
  await scenario.drained();
  const verdict = await scenario.verdict({
    takeoverAllowed: (takeover) => takeover.oldOwner === stalled.ownerId,
    requeuesAllowed: true,
  });
  await scenario.stopAll();
  scenario.report(verdict, {
    recoveryMs,
    shutdown,
    note: `stop({ timeoutMs: ${STOP_TIMEOUT_MS} }) with the connection stalled; recovery: the other worker's first completion`,
  });
});
