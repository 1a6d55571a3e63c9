/** The job as pgqueue hands it to callers, and the shapes of what goes in. */
import { PgQueueError } from './errors.js';
import { parseBytes, parseId, parseNumber } from './params.js';
import type { JOB_STATUSES } from './sql/schema.js';

export type JobStatus = (typeof JOB_STATUSES)[number];

/** How a finished job is recorded in statistics when it is completed. */
export type CompletionStatus = 'successful' | 'exception' | 'canceled' | 'deleted';
export const COMPLETION_STATUSES: readonly CompletionStatus[] = ['successful', 'exception', 'canceled', 'deleted'];

/** Job ids are PostgreSQL bigints, exact as JS numbers up to 2^53 - 1. */
export type JobId = number;

/**
 * A type-only key: it carries a job's declared payload type (see job-map.ts) so `jsonPayload(job)`
 * can infer it. Nothing is stored under it at runtime.
 */
declare const payloadType: unique symbol;

/**
 * A job row. With a job map (`Queries<Jobs>`) `Entrypoint` is one of its names and `Payload` that
 * entrypoint's payload type, which `jsonPayload(job)` returns; the stored `payload` stays bytes.
 */
export interface Job<Payload = unknown, Entrypoint extends string = string> {
  id: JobId;
  entrypoint: Entrypoint;
  /** Higher runs first. */
  priority: number;
  status: JobStatus;
  /** The stored bytes: JSON text for anything enqueued as data, as given for a Uint8Array. */
  payload: Uint8Array | null;
  headers: Record<string, unknown> | null;
  dedupeKey: string | null;
  /**
   * How many times the job has been picked, this time included. A run that ended in RetryLater
   * or was cut short by its worker stopping gives its attempt back.
   */
  attempts: number;
  /** The worker holding the job while it is picked. */
  ownerId: string | null;
  createdAt: Date;
  updatedAt: Date;
  heartbeatAt: Date;
  executeAfter: Date;
  /** The error of the latest failed run, kept through retries and on a job held as `failed`. */
  lastError: JobError | null;
  /** Cancel was asked for while the job ran; its worker aborts it and nobody runs it again. */
  cancelRequested: boolean;
  /** Type-only: the payload type declared for this entrypoint. Always absent at runtime. */
  readonly [payloadType]?: Payload;
}

/** A handler's error as it is stored on the job (`last_error`). */
export interface JobError {
  /** The error's class name, e.g. "TypeError"; "NonError" when something other than an Error was thrown. */
  name: string;
  message: string;
  stack: string | null;
  /** The attempt that failed (the job's `attempts` when it failed). */
  attempt: number;
}

export interface NewJob<Payload = unknown> {
  entrypoint: string;
  /** Data stored as JSON, or a Uint8Array stored as raw bytes. */
  payload?: Payload | Uint8Array | null;
  /** Higher runs first; a 32-bit integer. Default 0. */
  priority?: number;
  /** Not picked before this many milliseconds from now (server clock). Default 0. */
  delayMs?: number;
  /** At most one queued or running job per key. */
  dedupeKey?: string | null;
  /** Free-form metadata (trace ids, tenant), stored as jsonb. */
  headers?: Record<string, unknown> | null;
}

/** A job row as the SQL returns it (see sql/dequeue.ts jobColumns). */
export interface JobRow {
  id: string;
  priority: number;
  entrypoint: string;
  status: string;
  payload: unknown;
  headers: string | null;
  dedupekey: string | null;
  attempts: number;
  ownerid: string | null;
  createdms: number;
  updatedms: number;
  heartbeatms: number;
  executeafterms: number;
  lasterror: string | null;
  cancelrequested: boolean;
}

export function parseJobRow(row: JobRow): Job {
  return {
    id: parseId(row.id),
    entrypoint: row.entrypoint,
    priority: parseNumber(row.priority),
    status: row.status as JobStatus,
    payload: parseBytes(row.payload),
    headers: row.headers === null ? null : (JSON.parse(row.headers) as Record<string, unknown>),
    dedupeKey: row.dedupekey,
    attempts: parseNumber(row.attempts),
    ownerId: row.ownerid,
    createdAt: new Date(parseNumber(row.createdms)),
    updatedAt: new Date(parseNumber(row.updatedms)),
    heartbeatAt: new Date(parseNumber(row.heartbeatms)),
    executeAfter: new Date(parseNumber(row.executeafterms)),
    lastError: row.lasterror === null ? null : (JSON.parse(row.lasterror) as JobError),
    cancelRequested: row.cancelrequested,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload type a typed job carries (see Job). */
export type PayloadOfJob<J> = J extends { readonly [payloadType]?: infer Payload } ? Payload : unknown;

/**
 * Decodes a payload stored as JSON (anything enqueued as data rather than bytes). A job read
 * through typed queries gives its declared type; `jsonPayload<T>(job)` asserts one (unchecked).
 */
export function jsonPayload<J extends Pick<Job, 'id' | 'payload'>>(job: J): PayloadOfJob<J> | null;
export function jsonPayload<T>(job: Pick<Job, 'id' | 'payload'>): T | null;
export function jsonPayload(job: Pick<Job, 'id' | 'payload'>): unknown {
  if (job.payload === null) return null;
  try {
    return JSON.parse(utf8.decode(job.payload)) as unknown;
  } catch (error) {
    throw new PgQueueError(
      'PAYLOAD_NOT_SERIALIZABLE',
      `job ${job.id}: payload is not UTF-8 JSON; it was probably enqueued as raw bytes. Read job.rawPayload instead.`,
      { cause: error },
    );
  }
}
