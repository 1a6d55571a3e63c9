/**
 * Typed jobs from one declaration. A job map names every entrypoint and its payload type:
 *
 *   type Jobs = { 'send-email': { to: string }; 'nightly-report': null };
 *   const queries = new Queries<Jobs>(driver);
 *   const qm = new QueueManager(driver, { queries }); // the map comes with the queries
 *
 * Then `enqueue` refuses unknown entrypoints and wrongly shaped payloads at compile time, a
 * handler's `job.payload` has the declared type, and events and job reads carry the entrypoint
 * as a discriminant. Without a map (the default, UntypedJobs) any name and any payload compile,
 * as before. Types only: nothing here checks payloads at runtime.
 */
import type { Job, NewJob } from './job.js';
import type { WorkerJob } from './worker/job.js';

/** The job map of untyped use: any entrypoint name, any payload. */
export interface UntypedJobs {
  [entrypoint: string]: unknown;
}

/** The entrypoint names of a job map. */
export type EntrypointName<Jobs> = keyof Jobs & string;

/** True for a map without fixed names (UntypedJobs, or any `Record<string, …>`). */
export type IsUntyped<Jobs> = string extends EntrypointName<Jobs> ? true : false;

/**
 * The `payload` field for a payload type: optional when the type admits undefined or null (a job
 * without data), required otherwise.
 */
type PayloadField<Payload> = undefined extends Payload
  ? { payload?: Payload | null }
  : null extends Payload
    ? { payload?: Payload }
    : { payload: Payload };

/** One job to enqueue for entrypoint `Entrypoint`. */
export type NewJobFor<Entrypoint extends string, Payload> = Omit<NewJob, 'entrypoint' | 'payload'> & {
  entrypoint: Entrypoint;
} & PayloadField<Payload>;

/** One job to enqueue: a union over the map's entrypoints, so the name selects the payload type. */
export type JobInput<Jobs> = { [K in EntrypointName<Jobs>]: NewJobFor<K, Jobs[K]> }[EntrypointName<Jobs>];

/** A job row as the queries read it, discriminated by `entrypoint`. */
export type JobOf<Jobs> = { [K in EntrypointName<Jobs>]: Job<Jobs[K], K> }[EntrypointName<Jobs>];

/** A job as a handler or an event listener sees it, discriminated by `entrypoint`. */
export type WorkerJobOf<Jobs> = { [K in EntrypointName<Jobs>]: WorkerJob<Jobs[K], K> }[EntrypointName<Jobs>];
