/**
 * Producers keep the queue from running dry while workers are measured: they enqueue a batch
 * whenever the backlog (jobs enqueued minus jobs completed) falls below a target, so the workers
 * always find full batches and the measurement is about completion, not about an empty queue.
 */
import type { NewJob, Queries } from '@pgqueue/core';
import { emptyCounters, recordError, type Counters } from './counters.js';
import { workloadOf, type Workload } from './workload.js';

/** A batch of no-op jobs with a small JSON payload each, like a real job reference. */
export function jobBatch(size: number, workload: Workload = workloadOf('single')): NewJob[] {
  return workload.batch(size);
}

/**
 * Jobs per statement of the prefill. Larger than the producer's batches so that a 500,000-job
 * backlog is written in seconds; still the library's own enqueue, so the rows are exactly the
 * ones an application's batch enqueue writes.
 */
export const PREFILL_BATCH = 10_000;

/** Enqueues `count` jobs of the workload in batches of PREFILL_BATCH, before a run starts. */
export async function prefill(queries: Queries, count: number, workload: Workload): Promise<void> {
  const full = jobBatch(Math.min(count, PREFILL_BATCH), workload);
  for (let left = count; left > 0; left -= full.length) {
    await queries.enqueue(left >= full.length ? full : full.slice(0, left));
  }
}

/**
 * The backlog to keep: enough for every worker to fetch many full batches before the producer,
 * whose view of completions is a few milliseconds old, tops it up again.
 */
export function backlogTarget(workers: number, batchSize: number, enqueueBatch: number): number {
  return Math.max(4 * enqueueBatch, 20 * workers * batchSize, 5_000);
}

export interface Producer {
  /** Jobs enqueued so far, the prefill included. */
  readonly enqueued: number;
  /** The smallest backlog seen since `startWindow()`: near zero means the workers may have waited for work. */
  readonly lowestBacklog: number;
  readonly counters: Counters;
  startWindow(): void;
  stop(): Promise<void>;
}

export function startProducer(options: {
  queries: Queries;
  workload: Workload;
  enqueueBatch: number;
  target: number;
  /** Jobs enqueued before the producer started (the prefill). */
  alreadyEnqueued: number;
  completed: () => number;
}): Producer {
  const batch = jobBatch(options.enqueueBatch, options.workload);
  const counters = emptyCounters();
  let enqueued = options.alreadyEnqueued;
  let lowestBacklog = Number.POSITIVE_INFINITY;
  let stopping = false;

  const loop = (async () => {
    while (!stopping) {
      const backlog = enqueued - options.completed();
      lowestBacklog = Math.min(lowestBacklog, backlog);
      if (backlog >= options.target) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      try {
        await options.queries.enqueue(batch);
        enqueued += batch.length;
      } catch (error) {
        recordError(counters, error);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  })();

  return {
    get enqueued() {
      return enqueued;
    },
    get lowestBacklog() {
      return lowestBacklog;
    },
    counters,
    startWindow() {
      lowestBacklog = Number.POSITIVE_INFINITY;
    },
    async stop() {
      stopping = true;
      await loop;
    },
  };
}
