/**
 * The job's `headers` (a jsonb object) as a carrier for the propagator: the producer writes the
 * trace context into them (`traceparent`, `tracestate`, `baggage` with the W3C propagators) and
 * the worker reads it back from `job.headers`. Values a user stored that are not strings are
 * never handed to a propagator, which expects strings.
 */
import type { TextMapGetter } from '@opentelemetry/api';
import type { NewJob } from '@pgqueue/core';

type Headers = Record<string, unknown>;

export const headersGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
    return undefined;
  },
};

function isPlainObject(value: unknown): value is Headers {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The jobs with the trace fields added to their headers, as copies; the caller's objects are
 * left as they were. Headers that are neither absent nor a plain object are left alone, so that
 * the enqueue rejects them with its own error rather than this hiding it. Jobs without headers of
 * their own share one headers object: the enqueue only reads it.
 */
export function withTraceHeaders(jobs: readonly NewJob[], trace: Readonly<Record<string, string>>): NewJob[] {
  const shared = { ...trace };
  // Object.assign, not object spread: copying 1,000 jobs took 2.0-2.2 ms with spread and 0.1-0.3 ms
  // with assign on Node 20 here, the spread costing more than the rest of the instrumented enqueue.
  return jobs.map((job) => {
    if (typeof job !== 'object' || job === null) return job;
    let headers: Record<string, unknown>;
    if (job.headers === undefined || job.headers === null) headers = shared;
    else if (isPlainObject(job.headers)) headers = Object.assign({}, job.headers, trace);
    else return job;
    const copy: NewJob = Object.assign({}, job);
    copy.headers = headers;
    return copy;
  });
}
