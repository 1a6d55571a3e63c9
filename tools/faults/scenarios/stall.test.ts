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
/** How long driver.close() is given while the connection is still stalled. */
const STALLED_CLOSE_MS = 5_000;

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
  // Longer than the stop's timeout: they are aborted at its deadline, and their requeues cannot be written.
  await scenario.enqueue(30, { ms: 5_000 });
  await scenario.until('the worker to run 20 jobs', 60_000, async () => (await scenario.runs(stalled.ownerId)) >= 20);
  // Outcomes in flight and leases to renew when the line goes dead.
  await new Promise((resolve) => setTimeout(resolve, 500));
  proxy.stall();
  const stopMs = await stalled.stop(STOP_TIMEOUT_MS, STOP_TIMEOUT_MS + STOP_ALLOWANCE_MS);
  expect(stopMs, 'stop() duration').toBeLessThanOrEqual(STOP_TIMEOUT_MS + STOP_ALLOWANCE_MS);
  // driver.close() ends connections politely, waiting for the server's side to close, which a
  // stalled connection never does: measured, and it must return once the dead path finally
  // breaks (the proxy cuts it, as a TCP timeout would), without anything held back delivered.
  let closedWhileStalled = true;
  const closeMs = await stalled.closed(STALLED_CLOSE_MS).catch(() => {
    closedWhileStalled = false;
    proxy.down();
    return stalled.closed();
  });

  const rescuer = await scenario.worker('rescuer', { maxConcurrentTasks: 40 });
  const recoveryMs = await scenario.recovery(rescuer, Date.now());
  await scenario.drained();
  const verdict = await scenario.verdict({
    takeoverAllowed: (takeover) => takeover.oldOwner === stalled.ownerId,
    requeuesAllowed: true,
  });
  await scenario.stopAll();
  scenario.report(verdict, {
    recoveryMs,
    shutdown: { stopMs, closeMs },
    note:
      `stop({ timeoutMs: ${STOP_TIMEOUT_MS} }) with the connection stalled; driver.close() ` +
      `${closedWhileStalled ? 'returned while stalled' : `did not return while stalled (${STALLED_CLOSE_MS / 1000} s), only once the connections were cut`}; ` +
      `recovery: the other worker's first completion`,
  });
});
