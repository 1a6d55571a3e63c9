/** The messages between a scenario and its worker processes (IPC). */

export interface WorkerSpec {
  /** Where the worker's driver connects: the scenario's database, or a proxy in front of it. */
  workerUrl: string;
  /** Where handlers record their runs: always the database itself. */
  recorderUrl: string;
  entrypoint: string;
  staleAfterMs: number;
  pollIntervalMs: number;
  batchSize: number;
  maxConcurrentTasks: number;
  shutdownTimeoutMs: number;
  /** Report the process's memory this often (the soak); never when absent. */
  memoryEveryMs?: number;
}

export type ToWorker = { type: 'start'; spec: WorkerSpec } | { type: 'stop'; timeoutMs: number };

export type FromWorker =
  | { type: 'ready'; ownerId: string }
  | { type: 'error'; operation: string; message: string }
  | { type: 'leaseLost' }
  /** `resources`: the process's active handles and requests (timers, sockets, …), which a leak of them grows. */
  | { type: 'memory'; rss: number; heapUsed: number; resources: number }
  /** `run()` resolved, `stopMs` after `stop()` was called. */
  | { type: 'stopped'; stopMs: number }
  /** The driver closed, `closeMs` after `run()` resolved. */
  | { type: 'closed'; closeMs: number }
  | { type: 'failed'; message: string };

/** A job's payload: how long its handler works (milliseconds; none: it only records its run). */
export interface FaultJob {
  ms?: number;
}
