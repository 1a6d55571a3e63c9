/**
 * pgqueue's tables as a Kysely database interface, to read the queue with the query builder:
 *
 *   const db = new Kysely<AppDatabase & PgQueueDatabase>({ dialect });
 *   await db.selectFrom('pgqueuer').select(['id', 'status']).where('entrypoint', '=', 'send-email').execute();
 *
 * Write jobs through `Queries` (it encodes payloads, validates and notifies), not with inserts.
 * Two column types depend on the client under the dialect, which is the type parameter:
 * int8 (`id`, `count`) and interval (`time_in_queue`).
 */
import type { ColumnType, Generated } from 'kysely';
import type { JobError, JobStatus } from '@pgqueue/core';

/** An interval as node-postgres parses it (postgres-interval). */
export interface PgInterval {
  years?: number;
  months?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  milliseconds?: number;
  toPostgres(): string;
}

/** What each client under a dialect returns for the client-dependent column types. */
export interface PgQueueClientTypes {
  /** PostgresDialect: int8 as text, interval as an object. */
  pg: { int8: string; interval: PgInterval };
  /** kysely-postgres-js: int8 as text, interval as text ("00:00:01.5"). */
  'postgres-js': { int8: string; interval: string };
  /** A PGlite dialect: int8 as a number, a bigint beyond 2^53; interval as text. */
  pglite: { int8: number | bigint; interval: string };
}

export type PgQueueClient = keyof PgQueueClientTypes;

/** Values accepted for an int8 column in an insert or update, whatever the client. */
type Int8Input = string | number | bigint;
type Int8<C extends PgQueueClient> = ColumnType<PgQueueClientTypes[C]['int8'], Int8Input, Int8Input>;
/** A bigserial: optional on insert. */
type GeneratedInt8<C extends PgQueueClient> = ColumnType<PgQueueClientTypes[C]['int8'], Int8Input | undefined, Int8Input>;
/** A timestamptz with a default: a Date from every client; a Date or text going in. */
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** The jobs table, `pgqueuer`. */
export interface PgQueueJobsTable<C extends PgQueueClient = 'pg'> {
  id: GeneratedInt8<C>;
  /** Higher runs first. */
  priority: Generated<number>;
  /** The worker that holds the job while it is picked. */
  queue_manager_id: string | null;
  created: GeneratedTimestamp;
  updated: GeneratedTimestamp;
  /** Renewed by the holding worker; a picked job with an old heartbeat is re-picked. */
  heartbeat: GeneratedTimestamp;
  execute_after: GeneratedTimestamp;
  status: Generated<JobStatus>;
  entrypoint: string;
  dedupe_key: string | null;
  /** The stored bytes (JSON text for data payloads): a Buffer on pg and postgres.js. */
  payload: Uint8Array | null;
  /** jsonb: parsed by every client; JSON text going in. */
  headers: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  attempts: Generated<number>;
  /** The error of the latest failed run, kept through retries. */
  last_error: ColumnType<JobError | null, string | null, string | null>;
  cancel_requested: Generated<boolean>;
}

/** Completed jobs counted per second, priority, entrypoint, time in queue and status. */
export interface PgQueueStatisticsTable<C extends PgQueueClient = 'pg'> {
  id: GeneratedInt8<C>;
  /** The second the jobs were completed in. */
  created: GeneratedTimestamp;
  count: Int8<C>;
  priority: number;
  time_in_queue: PgQueueClientTypes[C]['interval'];
  status: JobStatus;
  entrypoint: string;
}

/**
 * The tables of an installation with the default names. With `schema: 'jobs'` use
 * `db.withSchema('jobs')`; with a prefix, map these interfaces to the prefixed names.
 */
export interface PgQueueDatabase<C extends PgQueueClient = 'pg'> {
  pgqueuer: PgQueueJobsTable<C>;
  pgqueuer_statistics: PgQueueStatisticsTable<C>;
}
