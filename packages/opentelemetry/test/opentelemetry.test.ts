import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueueManager, Queries, RetryLater, installSchema, type Driver, type JobId } from '@pgqueue/core';
import { createPgDriver } from '@pgqueue/pg';
import { createPGliteDriver } from '@pgqueue/pglite';
import { openTelemetry, type OpenTelemetryOptions } from '../src/index.js';
import { counts, createTelemetry, histogramCounts, sameSpan, type Telemetry } from './telemetry.js';

interface Target {
  name: string;
  skip: boolean;
  /** The producer's and the worker's drivers: their own connections on a server, one PGlite shared in process. */
  open(): Promise<{ producer: Driver; worker: Driver; close(): Promise<void> }>;
}

const url = process.env.DATABASE_URL;
const targets: Target[] = [
  {
    name: 'pglite',
    skip: false,
    async open() {
      const driver = createPGliteDriver();
      return { producer: driver, worker: driver, close: () => driver.close() };
    },
  },
  {
    name: 'pg',
    skip: url === undefined,
    async open() {
      const producer = createPgDriver(url!, { max: 2 });
      const worker = createPgDriver(url!, { max: 4 });
      return { producer, worker, close: async () => void (await Promise.all([producer.close(), worker.close()])) };
    },
  },
];

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  // What the SDK's start() registers: the handler and the enqueue see the span active around them.
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

function byName(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((span) => span.name === name);
}

for (const target of targets) {
  describe.skipIf(target.skip)(`OpenTelemetry on ${target.name}`, () => {
    const schema = `pgq_test_otel_${randomBytes(4).toString('hex')}`;
    let drivers: Awaited<ReturnType<Target['open']>>;
    let telemetry: Telemetry;

    beforeAll(async () => {
      drivers = await target.open();
      await installSchema(drivers.producer, { schema });
    });
    afterAll(async () => {
      await drivers?.producer.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await drivers?.close();
    });
    afterEach(async () => {
      await telemetry?.shutdown();
    });

    function setup(options: OpenTelemetryOptions = {}) {
      telemetry = createTelemetry();
      const instrumentation = openTelemetry({
        tracerProvider: telemetry.tracerProvider,
        meterProvider: telemetry.meterProvider,
        propagator: telemetry.propagator,
        ...options,
      });
      const queries = new Queries(drivers.producer, { schema, instrumentation });
      const worker = new QueueManager(drivers.worker, { schema, instrumentation, pollIntervalMs: 50, vacuum: false });
      const tracer = telemetry.tracerProvider.getTracer('test');
      return { queries, worker, tracer };
    }

    it('links each run span to the enqueue span whose context its headers carried, and counts the outcomes', async () => {
      const { queries, worker, tracer } = setup();
      const seenHeaders = new Map<JobId, Record<string, unknown> | null>();
      const retry = { maxAttempts: 2, baseDelayMs: 0, jitter: 0 };
      worker.entrypoint('ok', (job) => void seenHeaders.set(job.id, job.headers));
      worker.entrypoint(
        'flaky',
        (job) => {
          seenHeaders.set(job.id, job.headers);
          if (job.attempts === 1) throw new Error('flaky failure');
        },
        { retry },
      );
      worker.entrypoint(
        'doomed',
        () => {
          throw new RangeError('doomed failure');
        },
        { retry },
      );

      const flakyJob = { entrypoint: 'flaky', headers: { tenant: 'acme' } };
      const okJobs = [{ entrypoint: 'ok' }, { entrypoint: 'ok', payload: { n: 2 } }, { entrypoint: 'ok' }];
      const { okIds, flakyId, doomedId, request } = await tracer.startActiveSpan('request', async (span) => {
        const okIds = await queries.enqueue(okJobs);
        const flakyId = await queries.enqueue(flakyJob);
        const doomedId = await queries.enqueue({ entrypoint: 'doomed' });
        span.end();
        return { okIds, flakyId, doomedId, request: span.spanContext() };
      });
      await worker.run({ drain: true });
      // The trace headers went out on copies: the caller's jobs are as they were.
      expect(flakyJob).toEqual({ entrypoint: 'flaky', headers: { tenant: 'acme' } });
      expect(okJobs).toEqual([{ entrypoint: 'ok' }, { entrypoint: 'ok', payload: { n: 2 } }, { entrypoint: 'ok' }]);

      const spans = telemetry.spans();
      const [enqueueOk] = byName(spans, 'enqueue ok');
      const [enqueueFlaky] = byName(spans, 'enqueue flaky');
      const [enqueueDoomed] = byName(spans, 'enqueue doomed');
      for (const enqueue of [enqueueOk!, enqueueFlaky!, enqueueDoomed!]) {
        expect(enqueue.kind).toBe(SpanKind.PRODUCER);
        // The enqueue belongs to the caller's trace.
        expect(sameSpan(enqueue.parentSpanContext, request)).toBe(true);
        expect(enqueue.attributes).toMatchObject({
          'messaging.system': 'pgqueue',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'enqueue',
        });
      }
      expect(enqueueOk!.attributes).toMatchObject({ 'messaging.destination.name': 'ok', 'messaging.batch.message_count': 3 });
      expect(enqueueOk!.attributes['messaging.message.id']).toBeUndefined();
      expect(enqueueFlaky!.attributes['messaging.message.id']).toBe(String(flakyId));

      // The trace context went through the jobs table, next to the headers the producer set.
      const traceparent = (span: ReadableSpan) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
      for (const id of okIds) expect(seenHeaders.get(id)).toEqual({ traceparent: traceparent(enqueueOk!) });
      expect(seenHeaders.get(flakyId)).toEqual({ tenant: 'acme', traceparent: traceparent(enqueueFlaky!) });

      const runsOf = (name: string, enqueue: ReadableSpan) => {
        const runs = byName(spans, `process ${name}`);
        for (const run of runs) {
          expect(run.kind).toBe(SpanKind.CONSUMER);
          // Linked, not parented: each run is a trace of its own that points back at the enqueue.
          expect(run.parentSpanContext).toBeUndefined();
          expect(run.spanContext().traceId).not.toBe(request.traceId);
          expect(run.links).toHaveLength(1);
          expect(sameSpan(run.links[0]!.context, enqueue.spanContext())).toBe(true);
          expect(run.attributes).toMatchObject({
            'messaging.system': 'pgqueue',
            'messaging.operation.type': 'process',
            'messaging.destination.name': name,
            'messaging.client.id': worker.ownerId,
          });
        }
        return runs.sort((a, b) => Number(a.attributes['pgqueue.job.attempt']) - Number(b.attributes['pgqueue.job.attempt']));
      };
      const okRuns = runsOf('ok', enqueueOk!);
      expect(okRuns.map((run) => run.attributes['messaging.message.id']).sort()).toEqual(okIds.map(String).sort());
      expect(okRuns.map((run) => run.status.code)).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET, SpanStatusCode.UNSET]);

      const flakyRuns = runsOf('flaky', enqueueFlaky!);
      expect(flakyRuns.map((run) => run.attributes['pgqueue.job.attempt'])).toEqual([1, 2]);
      expect(flakyRuns.map((run) => run.attributes['messaging.message.id'])).toEqual([String(flakyId), String(flakyId)]);
      expect(flakyRuns[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'flaky failure' });
      expect(flakyRuns[0]!.attributes['error.type']).toBe('Error');
      expect(flakyRuns[0]!.events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([
        ['exception', 'flaky failure'],
      ]);
      expect(flakyRuns[1]!.status.code).toBe(SpanStatusCode.UNSET);

      const doomedRuns = runsOf('doomed', enqueueDoomed!);
      expect(doomedRuns.map((run) => [run.status.code, run.attributes['error.type']])).toEqual([
        [SpanStatusCode.ERROR, 'RangeError'],
        [SpanStatusCode.ERROR, 'RangeError'],
      ]);
      expect((await queries.getJobs([doomedId]))[0]?.status).toBe('failed');

      const metrics = await telemetry.metrics();
      expect(counts(metrics.get('pgqueue.jobs.enqueued'))).toEqual({ ok: 3, flaky: 1, doomed: 1 });
      expect(counts(metrics.get('pgqueue.jobs.started'))).toEqual({ ok: 3, flaky: 2, doomed: 2 });
      expect(counts(metrics.get('pgqueue.jobs.completed'))).toEqual({ ok: 3, flaky: 1 });
      expect(counts(metrics.get('pgqueue.jobs.retried'), { 'pgqueue.retry.reason': 'error' })).toEqual({ flaky: 1, doomed: 1 });
      expect(counts(metrics.get('pgqueue.jobs.failed'), { 'pgqueue.final_failure.action': 'hold' })).toEqual({ doomed: 1 });
      expect(metrics.get('pgqueue.jobs.canceled')).toBeUndefined();

      const duration = metrics.get('messaging.process.duration');
      expect(duration?.descriptor.unit).toBe('s');
      expect(histogramCounts(duration)).toEqual({ ok: 3, flaky: 2, doomed: 2 });
      expect(histogramCounts(duration, { 'error.type': 'Error' })).toEqual({ flaky: 1 });
      expect(histogramCounts(duration, { 'error.type': 'RangeError' })).toEqual({ doomed: 2 });
      const waits = metrics.get('pgqueue.job.enqueue_to_start.duration');
      expect(histogramCounts(waits)).toEqual({ ok: 3, flaky: 2, doomed: 2 });
    });

    it("with enqueueContext 'parent', runs and the jobs their handlers enqueue form one trace", async () => {
      const { queries, worker, tracer } = setup({ enqueueContext: 'parent' });
      worker.entrypoint('parent', async (_job, { queries: workerQueries }) => {
        // The worker's own Queries carry the instrumentation, and the run span is active here.
        await workerQueries.enqueue({ entrypoint: 'child' });
      });
      worker.entrypoint('child', () => {
        expect(propagation.getActiveBaggage()?.getEntry('tenant')?.value).toBe('acme');
      });
      const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
      await context.with(propagation.setBaggage(context.active(), baggage), () =>
        tracer.startActiveSpan('request', async (span) => {
          await queries.enqueue({ entrypoint: 'parent' });
          span.end();
        }),
      );
      let childRan = false;
      worker.on('jobCompleted', (job) => {
        if (job.entrypoint === 'child') childRan = true;
      });
      await worker.run({ drain: true });
      expect(childRan).toBe(true);

      const spans = telemetry.spans();
      const chain = ['request', 'enqueue parent', 'process parent', 'enqueue child', 'process child'].map((name) => {
        const found = byName(spans, name);
        expect(found, name).toHaveLength(1);
        return found[0]!;
      });
      for (let i = 1; i < chain.length; i++) {
        expect(sameSpan(chain[i]!.parentSpanContext, chain[i - 1]!.spanContext()), `${chain[i]!.name} under ${chain[i - 1]!.name}`).toBe(
          true,
        );
        expect(chain[i]!.links).toEqual([]);
      }
    });

    it('records a failed enqueue on its span and counts nothing for it', async () => {
      const { queries } = setup();
      await expect(queries.enqueue([{ entrypoint: 'fine' }, { entrypoint: '' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const [span] = telemetry.spans();
      expect(span?.name).toBe('enqueue');
      expect(span?.kind).toBe(SpanKind.PRODUCER);
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.attributes['error.type']).toBe('INVALID_ARGUMENT');
      expect(span?.events.map((event) => event.name)).toEqual(['exception']);
      expect((await telemetry.metrics()).get('pgqueue.jobs.enqueued')).toBeUndefined();
    });

    it("counts only the jobs inserted when duplicates are skipped, and a RetryLater is no error", async () => {
      const { queries, worker } = setup();
      const key = `dedupe-${randomBytes(4).toString('hex')}`;
      const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
      const { first, second } = await context.with(propagation.setBaggage(context.active(), baggage), async () => ({
        first: await queries.enqueue({ entrypoint: 'later', dedupeKey: key }, { onDuplicate: 'skip' }),
        second: await queries.enqueue(
          [
            { entrypoint: 'later', dedupeKey: key },
            { entrypoint: 'later', payload: 'other' },
          ],
          { onDuplicate: 'skip' },
        ),
      }));
      expect(first).not.toBeNull();
      expect(second[0]).toBeNull();
      const batch = byName(telemetry.spans(), 'enqueue later').find((span) => span.attributes['messaging.batch.message_count'] === 2);
      expect(batch?.attributes['pgqueue.enqueue.skipped_count']).toBe(1);

      const tenants: (string | undefined)[] = [];
      let deferred = false;
      worker.entrypoint('later', (job) => {
        // A run in its own trace still gets the producer's baggage.
        tenants.push(propagation.getActiveBaggage()?.getEntry('tenant')?.value);
        // RetryLater gives the attempt back, so `attempts` stays 1: defer once by hand.
        if (job.dedupeKey !== null && !deferred) {
          deferred = true;
          throw new RetryLater(0);
        }
      });
      await worker.run({ drain: true });
      expect(tenants).toEqual(['acme', 'acme', 'acme']);
      const runs = byName(telemetry.spans(), 'process later');
      expect(runs).toHaveLength(3);
      expect(runs.map((run) => run.status.code)).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET, SpanStatusCode.UNSET]);
      const metrics = await telemetry.metrics();
      expect(counts(metrics.get('pgqueue.jobs.enqueued'))).toEqual({ later: 2 });
      expect(counts(metrics.get('pgqueue.jobs.retried'), { 'pgqueue.retry.reason': 'retryLater' })).toEqual({ later: 1 });
      expect(counts(metrics.get('pgqueue.jobs.completed'))).toEqual({ later: 2 });
      expect(histogramCounts(metrics.get('messaging.process.duration'), { 'error.type': 'RetryLater' })).toEqual({});
    });

    it('without an SDK registered, sends the jobs as given and runs them', async () => {
      // The global API with nothing registered: a no-op tracer, meter and propagator.
      const instrumentation = openTelemetry();
      const queries = new Queries(drivers.producer, { schema, instrumentation });
      const ids = await queries.enqueue([{ entrypoint: 'plain' }, { entrypoint: 'plain', headers: { tenant: 'acme' } }]);
      expect((await queries.getJobs(ids)).map((job) => job.headers)).toEqual([null, { tenant: 'acme' }]);
      const worker = new QueueManager(drivers.worker, { schema, instrumentation, pollIntervalMs: 50, vacuum: false });
      const ran: JobId[] = [];
      worker.entrypoint('plain', (job) => {
        expect(trace.getActiveSpan()?.isRecording() ?? false).toBe(false);
        ran.push(job.id);
      });
      await worker.run({ drain: true });
      expect(ran.sort()).toEqual([...ids].sort());
    });

    it('refuses an enqueue hook that does not pass every job on, or inserts them twice', async () => {
      const queries = new Queries(drivers.producer, {
        schema,
        instrumentation: { enqueue: (jobs, next) => next(jobs.slice(1)) },
      });
      await expect(queries.enqueue([{ entrypoint: 'a' }, { entrypoint: 'a' }])).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('must pass on every job'),
      });
      expect((await queries.queueSize()).filter((row) => row.entrypoint === 'a')).toEqual([]);

      const twice = new Queries(drivers.producer, {
        schema,
        instrumentation: {
          async enqueue(jobs, next) {
            await next(jobs);
            return next(jobs);
          },
        },
      });
      await expect(twice.enqueue({ entrypoint: 'b' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('called next twice'),
      });
      expect((await queries.queueSize()).filter((row) => row.entrypoint === 'b').map((row) => row.count)).toEqual([1]);
    });
  });
}

describe('@pgqueue/core without OpenTelemetry', () => {
  it('neither depends on nor imports @opentelemetry', async () => {
    const core = fileURLToPath(new URL('../../core/', import.meta.url));
    const manifest = JSON.parse(await readFile(join(core, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      expect(Object.keys(manifest[field] ?? {}).filter((name) => name.startsWith('@opentelemetry/')), field).toEqual([]);
    }
    const sources = (await readdir(join(core, 'src'), { recursive: true })).filter((file) => file.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(20);
    for (const file of sources) {
      expect(await readFile(join(core, 'src', file), 'utf8'), file).not.toMatch(/from ['"]@opentelemetry\//);
    }
  });
});
