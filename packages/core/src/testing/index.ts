/**
 * The driver conformance suite, run by every adapter:
 *
 *   runConformanceSuite({ name: 'pg', requiresServer: true, createDriver: () => createPgDriver(url) });
 *
 * Each run installs pgqueue into a fresh PostgreSQL schema, runs every case and drops it.
 * docs/adapter-authors.md lists what each group of cases checks.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { adapterCases } from './adapter.suite.js';
import { concurrencyCases } from './concurrency.suite.js';
import { dequeuePlanCases } from './dequeue-plan.suite.js';
import { encodingCases } from './encoding.suite.js';
import { errorCases } from './errors.suite.js';
import { listenCases } from './listen.suite.js';
import { queryCases } from './queries.suite.js';
import { openFixture, skipReason, type ConformanceTarget, type Fixture } from './target.js';

export type { BorrowedClient, ConformanceTarget, Fixture } from './target.js';
export { countingDriver } from './counting.js';
export { runConnectionStringSuite, type ConnectionStringTarget } from './connection-string.suite.js';
export { openFixture, skipReason } from './target.js';
export { listenOutageCases, type ListenOutageOptions } from './outage.suite.js';
export { startOutageProxy, type OutageProxy } from './proxy.js';
export { rejectionOf, settledWithin, sleep, thrownBy, waitFor } from './wait.js';
export { runOwnTransactionSuite, type OwnTransactionTarget } from './own-transaction.suite.js';
export { runWorkerSuite, type WorkerSuiteOptions } from './worker.suite.js';
export { parseExposition, runOperationsSuite, schemaV1Sql } from './operations.suite.js';

export function runConformanceSuite(target: ConformanceTarget): void {
  const reason = skipReason(target);
  if (reason !== undefined) {
    console.warn(`[pgqueue conformance] ${reason}`);
    describe.skip(`${target.name} conformance (${reason})`, () => {
      describe.skip('skipped', () => undefined);
    });
    return;
  }
  describe(`${target.name} conformance`, () => {
    let fixture: Fixture | undefined;
    const fx = (): Fixture => {
      if (fixture === undefined) throw new Error('the conformance fixture did not open (see the beforeAll error)');
      return fixture;
    };
    beforeAll(async () => {
      fixture = await openFixture(target);
    });
    afterAll(async () => {
      await fixture?.close();
    });

    describe('driver contract', () => adapterCases(fx, target));
    describe('parameter encoding', () => encodingCases(fx));
    describe('queries', () => queryCases(fx));
    describe('bad input', () => errorCases(fx));
    describe('listen', () => listenCases(fx));
    describe('concurrency (own connection per worker)', () => concurrencyCases(fx));
    describe('dequeue cost against the backlog', () => dequeuePlanCases(fx));
  });
}
