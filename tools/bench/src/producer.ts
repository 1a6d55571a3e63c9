/**
 * Producers keep the queue from running dry while workers are measured: they enqueue a batch
 * whenever the backlog (jobs enqueued minus jobs completed) falls below a target, so the workers
 * always find full batches and the measurement is about completion, not about an empty queue.
 */
import type { NewJob, Queries } from '@pgqueue/core';
import { emptyCounters, recordError, type Counters } from './counters.js';
import { ENTRYPOINT } from './setup.js';

/** A batch of no-op jobs with a small JSON payload each, like a real job reference. */
export function jobBatch(size: number): NewJob[] {
  return Array.from({ length: size }, (_, i) => ({ entrypoint: ENTRYPOINT, payload: { n: i } }));
}

/** Enqueues `count` jobs in batches of `batchSize`, before a run starts. */
export async function prefill(queries: Queries, count: number, batchSize: number): Promise<void> {
  const full = jobBatch(batchSize);
  for (let left = count; left > 0; left -= batchSize) {
    await queries.enqueue(left >= batchSize ? full : full.slice(0, left));
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
  enqueueBatch: number;
  target: number;
  /** Jobs enqueued before the producer started (the prefill). */
  alreadyEnqueued: number;
  completed: () => number;
}): Producer {
  const batch = jobBatch(options.enqueueBatch);
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
