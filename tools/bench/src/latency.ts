/**
 * Enqueue-to-start latency: an idle worker waits for NOTIFY (its poll interval is far longer than
 * any sample), one job is enqueued, and the time from before the enqueue call to the first line
 * of the handler is one sample. Both ends run in this process, so one clock measures both.
 */
import { QueueManager, type Driver, type Queries } from '@pgqueue/core';
import { recordError, type Counters } from './counters.js';
import { ENTRYPOINT } from './setup.js';

export interface LatencyResult {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  /** How the worker learned of the job: NOTIFY, or polling when the driver cannot LISTEN. */
  wake: 'notify' | 'poll';
}

/** Longer than the whole measurement, so only a notification can wake the worker in time. */
const IDLE_POLL_MS = 60_000;
/** Polling fallback for a driver without LISTEN; the samples then measure this interval. */
const FALLBACK_POLL_MS = 50;
/** Pause between samples, so each job finds the worker idle again (completion flushed, waiting). */
const GAP_MS = 15;
/** A sample slower than this means the worker missed the notification. */
const SAMPLE_TIMEOUT_MS = 10_000;

/** The value at quantile q of ascending `sorted` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export async function measureLatency(options: {
  workerDriver: Driver;
  producer: Queries;
  schema: string;
  samples: number;
  counters: Counters;
  onProgress?: (done: number) => void;
}): Promise<LatencyResult> {
  const wake = options.workerDriver.capabilities.listen ? 'notify' : 'poll';
  // The handler can start before enqueue returns (the NOTIFY goes out at commit, before the
  // reply reaches us), so a start is either kept for the sampler or handed to it if it waits.
  const startedAt = new Map<number, number>();
  let waiting: { id: number; resolve: (at: number) => void } | undefined;
  const manager = new QueueManager(options.workerDriver, {
    schema: options.schema,
    batchSize: 1,
    pollIntervalMs: wake === 'notify' ? IDLE_POLL_MS : FALLBACK_POLL_MS,
  });
  manager.entrypoint(ENTRYPOINT, async (job) => {
    const at = performance.now();
    const sampler = waiting;
    if (sampler?.id === job.id) sampler.resolve(at);
    else startedAt.set(job.id, at);
  });
  manager.on('error', (error: unknown) => recordError(options.counters, error));
  const running = manager.run();
  const timings: number[] = [];
  try {
    await sleep(100);
    for (let i = 0; i < options.samples; i++) {
      await sleep(GAP_MS);
      const before = performance.now();
      const id = await options.producer.enqueue({ entrypoint: ENTRYPOINT, payload: { sample: i } });
      const at =
        startedAt.get(id) ??
        (await new Promise<number>((resolve) => {
          const timer = setTimeout(() => resolve(Number.NaN), SAMPLE_TIMEOUT_MS);
          waiting = {
            id,
            resolve: (startedAt) => {
              clearTimeout(timer);
              resolve(startedAt);
            },
          };
        }));
      startedAt.delete(id);
      waiting = undefined;
      if (Number.isNaN(at)) throw new Error(`latency: job ${id} did not start within ${SAMPLE_TIMEOUT_MS} ms of its enqueue`);
      timings.push(at - before);
      options.onProgress?.(i + 1);
    }
  } finally {
    await manager.stop({ timeoutMs: 10_000 });
    await running;
  }
  timings.sort((a, b) => a - b);
  return { samples: timings.length, p50: quantile(timings, 0.5), p99: quantile(timings, 0.99), max: timings.at(-1) ?? Number.NaN, wake };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
