/** The worker's hook points, next to the producer's (see ../instrumentation.ts). */
import type { EnqueueInstrumentation } from '../instrumentation.js';
import type { QueueManagerEvents } from './events.js';
import type { WorkerJob } from './job.js';

/** What a QueueManager lets an instrumentation see: its id and its job events. */
export interface InstrumentedWorker {
  readonly ownerId: string;
  on<K extends keyof QueueManagerEvents>(event: K, listener: (...args: QueueManagerEvents[K]) => void): () => void;
}

/** Hooks for both sides; give the same object to `Queries` and to `QueueManager`. */
export interface Instrumentation extends EnqueueInstrumentation {
  /**
   * Wraps every run of a handler in a QueueManager: `next` runs the handler and settles as it
   * does. What the worker then decides (complete, retry, hold) follows from the events.
   */
  runJob?(job: WorkerJob, next: () => Promise<void>): Promise<void>;
  /** Called once by each QueueManager given this instrumentation, from its constructor. */
  observeWorker?(worker: InstrumentedWorker): void;
}
