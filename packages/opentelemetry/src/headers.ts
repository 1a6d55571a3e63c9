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
 * The job with the trace fields added to its headers, a copy; the caller's object is left as
 * it was. Headers that are neither absent nor a plain object are left alone, so that the
 * enqueue rejects them with its own error rather than this hiding it.
 */
export function withTraceHeaders(job: NewJob, trace: Readonly<Record<string, string>>): NewJob {
  if (typeof job !== 'object' || job === null) return job;
  if (job.headers === undefined || job.headers === null) return { ...job, headers: { ...trace } };
  if (!isPlainObject(job.headers)) return job;
  return { ...job, headers: { ...job.headers, ...trace } };
}
