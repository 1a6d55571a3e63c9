/**
 * Batch enqueue throughput: one connection sending batches of `--enqueue-batch` jobs back to back
 * into an empty queue, each batch one statement (insert, ids returned, one NOTIFY).
 */
import type { Queries } from '@pgqueue/core';
import { jobBatch } from './producer.js';

export interface EnqueueResult {
  batch: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

export async function measureEnqueue(
  queries: Queries,
  options: { batch: number; seconds: number; onProgress?: (jobs: number, seconds: number) => void },
): Promise<EnqueueResult> {
  const batch = jobBatch(options.batch);
  // One unmeasured batch: the first statement pays for planning and connection warm-up.
  await queries.enqueue(batch);
  const started = performance.now();
  const until = started + options.seconds * 1000;
  let jobs = 0;
  let now = started;
  // At least three batches, so a short duration with large batches still measures something.
  for (let batches = 0; now < until || batches < 3; batches++) {
    await queries.enqueue(batch);
    jobs += batch.length;
    now = performance.now();
    options.onProgress?.(jobs, (now - started) / 1000);
  }
  const seconds = (now - started) / 1000;
  return { batch: options.batch, jobs, seconds, jobsPerSecond: jobs / seconds };
}
