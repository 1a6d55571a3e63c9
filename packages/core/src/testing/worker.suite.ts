/**
 * The worker behaviour suite, run by every adapter next to the conformance suite:
 *
 *   runWorkerSuite({ name: 'pg', requiresServer: true, createDriver: () => createPgDriver(url) });
 *
 * Every worker gets a driver of its own from `createDriver`, so on a server the workers race on
 * separate connections as they do in production. Installs pgqueue into a fresh PostgreSQL
 * schema, runs every case and drops it.
 */
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { openFixture, skipReason, type ConformanceTarget, type Fixture } from './target.js';
import { faultCases } from './worker-faults.suite.js';
import { createWorkerHarness } from './worker-harness.js';
import { workerQueryCases } from './worker-queries.suite.js';
import { resilienceCases } from './worker-resilience.suite.js';
import { runtimeCases } from './worker-runtime.suite.js';
import { scheduleCases } from './schedules.suite.js';

export interface WorkerSuiteOptions {
  /**
   * Jobs in the eight-worker drain case. Default 20,000 on a server (the acceptance figure),
   * 2,000 in-process, where one connection runs every statement.
   */
  drainJobs?: number;
}

export function runWorkerSuite(target: ConformanceTarget, options: WorkerSuiteOptions = {}): void {
  const reason = skipReason(target);
  if (reason !== undefined) {
    console.warn(`[pgqueue worker suite] ${reason}`);
    describe.skip(`${target.name} worker (${reason})`, () => {
      describe.skip('skipped', () => undefined);
    });
    return;
  }
  describe(`${target.name} worker`, () => {
    let fixture: Fixture | undefined;
    const fx = (): Fixture => {
      if (fixture === undefined) throw new Error('the worker suite fixture did not open (see the beforeAll error)');
      return fixture;
    };
    const { harness, cleanUp } = createWorkerHarness(target, fx);
    beforeAll(async () => {
      fixture = await openFixture(target);
    });
    afterEach(cleanUp);
    afterAll(async () => {
      await fixture?.close();
    });

    describe('statements', () => workerQueryCases(fx, target.requiresServer));
    describe('runtime', () =>
      runtimeCases(harness, { drainJobs: options.drainJobs ?? (target.requiresServer ? 20_000 : 2_000) }));
    describe('resilience', () => resilienceCases(harness, target.requiresServer));
    describe('schedules', () => scheduleCases(harness));
    // Outages need a connection to cut (a server, through the proxy) besides the fixture's own.
    describe.skipIf(!target.requiresServer || target.createDriverAt === undefined)('faults', () => faultCases(harness));
  });
}
