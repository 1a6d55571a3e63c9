/** QueueManager options, their defaults (all in one place) and their checks. */
import { randomUUID } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import type { UntypedJobs } from '../job-map.js';
import { checkLogger, consoleLogger, type Logger } from '../logger.js';
import type { SchemaOptions } from '../names.js';
import { DEFAULT_STALE_AFTER_MS, MAX_BATCH, type Queries } from '../queries.js';
import { checkOwnerId, checkPositiveInt } from '../validate.js';
import type { Instrumentation } from './instrumentation.js';

export interface QueueManagerOptions<Jobs extends object = UntypedJobs> extends SchemaOptions {
  /**
   * Use these queries (yours, typed with the same job map, or a subclass) instead of
   * `new Queries(driver, { schema, prefix, channel })`.
   */
  queries?: Queries<Jobs>;
  /**
   * Wraps every handler run and observes the job events, e.g. `openTelemetry()` from
   * `@pgqueue/opentelemetry`. The worker's own Queries get it too (for follow-up enqueues from
   * handlers), unless `queries` is given: those keep their own.
   */
  instrumentation?: Instrumentation;
  /**
   * Most jobs one dequeue claims. Default 10. Each fetch asks for the smaller of this and the
   * free slots (see `completion.batchSize`), so the worker never claims a job it cannot start at once.
   */
  batchSize?: number;
  /**
   * Most handlers running at once in this worker. Default twice `batchSize`, so the next batch
   * is fetched while the previous one still runs.
   */
  maxConcurrentTasks?: number;
  /**
   * How long an idle worker waits for a notification before it looks for work anyway. Default
   * 1,000 ms. Polling finds delayed jobs that became due, jobs freed by another worker under a
   * concurrency limit, jobs of dead workers, and everything when LISTEN is unavailable.
   */
  pollIntervalMs?: number;
  completion?: {
    /**
     * Flush when this many finished jobs are waiting. Default 100. Unwritten outcomes beyond this
     * many take fetch slots, so a worker holds at most `maxConcurrentTasks` + this many jobs
     * picked but unwritten.
     */
    batchSize?: number;
    /** Flush this long after the first finished job arrived. Default 10 ms. */
    flushIntervalMs?: number;
  };
  /** How often the leases of running jobs are renewed. Default a third of `staleAfterMs`. */
  heartbeatIntervalMs?: number;
  /**
   * A running job whose lease was not renewed for this long is taken over by another worker (its
   * worker is presumed dead). Default 30,000 ms. Use the same value on every worker.
   */
  staleAfterMs?: number;
  /** This worker's id, stored on the jobs it holds. Default a random UUID. */
  ownerId?: string;
  /** How long `stop()` lets running jobs finish before aborting them. Default 25,000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * How long one statement of the worker (a fetch, a batch of outcomes) may go unanswered before
   * it fails with STATEMENT_TIMEOUT and is tried again. Default 10,000 ms. Lease renewals get
   * `heartbeatIntervalMs` (at least a second) within it, and the statements of a stopping worker
   * what is left of its stop.
   */
  statementTimeoutMs?: number;
  /**
   * Vacuum the jobs table from the worker: every `intervalMs` (default 10,000) it reads the
   * table's dead-row count and, past `minDeadRows` (default 10,000), runs `VACUUM (SKIP_LOCKED)`,
   * so a fleet vacuums one worker at a time. A busy queue otherwise slows down between autovacuum
   * visits (docs/worker.md). Needs the role that owns the table. `false` leaves it to autovacuum.
   */
  vacuum?: { intervalMs?: number; minDeadRows?: number } | false;
  /**
   * Prune the statistics table from the fleet: once per `intervalMs` (default an hour) exactly one
   * worker (the one that claims the period in the maintenance table) deletes the rows older than
   * `olderThanMs`. Off by default; see pruneStatistics and docs/operations.md.
   */
  pruneStatistics?: { olderThanMs: number; intervalMs?: number } | false;
  /**
   * Where the worker logs: errors it recovers from (warn), errors it cannot (error), start and
   * stop (info), reconnects (debug). Any `{ debug, info, warn, error }` object: `console`, a pino
   * or winston logger. Default `consoleLogger()`: console at level 'warn', or `PGQUEUE_LOG_LEVEL`.
   */
  logger?: Logger;
}

export interface ResolvedOptions {
  batchSize: number;
  maxConcurrentTasks: number;
  pollIntervalMs: number;
  completionBatchSize: number;
  flushIntervalMs: number;
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  ownerId: string;
  shutdownTimeoutMs: number;
  statementTimeoutMs: number;
  vacuum: { intervalMs: number; minDeadRows: number } | false;
  pruneStatistics: { olderThanMs: number; intervalMs: number } | false;
  logger: Logger;
}

export const QUEUE_MANAGER_DEFAULTS = {
  batchSize: 10,
  pollIntervalMs: 1_000,
  completionBatchSize: 100,
  flushIntervalMs: 10,
  staleAfterMs: DEFAULT_STALE_AFTER_MS,
  // Below the 30 s a container orchestrator usually waits between SIGTERM and SIGKILL, leaving
  // time to abort, flush and close.
  shutdownTimeoutMs: 25_000,
  // A healthy server answers pgqueue's batch statements in milliseconds (a 1,000-job enqueue took
  // 4–7 ms here, docs/benchmarks.md); 10 s is far beyond that, and short enough that a hung
  // connection is given up well within the default 30 s lease.
  statementTimeoutMs: 10_000,
  vacuumIntervalMs: 10_000,
  // ~40 index pages of dead entries: what a dequeue may walk past before it is worth a vacuum.
  vacuumMinDeadRows: 10_000,
  pruneStatisticsIntervalMs: 60 * 60 * 1000,
} as const;

const MAX_INTERVAL_MS = 24 * 60 * 60 * 1000;

function checkMs(value: unknown, what: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_INTERVAL_MS) {
    throw invalidArgument(`QueueManager: ${what} must be a number of milliseconds from ${min} to ${MAX_INTERVAL_MS}, got ${String(value)}.`);
  }
  return value;
}

export function resolveOptions(options: Omit<QueueManagerOptions, 'queries'>): ResolvedOptions {
  const d = QUEUE_MANAGER_DEFAULTS;
  const batchSize = checkPositiveInt(options.batchSize ?? d.batchSize, 'QueueManager: batchSize', MAX_BATCH);
  const maxConcurrentTasks = checkPositiveInt(
    options.maxConcurrentTasks ?? batchSize * 2,
    'QueueManager: maxConcurrentTasks',
    MAX_BATCH,
  );
  const staleAfterMs = checkMs(options.staleAfterMs ?? d.staleAfterMs, 'staleAfterMs');
  const heartbeatIntervalMs = checkMs(options.heartbeatIntervalMs ?? Math.max(1, Math.floor(staleAfterMs / 3)), 'heartbeatIntervalMs');
  if (heartbeatIntervalMs >= staleAfterMs) {
    throw invalidArgument(
      `QueueManager: heartbeatIntervalMs (${heartbeatIntervalMs}) must be shorter than staleAfterMs (${staleAfterMs}), ` +
        `or other workers take over jobs that are still running. A third of staleAfterMs is a good choice.`,
    );
  }
  return {
    batchSize,
    maxConcurrentTasks,
    pollIntervalMs: checkMs(options.pollIntervalMs ?? d.pollIntervalMs, 'pollIntervalMs'),
    completionBatchSize: checkPositiveInt(
      options.completion?.batchSize ?? d.completionBatchSize,
      'QueueManager: completion.batchSize',
      MAX_BATCH,
    ),
    flushIntervalMs: checkMs(options.completion?.flushIntervalMs ?? d.flushIntervalMs, 'completion.flushIntervalMs', 0),
    heartbeatIntervalMs,
    staleAfterMs,
    ownerId: checkOwnerId(options.ownerId ?? randomUUID()),
    shutdownTimeoutMs: checkMs(options.shutdownTimeoutMs ?? d.shutdownTimeoutMs, 'shutdownTimeoutMs', 0),
    statementTimeoutMs: checkMs(options.statementTimeoutMs ?? d.statementTimeoutMs, 'statementTimeoutMs'),
    logger: options.logger === undefined ? consoleLogger() : checkLogger(options.logger, 'QueueManager'),
    vacuum:
      options.vacuum === false
        ? false
        : {
            intervalMs: checkMs(options.vacuum?.intervalMs ?? d.vacuumIntervalMs, 'vacuum.intervalMs'),
            minDeadRows: checkPositiveInt(options.vacuum?.minDeadRows ?? d.vacuumMinDeadRows, 'QueueManager: vacuum.minDeadRows'),
          },
    pruneStatistics: resolvePrune(options.pruneStatistics),
  };
}

function resolvePrune(option: QueueManagerOptions['pruneStatistics']): ResolvedOptions['pruneStatistics'] {
  if (option === undefined || option === false) return false;
  if (typeof option !== 'object' || option === null) {
    throw invalidArgument(`QueueManager: pruneStatistics must be { olderThanMs, intervalMs? } or false, got ${String(option)}.`);
  }
  const { olderThanMs } = option;
  if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
    throw invalidArgument(
      `QueueManager: pruneStatistics.olderThanMs must be an age in milliseconds (e.g. 7 days: 604800000), got ${String(olderThanMs)}.`,
    );
  }
  return {
    olderThanMs,
    intervalMs: checkMs(option.intervalMs ?? QUEUE_MANAGER_DEFAULTS.pruneStatisticsIntervalMs, 'pruneStatistics.intervalMs'),
  };
}
