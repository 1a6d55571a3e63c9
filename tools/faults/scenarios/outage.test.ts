/**
 * An outage longer than the lease: all three workers reach the database through a TCP proxy that
 * cuts every connection and refuses new ones for 1.5 × staleAfterMs, as a database restart or a
 * network partition would. Handlers keep running meanwhile and their outcomes wait unwritten, so
 * by the time the proxy is back every lease has expired: each worker re-picks stale jobs, its own
 * and the others'. Each must write outcomes again by itself, without a restart, and no job
 * may run or be counted twice except those taken over. Three outages in a row: whether a worker
 * re-picks its own unwritten jobs before it writes them is a race, and each outage runs it anew.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { startOutageProxy, type OutageProxy } from '@pgqueue/core/testing';
import { STALE_AFTER_MS, Scenario } from '../src/scenario.js';

const OUTAGE_MS = 1.5 * STALE_AFTER_MS;
const OUTAGES = 3;

let scenario: Scenario;
let proxy: OutageProxy;
beforeAll(async () => {
  scenario = await Scenario.open('outage');
  proxy = await startOutageProxy(scenario.db.url);
});
afterAll(async () => {
  await scenario?.close();
  await proxy?.close();
});

it('workers cut off for longer than their lease recover by themselves, and no job is lost or counted twice', async () => {
  const workers = await Promise.all(['a', 'b', 'c'].map((label) => scenario.worker(label, { workerUrl: proxy.url })));
  const recoveries: number[] = [];
  for (let outage = 0; outage < OUTAGES; outage++) {
    const runsBefore = await scenario.runs();
    await scenario.enqueue(2_000, { ms: 20 });
    await scenario.until('the workers to run jobs', 60_000, async () => (await scenario.runs()) >= runsBefore + 300);
    proxy.down();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    proxy.up();
    const upAt = Date.now();
    recoveries.push(...(await Promise.all(workers.map((worker) => scenario.recovery(worker, upAt)))));
  }
  // A recovered worker keeps writing, not just once.
  const laterAt = Date.now();
  await Promise.all(workers.map((worker) => scenario.recovery(worker, laterAt)));
  await scenario.drained();
  const verdict = await scenario.verdict({ takeoverAllowed: () => true });
  const shutdown = await scenario.stopAll();
  scenario.report(verdict, {
    recoveryMs: Math.max(...recoveries),
    shutdown,
    note: `${OUTAGES} outages of ${OUTAGE_MS / 1000} s (staleAfterMs ${STALE_AFTER_MS / 1000} s), ${workers.reduce((sum, w) => sum + w.leasesLost, 0)} leases lost`,
  });
});
