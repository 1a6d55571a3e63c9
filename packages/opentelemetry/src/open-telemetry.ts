/**
 * `openTelemetry()`: the pgqueue Instrumentation that traces enqueues and job runs and records
 * the worker's metrics, through the OpenTelemetry API only. Which SDK, exporters and sampler run
 * is the application's choice; without an SDK every call is the API's no-op and the jobs go out
 * exactly as they would uninstrumented.
 */
import {
  propagation,
  trace,
  type MeterProvider,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { RetryLater, type Instrumentation } from '@pgqueue/core';
import { INSTRUMENTATION_NAME } from './conventions.js';
import { JobMetrics } from './metrics.js';
import { enqueueSpan, errorType, runSpan, type EnqueueContextUse } from './spans.js';

export interface OpenTelemetryOptions {
  /** Default: the global tracer provider (what the SDK registers). */
  tracerProvider?: TracerProvider;
  /** Default: the global meter provider, looked up when the first metric is recorded. */
  meterProvider?: MeterProvider;
  /**
   * Writes the trace context into a job's headers and reads it back. Default: the global
   * propagator (the SDK registers W3C trace context and baggage).
   */
  propagator?: TextMapPropagator;
  /**
   * What a job run does with the enqueue's context: `'link'` (default) starts a trace per run
   * linked to the enqueue span; `'parent'` makes the run a child of the enqueue span. See
   * docs/observability.md for the trade-off.
   */
  enqueueContext?: EnqueueContextUse;
}

/**
 * Give the result to `Queries` and to `QueueManager` as `instrumentation`:
 *
 *   const instrumentation = openTelemetry();
 *   const queries = new Queries(driver, { instrumentation });
 *   const qm = new QueueManager(driver, { instrumentation });
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Instrumentation {
  const use = options.enqueueContext ?? 'link';
  if (use !== 'link' && use !== 'parent') {
    throw new TypeError(`openTelemetry: enqueueContext must be 'link' or 'parent', got ${String(use)}.`);
  }
  // The global tracer provider is a proxy that follows a later registration; a given one is used as is.
  const tracer: Tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  // The global propagation API looks up the registered propagator at each call.
  const propagator: TextMapPropagator = options.propagator ?? propagation;
  const jobMetrics = new JobMetrics(options.meterProvider);

  return {
    async enqueue(jobs, next) {
      const ids = await enqueueSpan(tracer, propagator, jobs, next);
      const inserted = new Map<string, number>();
      ids.forEach((id, i) => {
        if (id !== null) inserted.set(jobs[i]!.entrypoint, (inserted.get(jobs[i]!.entrypoint) ?? 0) + 1);
      });
      for (const [entrypoint, count] of inserted) jobMetrics.enqueued(entrypoint, count);
      return ids;
    },

    async runJob(job, next) {
      jobMetrics.runStarted(job.entrypoint, Date.now() - job.createdAt.getTime());
      const started = performance.now();
      let failure: string | undefined;
      try {
        await runSpan(tracer, propagator, use, job, next);
      } catch (error) {
        if (!RetryLater.isInstance(error)) failure = errorType(error);
        throw error;
      } finally {
        jobMetrics.runEnded(job.entrypoint, performance.now() - started, failure);
      }
    },

    observeWorker(worker) {
      jobMetrics.observe(worker);
    },
  };
}
