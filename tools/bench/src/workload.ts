/**
 * The jobs a run enqueues and serves. `single` is the Go port's table: one no-op entrypoint at
 * priority 0. `mixed` is closer to a real queue: four entrypoints and priorities 0–3 spread over
 * the jobs in no particular order. Dequeue returns a batch by priority then id, so the
 * statistics rows a batch touches (priority, entrypoint, time in queue, second) come in an order
 * that differs from batch to batch; a completion that locks them one job at a time can then wait
 * on another in a cycle, which is what the batch statement's sorted upsert rules out. Under
 * priorities the low ones wait behind the high ones, so time in queue spreads by itself.
 */
import type { NewJob } from '@pgqueue/core';
import type { WorkloadName } from './options.js';
import { ENTRYPOINT } from './setup.js';

export interface Workload {
  name: WorkloadName;
  /** What the workers serve (and the raw loop and the ceiling dequeue). */
  entrypoints: readonly string[];
  /** `count` jobs, the same for the same count: runs of one benchmark enqueue identical batches. */
  batch(count: number): NewJob[];
}

export const MIXED_ENTRYPOINTS = ['email', 'resize', 'webhook', 'report'] as const;
export const MIXED_PRIORITIES = 4;

/**
 * A fixed scramble of the job's position (an integer hash), so the mixed batch is the same in
 * every run and every process, with entrypoints and priorities independent of each other.
 */
function scramble(i: number, salt: number): number {
  let x = Math.imul(i ^ salt, 0x9e3779b1);
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca77);
  x ^= x >>> 13;
  return x >>> 0;
}

const single: Workload = {
  name: 'single',
  entrypoints: [ENTRYPOINT],
  batch: (count) => Array.from({ length: count }, (_, i) => ({ entrypoint: ENTRYPOINT, payload: { n: i } })),
};

const mixed: Workload = {
  name: 'mixed',
  entrypoints: MIXED_ENTRYPOINTS,
  batch: (count) =>
    Array.from({ length: count }, (_, i) => ({
      entrypoint: MIXED_ENTRYPOINTS[scramble(i, 0x1234) % MIXED_ENTRYPOINTS.length]!,
      priority: scramble(i, 0x5678) % MIXED_PRIORITIES,
      payload: { n: i },
    })),
};

export function workloadOf(name: WorkloadName): Workload {
  return name === 'mixed' ? mixed : single;
}
