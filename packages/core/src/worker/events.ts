/**
 * What a QueueManager reports, for logs and metrics to attach to. A small typed emitter of our
 * own rather than node:events: an 'error' nobody listens to must not throw, and a listener that
 * throws must not break the worker.
 */
import type { JobId } from '../job.js';
import type { UntypedJobs, WorkerJobOf } from '../job-map.js';

/** What the worker does with a job whose last attempt failed. */
export type FinalFailure = 'hold' | 'delete';

/** Why a job went back to the queue. */
export type RetryReason =
  /** The handler failed and its retry policy allows another attempt. */
  | 'error'
  /** The handler threw RetryLater; the attempt is not counted. */
  | 'retryLater'
  /** The worker stopped before the job ran or while it ran; the attempt is not counted. */
  | 'shutdown';

/** The worker step an `error` event comes from. */
export type WorkerOperation =
  | 'dequeue'
  | 'complete'
  | 'retry'
  | 'hold'
  | 'heartbeat'
  | 'listen'
  | 'listener'
  | 'vacuum'
  | 'pruneStatistics'
  | 'stop'
  /** Registering schedules or enqueueing their ticks. */
  | 'schedule';

/**
 * Each event with the arguments its listeners receive. With a job map the job is a union
 * discriminated by `entrypoint`: check `job.entrypoint` and `job.payload` has that entrypoint's type.
 */
export interface QueueManagerEvents<Jobs extends object = UntypedJobs> {
  jobStarted: [job: WorkerJobOf<Jobs>];
  /** The handler resolved; its completion goes out with the next flush. */
  jobCompleted: [job: WorkerJobOf<Jobs>, info: { durationMs: number }];
  jobRetried: [job: WorkerJobOf<Jobs>, info: { reason: RetryReason; delayMs: number; error: unknown; durationMs: number }];
  /** The last attempt failed: the job is held as `failed`, or deleted and counted as `exception`. */
  jobFailed: [job: WorkerJobOf<Jobs>, info: { error: unknown; action: FinalFailure; durationMs: number }];
  /** The job was canceled: it was aborted while running, or found canceled when picked. */
  jobCanceled: [job: WorkerJobOf<Jobs>];
  /** Another worker took this job over (this worker's lease expired); its outcome here is dropped. */
  leaseLost: [jobId: JobId];
  /** This worker claimed the period's statistics prune (option pruneStatistics) and ran it. */
  statisticsPruned: [info: { deleted: number; cutoff: Date }];
  /**
   * A database or listener error the worker recovers from by itself (it retries or polls); and,
   * from a stopping worker (operation 'stop'), the outcomes it could not write in time
   * (OUTCOMES_NOT_WRITTEN, with their `jobIds`).
   */
  error: [error: unknown, info: { operation: WorkerOperation }];
}

type Listener<Args extends unknown[]> = (...args: Args) => void;

export class Events<EventMap extends { [K in keyof EventMap]: unknown[] }> {
  private readonly listeners: { [K in keyof EventMap]?: Set<Listener<EventMap[K]>> } = {};

  /** `onListenerError` hears about listeners that throw, and of which event. */
  constructor(private readonly onListenerError: (error: unknown, event: keyof EventMap) => void) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof EventMap>(event: K, listener: Listener<EventMap[K]>): () => void {
    (this.listeners[event] ??= new Set()).add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof EventMap>(event: K, listener: Listener<EventMap[K]>): void {
    this.listeners[event]?.delete(listener);
  }

  /** Whether anyone listens, so the hot path builds no event arguments for nobody. */
  has(event: keyof EventMap): boolean {
    return (this.listeners[event]?.size ?? 0) > 0;
  }

  emit<K extends keyof EventMap>(event: K, ...args: EventMap[K]): void {
    const set = this.listeners[event];
    if (set === undefined) return;
    for (const listener of set) {
      try {
        listener(...args);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}
