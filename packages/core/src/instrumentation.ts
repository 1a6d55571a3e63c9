/**
 * The hook points tracing and metrics attach to, kept free of any telemetry library: the core
 * calls them, and `@pgqueue/opentelemetry` (or anything written against them) fills them in.
 * Each hook wraps one operation and must call `next` exactly once, passing its result (or its
 * rejection) through; a hook that is absent costs nothing. This file has the producer's hook,
 * which `Queries` calls; the worker's are in worker/instrumentation.ts.
 */
import type { JobId, NewJob } from './job.js';

export interface EnqueueInstrumentation {
  /**
   * Wraps every `Queries.enqueue` call, after its options are checked and before its jobs are
   * encoded. `next` sends the jobs it is given: the same jobs in the same order, though a hook may
   * replace each with a copy carrying more `headers` (a trace context, say). It resolves to one id
   * per job, `null` for a job skipped as a duplicate (`onDuplicate: 'skip'`).
   */
  enqueue?(jobs: readonly NewJob[], next: (jobs: readonly NewJob[]) => Promise<(JobId | null)[]>): Promise<(JobId | null)[]>;
}
