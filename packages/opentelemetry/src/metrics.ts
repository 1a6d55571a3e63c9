/**
 * The worker's and producer's metrics. Outcome counters follow the QueueManager's job events,
 * which say what the worker decided (a retry, a final failure, …), something a wrapper around
 * the handler cannot know; the two histograms are recorded around the handler itself.
 *
 * The instruments are created on first use, not when `openTelemetry()` is called: the metrics
 * API has no proxy for a meter provider registered later, so a meter taken before the SDK
 * started would stay a no-op for good.
 */
import { metrics, ValueType, type Attributes, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';
import type { InstrumentedWorker } from '@pgqueue/core';
import {
  ATTR_ERROR_TYPE,
  ATTR_FINAL_FAILURE_ACTION,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_SYSTEM,
  ATTR_RETRY_REASON,
  DURATION_BUCKETS_S,
  MESSAGING_SYSTEM,
  METRIC_ENQUEUE_TO_START,
  METRIC_JOBS_CANCELED,
  METRIC_JOBS_COMPLETED,
  METRIC_JOBS_ENQUEUED,
  METRIC_JOBS_FAILED,
  METRIC_JOBS_RETRIED,
  METRIC_JOBS_STARTED,
  METRIC_PROCESS_DURATION,
  OPERATION_PROCESS,
  INSTRUMENTATION_NAME,
} from './conventions.js';

interface Instruments {
  enqueued: Counter;
  started: Counter;
  completed: Counter;
  retried: Counter;
  failed: Counter;
  canceled: Counter;
  processDuration: Histogram;
  enqueueToStart: Histogram;
}

function createInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(INSTRUMENTATION_NAME);
  const counter = (name: string, description: string) => meter.createCounter(name, { description, unit: '{job}', valueType: ValueType.INT });
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } });
  return {
    enqueued: counter(METRIC_JOBS_ENQUEUED, 'Jobs inserted by enqueue (duplicates skipped are not counted).'),
    started: counter(METRIC_JOBS_STARTED, 'Handler runs started.'),
    completed: counter(METRIC_JOBS_COMPLETED, 'Jobs whose handler succeeded.'),
    retried: counter(METRIC_JOBS_RETRIED, 'Jobs sent back to the queue, by reason: error, retryLater or shutdown.'),
    failed: counter(METRIC_JOBS_FAILED, 'Jobs whose last attempt failed, by action: hold or delete.'),
    canceled: counter(METRIC_JOBS_CANCELED, 'Jobs canceled while running or found canceled when picked.'),
    processDuration: seconds(METRIC_PROCESS_DURATION, 'How long a handler ran, error.type set when it threw.'),
    enqueueToStart: seconds(METRIC_ENQUEUE_TO_START, "From the job's enqueue (created) to its handler's start, delays and retries included."),
  };
}

export class JobMetrics {
  private instruments: Instruments | undefined;
  /** One attribute object per entrypoint, the set every data point starts from. */
  private readonly byEntrypoint = new Map<string, Attributes>();
  /** The same with the operation name, for the duration of runs that did not throw. */
  private readonly processByEntrypoint = new Map<string, Attributes>();

  constructor(private readonly provider: MeterProvider | undefined) {}

  private get meters(): Instruments {
    return (this.instruments ??= createInstruments(this.provider ?? metrics.getMeterProvider()));
  }

  private attributes(entrypoint: string): Attributes {
    let attributes = this.byEntrypoint.get(entrypoint);
    if (attributes === undefined) {
      attributes = { [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM, [ATTR_MESSAGING_DESTINATION_NAME]: entrypoint };
      this.byEntrypoint.set(entrypoint, attributes);
    }
    return attributes;
  }

  enqueued(entrypoint: string, count: number): void {
    this.meters.enqueued.add(count, this.attributes(entrypoint));
  }

  /** `waitMs` from the job's creation (server clock) to now (worker clock); a negative one is clock skew, counted as 0. */
  runStarted(entrypoint: string, waitMs: number): void {
    this.meters.enqueueToStart.record(Math.max(0, waitMs) / 1000, this.attributes(entrypoint));
  }

  runEnded(entrypoint: string, durationMs: number, errorType: string | undefined): void {
    let attributes = this.processByEntrypoint.get(entrypoint);
    if (attributes === undefined) {
      attributes = { ...this.attributes(entrypoint), [ATTR_MESSAGING_OPERATION_NAME]: OPERATION_PROCESS };
      this.processByEntrypoint.set(entrypoint, attributes);
    }
    if (errorType !== undefined) attributes = { ...attributes, [ATTR_ERROR_TYPE]: errorType };
    this.meters.processDuration.record(durationMs / 1000, attributes);
  }

  observe(worker: InstrumentedWorker): void {
    worker.on('jobStarted', (job) => this.meters.started.add(1, this.attributes(job.entrypoint)));
    worker.on('jobCompleted', (job) => this.meters.completed.add(1, this.attributes(job.entrypoint)));
    worker.on('jobRetried', (job, { reason }) =>
      this.meters.retried.add(1, { ...this.attributes(job.entrypoint), [ATTR_RETRY_REASON]: reason }),
    );
    worker.on('jobFailed', (job, { action }) =>
      this.meters.failed.add(1, { ...this.attributes(job.entrypoint), [ATTR_FINAL_FAILURE_ACTION]: action }),
    );
    worker.on('jobCanceled', (job) => this.meters.canceled.add(1, this.attributes(job.entrypoint)));
  }
}
