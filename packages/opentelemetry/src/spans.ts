/**
 * The two spans: a PRODUCER span around each enqueue call, whose context is written into every
 * job's headers, and a CONSUMER span around each handler run, tied to that context.
 *
 * One enqueue span for a whole batch rather than one per job: a batch of 10,000 jobs is one
 * statement, and 10,000 spans for it would cost more than the insert. Every job of the batch
 * carries the same context, so each of its runs leads back to the one enqueue.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import { RetryLater, type JobId, type NewJob, type WorkerJob } from '@pgqueue/core';
import {
  ATTR_ENQUEUE_SKIPPED,
  ATTR_ERROR_TYPE,
  ATTR_JOB_ATTEMPT,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CLIENT_ID,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_SYSTEM,
  OPERATION_ENQUEUE,
  OPERATION_PROCESS,
} from './conventions.js';
import { headersGetter, withTraceHeaders } from './headers.js';

/**
 * What a job run does with the context its enqueue left in the headers:
 * - `'link'` (default): the run starts a trace of its own and links to the enqueue span;
 * - `'parent'`: the run's span is a child of the enqueue span, in the producer's trace.
 */
export type EnqueueContextUse = 'link' | 'parent';

/** The error's code (a PgQueueError's, a Node system error's), else its class name. */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}

function recordError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

function entrypointOf(job: unknown): string | undefined {
  const entrypoint = typeof job === 'object' && job !== null ? (job as { entrypoint?: unknown }).entrypoint : undefined;
  return typeof entrypoint === 'string' ? entrypoint : undefined;
}

export async function enqueueSpan(
  tracer: Tracer,
  propagator: TextMapPropagator,
  jobs: readonly NewJob[],
  next: (jobs: readonly NewJob[]) => Promise<(JobId | null)[]>,
): Promise<(JobId | null)[]> {
  const entrypoints = new Set(jobs.map(entrypointOf));
  const destination = entrypoints.size === 1 ? [...entrypoints][0] : undefined;
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM,
    [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
    [ATTR_MESSAGING_OPERATION_NAME]: OPERATION_ENQUEUE,
  };
  if (destination !== undefined) attributes[ATTR_MESSAGING_DESTINATION_NAME] = destination;
  if (jobs.length > 1) attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = jobs.length;
  const name = destination === undefined ? OPERATION_ENQUEUE : `${OPERATION_ENQUEUE} ${destination}`;
  return tracer.startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
    try {
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, {
        set: (target, key, value) => {
          target[key] = value;
        },
      });
      // Without an SDK (or with a non-recording propagator) nothing was written, and the jobs go as given.
      const sent = Object.keys(carrier).length === 0 ? jobs : withTraceHeaders(jobs, carrier);
      const ids = await next(sent);
      if (ids.length === 1 && ids[0] !== null && ids[0] !== undefined) span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, String(ids[0]));
      const skipped = ids.filter((id) => id === null).length;
      if (skipped > 0) span.setAttribute(ATTR_ENQUEUE_SKIPPED, skipped);
      return ids;
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The context the run's span starts from, and its links: see EnqueueContextUse. */
function runParent(job: WorkerJob, propagator: TextMapPropagator, use: EnqueueContextUse): { parent: Context; links: Link[] } {
  const extracted = job.headers === null ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, job.headers, headersGetter);
  if (use === 'parent') return { parent: extracted, links: [] };
  const enqueued = trace.getSpanContext(extracted);
  const links: Link[] = enqueued !== undefined && isSpanContextValid(enqueued) ? [{ context: enqueued }] : [];
  // A new trace, never the worker loop's ambient context; the producer's baggage still reaches the handler.
  const baggage = propagation.getBaggage(extracted);
  return { parent: baggage === undefined ? ROOT_CONTEXT : propagation.setBaggage(ROOT_CONTEXT, baggage), links };
}

/**
 * Runs `next` (the handler) inside the job's CONSUMER span, made active so that the handler's own
 * spans (and its follow-up enqueues) are its children.
 */
export async function runSpan(
  tracer: Tracer,
  propagator: TextMapPropagator,
  use: EnqueueContextUse,
  job: WorkerJob,
  next: () => Promise<void>,
): Promise<void> {
  const { parent, links } = runParent(job, propagator, use);
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM,
    [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
    [ATTR_MESSAGING_OPERATION_NAME]: OPERATION_PROCESS,
    [ATTR_MESSAGING_DESTINATION_NAME]: job.entrypoint,
    [ATTR_MESSAGING_MESSAGE_ID]: String(job.id),
    [ATTR_JOB_ATTEMPT]: job.attempts,
  };
  if (job.ownerId !== null) attributes[ATTR_MESSAGING_CLIENT_ID] = job.ownerId;
  const span = tracer.startSpan(`${OPERATION_PROCESS} ${job.entrypoint}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
  try {
    await context.with(trace.setSpan(parent, span), next);
  } catch (error) {
    // RetryLater asks for a later run; the handler did not fail.
    if (!RetryLater.isInstance(error)) recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}
