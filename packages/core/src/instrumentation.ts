/**
 * The hook points tracing and metrics attach to, kept free of any telemetry library: the core
 * calls them, and `@pgqueue/opentelemetry` (or anything written against this interface) fills
 * them in. Each hook wraps one operation and must call `next` exactly once, passing its result
 * (or its rejection) through; a hook that is absent costs nothing.
 */
import type { JobId, NewJob } from './job.js';
import type { WorkerJob } from './worker/job.js';
import type { QueueManager } from './worker/queue-manager.js';

/** What a QueueManager lets an instrumentation see: its id and its job events (see QueueManagerEvents). */
export type InstrumentedWorker = Pick<QueueManager, 'ownerId' | 'on'>;

export interface Instrumentation {
  /**
   * Wraps every `Queries.enqueue` call, after its options are checked and before its jobs are
   * encoded. `next` sends the jobs it is given: the same jobs in the same order, though a hook may
   * replace each with a copy carrying more `headers` (a trace context, say). It resolves to one id
   * per job, `null` for a job skipped as a duplicate (`onDuplicate: 'skip'`).
   */
  enqueue?(jobs: readonly NewJob[], next: (jobs: readonly NewJob[]) => Promise<(JobId | null)[]>): Promise<(JobId | null)[]>;
  /**
   * Wraps every run of a handler in a QueueManager: `next` runs the handler and settles as it
   * does. What the worker then decides (complete, retry, hold) follows from the events.
   */
  runJob?(job: WorkerJob, next: () => Promise<void>): Promise<void>;
  /** Called once by each QueueManager given this instrumentation, from its constructor. */
  observeWorker?(worker: InstrumentedWorker): void;
}
