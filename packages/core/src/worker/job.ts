/** The job as a handler sees it, and what else the handler gets. */
import { jsonPayload, type Job, type JobError, type JobId, type JobStatus } from '../job.js';
import type { UntypedJobs } from '../job-map.js';
import type { Queries } from '../queries.js';

/** The job a handler runs. With a job map, `Payload` and `Entrypoint` come from it (job-map.ts). */
export interface WorkerJob<Payload = unknown, Entrypoint extends string = string>
  extends Omit<Job<Payload, Entrypoint>, 'payload'> {
  /**
   * The payload decoded from its JSON on first read (null when the job has none). A job
   * enqueued as raw bytes throws PAYLOAD_NOT_SERIALIZABLE here: read `rawPayload` instead.
   */
  readonly payload: Payload;
  /** The stored bytes, as enqueued. */
  readonly rawPayload: Uint8Array | null;
}

export interface JobContext<Jobs extends object = UntypedJobs> {
  /**
   * Aborted when the job is canceled (JOB_CANCELED), when another worker took it over after
   * this worker's lease expired (LEASE_LOST), or when the worker's stop deadline passed
   * (WORKER_STOPPED); `signal.reason` is a PgQueueError with that code. Pass it to fetch, timers
   * and database calls so the handler returns promptly.
   */
  readonly signal: AbortSignal;
  /** The worker's queries, e.g. to enqueue follow-up jobs. */
  readonly queries: Queries<Jobs>;
}

/** A job handler: resolve to complete the job; throw (or reject) to fail this attempt. */
export type JobHandler<Payload = unknown, Entrypoint extends string = string, Jobs extends object = UntypedJobs> = (
  job: WorkerJob<Payload, Entrypoint>,
  context: JobContext<Jobs>,
) => Promise<void> | void;

/**
 * A WorkerJob that decodes its payload only when read: a handler that never reads it pays
 * nothing, and a payload that is not JSON fails inside the handler, where errors are handled.
 */
export class DecodedJob<Payload> implements WorkerJob<Payload> {
  readonly id: JobId;
  readonly entrypoint: string;
  readonly priority: number;
  readonly status: JobStatus;
  readonly rawPayload: Uint8Array | null;
  readonly headers: Record<string, unknown> | null;
  readonly dedupeKey: string | null;
  readonly attempts: number;
  readonly ownerId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly heartbeatAt: Date;
  readonly executeAfter: Date;
  readonly lastError: JobError | null;
  readonly cancelRequested: boolean;
  #payload: Payload | undefined;
  #decoded = false;

  constructor(job: Job) {
    this.id = job.id;
    this.entrypoint = job.entrypoint;
    this.priority = job.priority;
    this.status = job.status;
    this.rawPayload = job.payload;
    this.headers = job.headers;
    this.dedupeKey = job.dedupeKey;
    this.attempts = job.attempts;
    this.ownerId = job.ownerId;
    this.createdAt = job.createdAt;
    this.updatedAt = job.updatedAt;
    this.heartbeatAt = job.heartbeatAt;
    this.executeAfter = job.executeAfter;
    this.lastError = job.lastError;
    this.cancelRequested = job.cancelRequested;
  }

  get payload(): Payload {
    if (!this.#decoded) {
      this.#payload = jsonPayload<Payload>({ id: this.id, payload: this.rawPayload }) as Payload;
      this.#decoded = true;
    }
    return this.#payload as Payload;
  }
}
