/**
 * Every queue operation as one statement over a Driver. The statements live in sql/; this class
 * validates input, encodes parameters, names hot statements for preparation, parses results and
 * turns driver errors into PgQueueErrors.
 */
import { createHash } from 'node:crypto';
import type { Driver, Queryable, QueryResult, SqlParam } from './driver.js';
import { PgQueueError, invalidArgument, toPgQueueError } from './errors.js';
import {
  COMPLETION_STATUSES,
  parseJobRow,
  type CompletionStatus,
  type Job,
  type JobError,
  type JobId,
  type JobRow,
  type JobStatus,
  type NewJob,
} from './job.js';
import { withDeadline } from './deadline.js';
import type { EnqueueInstrumentation } from './instrumentation.js';
import type { JobInput, JobOf, UntypedJobs } from './job-map.js';
import { resolveNames, type Names, type SchemaOptions } from './names.js';
import { numberArray, payloadHexArray, parseId, parseIdArray, parseNumber, textArray, toJson } from './params.js';
import { cancelJobsSql } from './sql/cancel.js';
import { completeSql } from './sql/complete.js';
import { dequeueSql } from './sql/dequeue.js';
import { enqueueSql } from './sql/enqueue.js';
import { enqueuedEvent } from './sql/notify.js';
import { listFailedSql, requeueFailedSql } from './sql/failed.js';
import { clearQueueSql, heartbeatSql, jobsByIdSql, queueSizeSql } from './sql/jobs.js';
import { vacuumCheckSql, vacuumJobsSql } from './sql/maintenance.js';
import { holdJobsSql, retryJobsSql } from './sql/retry.js';
import { statisticsSql, statisticsTotalsSql } from './sql/statistics.js';
import {
  checkEntrypoint,
  checkIds,
  checkInt32,
  checkDelayMs,
  checkNonNegative,
  checkOwnerId,
  checkPlainObject,
  checkPositiveInt,
} from './validate.js';

export interface QueriesOptions extends SchemaOptions {
  /** Largest payload accepted by enqueue, in bytes. Default 8 MiB. */
  maxPayloadBytes?: number;
  /** Wraps every enqueue, e.g. `openTelemetry()` from `@pgqueue/opentelemetry`. See EnqueueInstrumentation. */
  instrumentation?: EnqueueInstrumentation;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
/** Largest batch one statement takes; beyond it callers split. Keeps one statement's memory bounded. */
export const MAX_BATCH = 100_000;

export interface EnqueueOptions {
  /**
   * Run this one call on this transaction (or connection). Prefer `queries.in(tx)`, which binds
   * every call to the transaction at once, so none can be sent outside it by forgetting this.
   */
  executor?: Queryable;
  /** A dedupe key already queued or running: 'error' (default) fails the whole batch; 'skip' drops that job. */
  onDuplicate?: 'error' | 'skip';
}

export interface EntrypointLimit {
  /** Most jobs of this entrypoint picked at once across every worker. Unlimited when absent. */
  concurrencyLimit?: number;
}

export interface DequeueOptions {
  /** The worker claiming the jobs (a UUID). */
  ownerId: string;
  /** Most jobs returned. */
  batchSize: number;
  /** The entrypoints served, optionally with fleet-wide concurrency limits. */
  entrypoints: readonly string[] | Readonly<Record<string, EntrypointLimit>>;
  /** Re-pick picked jobs whose heartbeat is older than this (their worker is presumed dead). null: never. Default 30 s. */
  staleAfterMs?: number | null;
}

export interface CompleteBatch {
  ownerId: string;
  ids: readonly JobId[];
  /** One status per id, same order. */
  statuses: readonly CompletionStatus[];
}

export interface RetryRequest {
  id: JobId;
  /** Not picked again before this many milliseconds from now (server clock). */
  delayMs: number;
  /** Stored as the job's `lastError`; null or absent keeps the error already stored. */
  error?: JobError | null;
  /**
   * Whether the run that ends counts as an attempt. False for runs that did not fail (the
   * handler asked to retry later, the worker shut down): the pick's attempt is given back.
   * Default true.
   */
  countAttempt?: boolean;
}

export interface RetryBatch {
  ownerId: string;
  jobs: readonly RetryRequest[];
}

export interface HoldBatch {
  ownerId: string;
  /** Each job's final error, stored as its `lastError`. */
  jobs: readonly { id: JobId; error: JobError }[];
}

export interface LeaseRenewal {
  /** The ids this owner still holds, their heartbeat renewed. */
  renewed: JobId[];
  /**
   * Ids this owner still holds whose row someone else has locked right now: not renewed this
   * time, and not lost. Ids in neither list are no longer this owner's.
   */
  busy: JobId[];
  /** Of the ids still held (renewed or busy), the ones someone asked to cancel. */
  cancelRequested: JobId[];
}

/** Per-call options of the statements the worker runtime sends. */
export interface StatementOptions {
  /**
   * Fail with STATEMENT_TIMEOUT after this many milliseconds instead of waiting for an answer
   * that may never come (a hung connection). See the Driver's `QueryOptions.timeoutMs`.
   */
  timeoutMs?: number;
}

export interface CancelResult {
  /** Queued or held jobs, deleted and counted as `canceled`: they will never run. */
  canceled: JobId[];
  /** Running jobs: their workers were told to abort them. */
  canceling: JobId[];
}

export interface ListFailedOptions {
  entrypoints?: readonly string[];
  /** Only jobs with a larger id: pass the last id of the previous page. */
  afterId?: JobId;
  /** Default 100. */
  limit?: number;
}

export interface QueueSizeRow {
  entrypoint: string;
  status: JobStatus;
  priority: number;
  count: number;
}

export interface StatisticsRow {
  /** The second the jobs were completed in. */
  createdAt: Date;
  count: number;
  priority: number;
  /**
   * Milliseconds between enqueue and pick. The statistics keep it truncated to whole seconds
   * (PgQueuer's aggregate), so it is a multiple of 1,000.
   */
  timeInQueueMs: number;
  status: CompletionStatus;
  entrypoint: string;
}

export interface StatisticsTotal {
  entrypoint: string;
  status: CompletionStatus;
  count: number;
}

export const DEFAULT_STALE_AFTER_MS = 30_000;

type StatementKey = 'enqueue' | 'enqueueSkip' | 'dequeue' | 'complete' | 'heartbeat' | 'retry' | 'hold';

/** Longest error message and stack stored on a job; longer ones are cut (a stack can be huge). */
const MAX_ERROR_MESSAGE = 4096;
const MAX_ERROR_STACK = 16_384;

/**
 * The queue's statements. `Jobs`, a job map (job-map.ts), types enqueue and the jobs read back;
 * without one any entrypoint and payload compile.
 */
export class Queries<Jobs extends object = UntypedJobs> {
  readonly driver: Driver;
  readonly names: Names;
  readonly maxPayloadBytes: number;
  readonly instrumentation: EnqueueInstrumentation | undefined;
  /** Where the statements run when bound by `in(tx)`; otherwise on the driver. */
  readonly executor: Queryable | undefined = undefined;
  private readonly statements: Record<StatementKey, { text: string; name: string }>;

  constructor(driver: Driver, options: QueriesOptions = {}) {
    this.driver = driver;
    this.names = resolveNames(options);
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    checkPositiveInt(this.maxPayloadBytes, 'maxPayloadBytes', 1024 * 1024 * 1024 - 1);
    this.instrumentation = options.instrumentation;
    const named = (key: string, text: string) => ({
      text,
      // Unique per text, because a prepared name must not be reused for other SQL on a connection.
      name: `pgq_${key}_${createHash('sha1').update(text).digest('hex').slice(0, 12)}`,
    });
    this.statements = {
      enqueue: named('enqueue', enqueueSql(this.names, false)),
      enqueueSkip: named('enqueue_skip', enqueueSql(this.names, true)),
      dequeue: named('dequeue', dequeueSql(this.names)),
      complete: named('complete', completeSql(this.names)),
      heartbeat: named('heartbeat', heartbeatSql(this.names)),
      retry: named('retry', retryJobsSql(this.names)),
      hold: named('hold', holdJobsSql(this.names)),
    };
  }

  /**
   * These queries bound to a transaction (or a connection): every statement of the returned
   * object runs on `executor`, so a job enqueued through it is a row of that transaction. It
   * exists only if the transaction commits; on rollback there is no job and no notification
   * (PostgreSQL delivers NOTIFY at commit). Get `executor` from the driver's `transaction(tx => …)`
   * or from the adapter's helper for a transaction you opened yourself (`pgQueryable(client)`,
   * `postgresJsQueryable(tx)`, `pgliteQueryable(tx)`, `kyselyQueryable(trx)`). Cheap: nothing is
   * re-prepared.
   */
  in(executor: Queryable): Queries<Jobs> {
    if (typeof executor !== 'object' || executor === null || typeof executor.query !== 'function') {
      throw invalidArgument(
        `Queries.in: expected a transaction handle with query() (from driver.transaction(tx => …) or the adapter's ` +
          `queryable helper, e.g. pgQueryable(client)), got ${executor === null ? 'null' : typeof executor}.`,
      );
    }
    // A copy that shares everything but where it runs; a subclass stays that subclass.
    const bound = Object.create(Object.getPrototypeOf(this) as object) as this;
    return Object.assign(bound, this, { executor });
  }

  /**
   * Runs `fn` in a transaction of the driver, with these queries bound to it (see `in`): committed
   * when `fn` resolves, rolled back when it throws, and the jobs enqueued in it with it. `tx` runs
   * your own statements in the same transaction. Inside `fn` use only `queries` and `tx`.
   */
  transaction<T>(fn: (queries: Queries<Jobs>, tx: Queryable) => Promise<T>): Promise<T> {
    if (this.executor !== undefined) {
      return Promise.reject(
        invalidArgument('Queries.transaction: these queries are already bound to a transaction by in(tx); use them directly.'),
      );
    }
    return this.driver.transaction((tx) => fn(this.in(tx), tx));
  }

  /** The channel enqueue notifies; workers LISTEN on it. */
  get channel(): string {
    return this.names.channel;
  }

  /**
   * Enqueues one job, or a batch in one statement; ids come back in input order. With
   * `onDuplicate: 'skip'`, a job whose dedupe key is taken gets `null` instead of an id.
   */
  enqueue(job: JobInput<Jobs>, options: EnqueueOptions & { onDuplicate: 'skip' }): Promise<JobId | null>;
  enqueue(jobs: readonly JobInput<Jobs>[], options: EnqueueOptions & { onDuplicate: 'skip' }): Promise<(JobId | null)[]>;
  enqueue(job: JobInput<Jobs>, options?: EnqueueOptions): Promise<JobId>;
  enqueue(jobs: readonly JobInput<Jobs>[], options?: EnqueueOptions): Promise<JobId[]>;
  async enqueue(
    input: JobInput<Jobs> | readonly JobInput<Jobs>[],
    options: EnqueueOptions = {},
  ): Promise<JobId | null | (JobId | null)[]> {
    const jobs = (Array.isArray(input) ? input : [input]) as readonly NewJob[];
    if (jobs.length === 0) return [];
    if (jobs.length > MAX_BATCH) throw invalidArgument(`enqueue: at most ${MAX_BATCH} jobs per call, got ${jobs.length}.`);
    const skip = options.onDuplicate === 'skip';
    if (options.onDuplicate !== undefined && options.onDuplicate !== 'skip' && options.onDuplicate !== 'error') {
      throw invalidArgument(`enqueue: onDuplicate must be 'error' or 'skip'.`);
    }
    const enqueueHook = this.instrumentation?.enqueue;
    const ids =
      enqueueHook === undefined
        ? await this.insertJobs(jobs, skip, options.executor)
        : await enqueueHook.call(this.instrumentation, jobs, this.hookedInsert(jobs.length, skip, options.executor));
    return Array.isArray(input) ? ids : ids[0]!;
  }

  /** The `next` of an enqueue hook: inserts once, the same number of jobs it was given. */
  private hookedInsert(count: number, skip: boolean, executor: Queryable | undefined) {
    let called = false;
    return (batch: readonly NewJob[]): Promise<(JobId | null)[]> => {
      const where = "enqueue: the instrumentation's enqueue hook";
      if (called) return Promise.reject(invalidArgument(`${where} called next twice; it must insert the jobs once.`));
      called = true;
      if (!Array.isArray(batch) || batch.length !== count) {
        return Promise.reject(
          invalidArgument(
            `${where} passed on ${Array.isArray(batch) ? batch.length : 'no array of'} jobs for the ${count} it was given; ` +
              `it must pass on every job, in order.`,
          ),
        );
      }
      return this.insertJobs(batch, skip, executor);
    };
  }

  private async insertJobs(jobs: readonly NewJob[], skip: boolean, executor: Queryable | undefined): Promise<(JobId | null)[]> {
    const params = this.encodeJobs(jobs, !skip);
    const statement = skip ? this.statements.enqueueSkip : this.statements.enqueue;
    const { rows } = await this.run('enqueue', executor, statement.text, params, statement.name);
    const ids = skip
      ? matchSkipped(jobs, rows as { id: string; dedupekey: string | null }[])
      : parseIdArray((rows[0] as { ids: string | null } | undefined)?.ids);
    if (!skip && ids.length !== jobs.length) {
      throw new PgQueueError('DATABASE_ERROR', `enqueue: inserted ${ids.length} of ${jobs.length} jobs`);
    }
    return ids;
  }

  /**
   * The enqueue parameters, one array per column. A column that no job of the batch sets goes as
   * NULL rather than as an array of defaults, and the statement fills the default in: for a batch
   * of 1,000 plain jobs, parsing and unnesting four arrays of defaults was a third of the server's
   * time (docs/benchmarks.md). `withEvent` appends the notification for a statement that inserts
   * every job or fails (see enqueueSql).
   */
  private encodeJobs(jobs: readonly NewJob[], withEvent: boolean): SqlParam[] {
    const count = jobs.length;
    const whereOf = (i: number) => (count === 1 ? 'enqueue' : `enqueue: job ${i}`);
    const priorities = new Array<number>(count);
    const entrypoints = new Array<string>(count);
    const payloads = new Array<unknown>(count);
    const delays = new Array<number>(count);
    const dedupeKeys = new Array<string | null>(count);
    const headers = new Array<string | null>(count);
    // Which columns any job of the batch sets.
    const set = { priority: false, payload: false, delay: false, dedupeKey: false, headers: false };
    for (let i = 0; i < count; i++) {
      const job = jobs[i];
      const where = whereOf(i);
      if (typeof job !== 'object' || job === null) throw invalidArgument(`${where}: expected a job object.`);
      entrypoints[i] = checkEntrypoint(job.entrypoint, where);
      priorities[i] = job.priority === undefined ? 0 : checkInt32(job.priority, `${where}: priority`);
      delays[i] = job.delayMs === undefined ? 0 : checkDelayMs(job.delayMs, `${where}: delayMs`);
      if (job.dedupeKey !== undefined && job.dedupeKey !== null && (typeof job.dedupeKey !== 'string' || job.dedupeKey === '')) {
        throw invalidArgument(`${where}: dedupeKey must be a non-empty string or null.`);
      }
      dedupeKeys[i] = job.dedupeKey ?? null;
      headers[i] =
        job.headers === undefined || job.headers === null
          ? null
          : toJson(checkPlainObject(job.headers, `${where}: headers`), `${where}: headers`);
      payloads[i] = job.payload;
      set.priority ||= priorities[i] !== 0;
      set.payload ||= job.payload !== undefined && job.payload !== null;
      set.delay ||= delays[i] !== 0;
      set.dedupeKey ||= dedupeKeys[i] !== null;
      set.headers ||= headers[i] !== null;
    }
    const params: SqlParam[] = [
      set.priority ? numberArray(priorities) : null,
      textArray(entrypoints),
      set.payload ? payloadHexArray(payloads, this.maxPayloadBytes, whereOf) : null,
      set.delay ? numberArray(delays) : null,
      set.dedupeKey ? textArray(dedupeKeys) : null,
      set.headers ? textArray(headers) : null,
      this.names.channel,
    ];
    if (withEvent) params.push(enqueuedEvent(entrypoints));
    return params;
  }

  /**
   * Claims up to `batchSize` jobs in one statement: due jobs by priority then age, plus jobs whose
   * worker stopped heart-beating, within each entrypoint's concurrency limit.
   */
  async dequeue(options: DequeueOptions, statement: StatementOptions = {}): Promise<JobOf<Jobs>[]> {
    const ownerId = checkOwnerId(options.ownerId);
    const batchSize = checkPositiveInt(options.batchSize, 'dequeue: batchSize', MAX_BATCH);
    const { names, limits } = entrypointRequest(options.entrypoints);
    const staleAfterMs = options.staleAfterMs === undefined ? DEFAULT_STALE_AFTER_MS : options.staleAfterMs;
    if (staleAfterMs !== null) checkNonNegative(staleAfterMs, 'dequeue: staleAfterMs');
    const { text, name } = this.statements.dequeue;
    const { rows } = await this.run<JobRow>(
      'dequeue',
      undefined,
      text,
      [String(batchSize), textArray(names), numberArray(limits), ownerId, staleAfterMs === null ? null : String(staleAfterMs)],
      name,
      statement.timeoutMs,
    );
    return rows.map(parseJobRow) as JobOf<Jobs>[];
  }

  /**
   * Completes a batch in one statement: deletes the jobs this owner still holds and adds them to
   * the per-second statistics. Returns the ids completed; ids the owner no longer holds (its lease
   * expired and another worker took the job) are left untouched and missing from the result.
   */
  async completeJobs(batch: CompleteBatch, statement: StatementOptions = {}): Promise<JobId[]> {
    const ownerId = checkOwnerId(batch.ownerId);
    const ids = checkIds(batch.ids, 'completeJobs: ids');
    if (!Array.isArray(batch.statuses) || batch.statuses.length !== ids.length) {
      throw invalidArgument(
        `completeJobs: ids and statuses must be arrays of the same length, got ${ids.length} ids and ` +
          `${Array.isArray(batch.statuses) ? batch.statuses.length : 'no array of'} statuses.`,
      );
    }
    for (const status of batch.statuses) {
      if (!COMPLETION_STATUSES.includes(status)) {
        throw invalidArgument(`completeJobs: status must be one of ${COMPLETION_STATUSES.join(', ')}, got "${String(status)}".`);
      }
    }
    if (ids.length === 0) return [];
    const { text, name } = this.statements.complete;
    const { rows } = await this.run<{ id: string }>(
      'completeJobs',
      undefined,
      text,
      [numberArray(ids), textArray(batch.statuses), ownerId],
      name,
      statement.timeoutMs,
    );
    return rows.map((row) => parseId(row.id));
  }

  /**
   * Renews the lease of running jobs in one statement; returns the ids renewed. A job whose row
   * someone else has locked right now is skipped, not waited for: see renewLeases.
   */
  async heartbeat(ownerId: string, ids: readonly JobId[], statement: StatementOptions = {}): Promise<JobId[]> {
    return (await this.renewLeases(ownerId, ids, statement)).renewed;
  }

  /**
   * Renews the leases of running jobs in one statement without waiting on row locks, and says
   * per job what happened: renewed, busy (still this owner's, but locked by someone else right
   * now), or neither (no longer this owner's); and which of the held ones someone asked to cancel.
   */
  async renewLeases(ownerId: string, ids: readonly JobId[], statement: StatementOptions = {}): Promise<LeaseRenewal> {
    checkOwnerId(ownerId);
    checkIds(ids, 'renewLeases: ids');
    if (ids.length === 0) return { renewed: [], busy: [], cancelRequested: [] };
    const { text, name } = this.statements.heartbeat;
    const { rows } = await this.run<{ id: string; cancelrequested: boolean; renewed: boolean }>(
      'renewLeases',
      undefined,
      text,
      [numberArray(ids), ownerId],
      name,
      statement.timeoutMs,
    );
    const result: LeaseRenewal = { renewed: [], busy: [], cancelRequested: [] };
    for (const row of rows) {
      const id = parseId(row.id);
      (row.renewed ? result.renewed : result.busy).push(id);
      if (row.cancelrequested) result.cancelRequested.push(id);
    }
    return result;
  }

  /**
   * Puts running jobs back in the queue in one statement, each after its delay: the worker's
   * retries. Only jobs this owner still holds move; returns their ids. Jobs due at once are
   * announced to workers like an enqueue.
   */
  async retryJobs(batch: RetryBatch, statement: StatementOptions = {}): Promise<JobId[]> {
    const ownerId = checkOwnerId(batch.ownerId);
    const jobs = checkJobList(batch.jobs, 'retryJobs');
    if (jobs.length === 0) return [];
    const delays = jobs.map((job) => checkDelayMs(job.delayMs, `retryJobs: job ${job.id}: delayMs`));
    const errors = jobs.map((job) => (job.error === undefined || job.error === null ? null : encodeJobError(job.error)));
    const refunds = jobs.map((job) => (job.countAttempt === false ? 1 : 0));
    const { text, name } = this.statements.retry;
    const { rows } = await this.run<{ id: string }>(
      'retryJobs',
      undefined,
      text,
      [numberArray(jobs.map((job) => job.id)), numberArray(delays), textArray(errors), numberArray(refunds), ownerId, this.names.channel],
      name,
      statement.timeoutMs,
    );
    return rows.map((row) => parseId(row.id));
  }

  /**
   * Holds running jobs as `failed` with their final errors, in one statement; only jobs this
   * owner still holds. They stay until requeueFailed or cancelJobs; listFailed shows them.
   */
  async failJobs(batch: HoldBatch, statement: StatementOptions = {}): Promise<JobId[]> {
    const ownerId = checkOwnerId(batch.ownerId);
    const jobs = checkJobList(batch.jobs, 'failJobs');
    if (jobs.length === 0) return [];
    const errors = jobs.map((job, i) => {
      if (typeof job.error !== 'object' || job.error === null) throw invalidArgument(`failJobs: job ${i} needs an error.`);
      return encodeJobError(job.error);
    });
    const { text, name } = this.statements.hold;
    const { rows } = await this.run<{ id: string }>(
      'failJobs',
      undefined,
      text,
      [numberArray(jobs.map((job) => job.id)), textArray(errors), ownerId],
      name,
      statement.timeoutMs,
    );
    return rows.map((row) => parseId(row.id));
  }

  /** Jobs held as `failed`, with their errors, oldest first, a page at a time. */
  async listFailed(options: ListFailedOptions = {}): Promise<JobOf<Jobs>[]> {
    const limit = checkPositiveInt(options.limit ?? 100, 'listFailed: limit', MAX_BATCH);
    options.entrypoints?.forEach((entrypoint) => checkEntrypoint(entrypoint, 'listFailed'));
    const afterId = options.afterId ?? 0;
    if (afterId !== 0) checkIds([afterId], 'listFailed: afterId');
    const { rows } = await this.run<JobRow>('listFailed', undefined, listFailedSql(this.names), [
      options.entrypoints === undefined ? null : textArray(options.entrypoints),
      String(afterId),
      String(limit),
    ]);
    return rows.map(parseJobRow) as JobOf<Jobs>[];
  }

  /**
   * Puts held failures back in the queue as new jobs (attempts from 0), in one statement, and
   * wakes the workers. A job whose dedupe key was taken by a newer queued or running job stays
   * held. Returns the ids requeued.
   */
  async requeueFailed(ids: readonly JobId[], options: { delayMs?: number } = {}): Promise<JobId[]> {
    checkIds(ids, 'requeueFailed: ids');
    if (ids.length > MAX_BATCH) throw invalidArgument(`requeueFailed: at most ${MAX_BATCH} ids per call, got ${ids.length}.`);
    const delayMs = options.delayMs === undefined ? 0 : checkDelayMs(options.delayMs, 'requeueFailed: delayMs');
    if (ids.length === 0) return [];
    const { rows } = await this.run<{ id: string }>('requeueFailed', undefined, requeueFailedSql(this.names), [
      numberArray(ids),
      String(delayMs),
      this.names.channel,
    ]);
    return rows.map((row) => parseId(row.id));
  }

  /**
   * Cancels jobs in one statement: queued and held ones are deleted (counted as `canceled`) and
   * never run; running ones are flagged and their workers abort them through the handler's
   * AbortSignal. Ids that no longer exist are ignored.
   */
  async cancelJobs(ids: readonly JobId[]): Promise<CancelResult> {
    checkIds(ids, 'cancelJobs: ids');
    if (ids.length > MAX_BATCH) throw invalidArgument(`cancelJobs: at most ${MAX_BATCH} ids per call, got ${ids.length}.`);
    if (ids.length === 0) return { canceled: [], canceling: [] };
    const { rows } = await this.run<{ id: string; state: 'canceled' | 'canceling' }>(
      'cancelJobs',
      undefined,
      cancelJobsSql(this.names),
      [numberArray(ids), this.names.channel],
    );
    const result: CancelResult = { canceled: [], canceling: [] };
    for (const row of rows) result[row.state].push(parseId(row.id));
    result.canceled.sort((a, b) => a - b);
    result.canceling.sort((a, b) => a - b);
    return result;
  }

  /** Job counts per entrypoint, status and priority. */
  async queueSize(): Promise<QueueSizeRow[]> {
    const { rows } = await this.run<{ entrypoint: string; status: JobStatus; priority: number; count: number }>(
      'queueSize',
      undefined,
      queueSizeSql(this.names),
      [],
    );
    return rows.map((row) => ({
      entrypoint: row.entrypoint,
      status: row.status,
      priority: parseNumber(row.priority),
      count: parseNumber(row.count),
    }));
  }

  /** Deletes every job of the given entrypoints (all jobs when none are named). Returns how many. */
  async clearQueue(entrypoints?: string | readonly string[]): Promise<number> {
    const list = entrypoints === undefined ? null : typeof entrypoints === 'string' ? [entrypoints] : entrypoints;
    list?.forEach((entrypoint) => checkEntrypoint(entrypoint, 'clearQueue'));
    const { rows } = await this.run<{ count: number }>('clearQueue', undefined, clearQueueSql(this.names), [
      list === null ? null : textArray(list),
    ]);
    return parseNumber(rows[0]?.count ?? 0);
  }

  /** Reads jobs by id, in id order; ids that no longer exist are absent. */
  async getJobs(ids: readonly JobId[]): Promise<JobOf<Jobs>[]> {
    checkIds(ids, 'getJobs: ids');
    const { rows } = await this.run<JobRow>('getJobs', undefined, jobsByIdSql(this.names), [numberArray(ids)]);
    return rows.map(parseJobRow) as JobOf<Jobs>[];
  }

  /** Per-second statistics rows, newest first. */
  async statistics(options: { since?: Date; entrypoints?: readonly string[]; limit?: number } = {}): Promise<StatisticsRow[]> {
    const limit = checkPositiveInt(options.limit ?? 1000, 'statistics: limit');
    options.entrypoints?.forEach((entrypoint) => checkEntrypoint(entrypoint, 'statistics'));
    const { rows } = await this.run<{
      createdms: number;
      count: string;
      priority: number;
      timeinqueuems: number;
      status: CompletionStatus;
      entrypoint: string;
    }>('statistics', undefined, statisticsSql(this.names), [
      options.since === undefined ? null : String(options.since.getTime()),
      options.entrypoints === undefined ? null : textArray(options.entrypoints),
      String(limit),
    ]);
    return rows.map((row) => ({
      createdAt: new Date(parseNumber(row.createdms)),
      count: parseNumber(row.count),
      priority: parseNumber(row.priority),
      timeInQueueMs: parseNumber(row.timeinqueuems),
      status: row.status,
      entrypoint: row.entrypoint,
    }));
  }

  /** Completed-job totals per entrypoint and status, summed by PostgreSQL. */
  async statisticsTotals(options: { since?: Date } = {}): Promise<StatisticsTotal[]> {
    const { rows } = await this.run<{ entrypoint: string; status: CompletionStatus; count: string }>(
      'statisticsTotals',
      undefined,
      statisticsTotalsSql(this.names),
      [options.since === undefined ? null : String(options.since.getTime())],
    );
    return rows.map((row) => ({ entrypoint: row.entrypoint, status: row.status, count: parseNumber(row.count) }));
  }

  /**
   * How many dead row versions the jobs table holds (each job leaves two: its claim and its
   * deletion) and whether this role owns it, so it may vacuum it.
   */
  async jobsTableHealth(statement: StatementOptions = {}): Promise<{ deadRows: number; canVacuum: boolean }> {
    const { rows } = await this.run<{ dead: string; owner: boolean }>(
      'jobsTableHealth',
      undefined,
      vacuumCheckSql(this.names),
      [],
      undefined,
      statement.timeoutMs,
    );
    return { deadRows: parseNumber(rows[0]?.dead ?? 0), canVacuum: rows[0]?.owner === true };
  }

  /** Vacuums the jobs table, unless a vacuum of it is already running. Not inside a transaction. */
  async vacuumJobs(statement: StatementOptions = {}): Promise<void> {
    await this.run('vacuumJobs', undefined, vacuumJobsSql(this.names), [], undefined, statement.timeoutMs);
  }

  private async run<Row>(
    operation: string,
    executor: Queryable | undefined,
    text: string,
    params: readonly SqlParam[],
    name?: string,
    timeoutMs?: number,
  ): Promise<QueryResult<Row>> {
    const options = name === undefined && timeoutMs === undefined ? undefined : { name, timeoutMs };
    try {
      const query = (executor ?? this.executor ?? this.driver).query<Row>(text, params, options);
      return await (timeoutMs === undefined ? query : withDeadline(query, timeoutMs, operation));
    } catch (error) {
      throw toPgQueueError(error, { operation, driver: this.driver.name, installHint: this.installHint() });
    }
  }

  private installHint(): string {
    const options = [
      this.names.schema === undefined ? '' : `schema: '${this.names.schema}'`,
      this.names.prefix === '' ? '' : `prefix: '${this.names.prefix}'`,
    ].filter(Boolean);
    return `installSchema(driver${options.length === 0 ? '' : `, { ${options.join(', ')} }`})`;
  }
}

/** Checks a list of `{ id, … }` requests: an array, at most MAX_BATCH, valid distinct ids. */
function checkJobList<T extends { id: JobId }>(jobs: readonly T[], where: string): readonly T[] {
  if (!Array.isArray(jobs)) throw invalidArgument(`${where}: jobs must be an array.`);
  if (jobs.length > MAX_BATCH) throw invalidArgument(`${where}: at most ${MAX_BATCH} jobs per call, got ${jobs.length}.`);
  checkIds(
    jobs.map((job) => (job as { id?: unknown } | null)?.id),
    `${where}: ids`,
  );
  return jobs;
}

/**
 * A job error as the JSON stored in `last_error`. Long texts are cut, and NUL characters are
 * dropped because jsonb refuses `\u0000`.
 */
function encodeJobError(error: JobError): string {
  const clean = (value: unknown, max: number) => String(value).replace(/\u0000/g, '').slice(0, max);
  return toJson(
    {
      name: clean(error.name, 200),
      message: clean(error.message, MAX_ERROR_MESSAGE),
      stack: error.stack === null || error.stack === undefined ? null : clean(error.stack, MAX_ERROR_STACK),
      attempt: Number.isFinite(error.attempt) ? error.attempt : 0,
    },
    'job error',
  );
}

function entrypointRequest(entrypoints: DequeueOptions['entrypoints']): { names: string[]; limits: (number | null)[] } {
  const entries: [string, EntrypointLimit][] = Array.isArray(entrypoints)
    ? (entrypoints as readonly string[]).map((name) => [name, {}])
    : Object.entries(entrypoints as Readonly<Record<string, EntrypointLimit>>);
  if (entries.length === 0) throw invalidArgument('dequeue: name at least one entrypoint.');
  const names: string[] = [];
  const limits: (number | null)[] = [];
  const seen = new Set<string>();
  for (const [name, options] of entries) {
    checkEntrypoint(name, 'dequeue');
    if (seen.has(name)) throw invalidArgument(`dequeue: entrypoint "${name}" is listed twice.`);
    seen.add(name);
    names.push(name);
    limits.push(
      options?.concurrencyLimit === undefined
        ? null
        : checkPositiveInt(options.concurrencyLimit, `dequeue: concurrencyLimit of "${name}"`),
    );
  }
  return { names, limits };
}

/**
 * Maps the rows of an enqueue with skipped duplicates back to input positions. Jobs with a
 * dedupe key are matched by key (the first of a repeated key wins, as in the insert); the
 * others got ids in input order.
 */
function matchSkipped(jobs: readonly NewJob[], rows: { id: string; dedupekey: string | null }[]): (JobId | null)[] {
  const byKey = new Map<string, JobId>();
  const unkeyed: JobId[] = [];
  for (const row of rows) {
    if (row.dedupekey === null) unkeyed.push(parseId(row.id));
    else byKey.set(row.dedupekey, parseId(row.id));
  }
  let next = 0;
  return jobs.map((job) => {
    if (job.dedupeKey === undefined || job.dedupeKey === null) return unkeyed[next++] ?? null;
    const id = byKey.get(job.dedupeKey);
    byKey.delete(job.dedupeKey);
    return id ?? null;
  });
}
