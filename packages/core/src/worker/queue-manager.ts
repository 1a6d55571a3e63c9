/**
 * The worker runtime. A QueueManager serves the entrypoints registered on it from its own
 * driver: it claims batches with the dequeue statement (which enforces fleet-wide concurrency
 * limits), runs their handlers, and writes their outcomes through a CompletionBuffer, renewing
 * the leases of long jobs through a LeaseKeeper. Outcomes still waiting to be written count
 * against its capacity beyond one completion batch, so slow completion slows fetching instead of
 * piling up finished jobs. While batches come back full it fetches again at once; when one comes
 * back short it waits for a notification naming one of its entrypoints, or for the poll interval.
 * Several QueueManagers (processes, machines) can serve the same queue.
 */
import { Backoff } from '../backoff.js';
import { within } from '../deadline.js';
import type { Driver } from '../driver.js';
import { PgQueueError, invalidArgument } from '../errors.js';
import type { Job, JobId } from '../job.js';
import type { EntrypointName, IsUntyped, UntypedJobs } from '../job-map.js';
import { Queries, type EntrypointLimit } from '../queries.js';
import { defineSchedule, type ScheduleDefinition, type ScheduleOptions } from '../schedule/definition.js';
import { ScheduleRunner } from '../schedule/runner.js';
import { Schedules } from '../schedule/schedules.js';
import { NOTIFY_ENQUEUED } from '../sql/notify.js';
import { checkEntrypoint, checkNonNegative, checkPositiveInt } from '../validate.js';
import { CompletionBuffer } from './completion-buffer.js';
import { Events, type FinalFailure, type QueueManagerEvents, type RetryReason, type WorkerOperation } from './events.js';
import { LeaseKeeper } from './heartbeat.js';
import type { Instrumentation, InstrumentedWorker } from './instrumentation.js';
import { DecodedJob, type JobHandler, type WorkerJob } from './job.js';
import { QueueListener, type QueueEvent } from './listener.js';
import { resolveOptions, type QueueManagerOptions, type ResolvedOptions } from './options.js';
import { RetryLater, resolveRetryPolicy, retryDelayMs, toJobError, type RetryPolicy } from './retry.js';
import { Serial } from './serial.js';
import { StatisticsPruner } from './statistics-prune.js';
import { JobsVacuum } from './vacuum.js';
import { Wakeup } from './wake.js';

export interface EntrypointOptions {
  /** Most jobs of this entrypoint running at once across every worker. Unlimited when absent. */
  concurrencyLimit?: number;
  /** When and how often a failed job runs again. See RetryPolicy for the defaults. */
  retry?: RetryPolicy;
  /**
   * After the last attempt failed: 'hold' keeps the job as `failed` with its error, for
   * listFailed / requeueFailed (default); 'delete' removes it and counts it as `exception` in
   * the statistics (the error then only reaches the `jobFailed` event).
   */
  onFinalFailure?: FinalFailure;
}

export interface RunOptions {
  /**
   * Return once no job of this worker's entrypoints is due and nothing is running or waiting to
   * be written, instead of waiting for more. Jobs delayed into the future are not waited for.
   */
  drain?: boolean;
}

export interface StopOptions {
  /** How long running jobs get to finish before their signals are aborted. Default `shutdownTimeoutMs`. */
  timeoutMs?: number;
}

interface Entrypoint {
  handler: JobHandler<unknown>;
  retry: Required<RetryPolicy>;
  onFinalFailure: FinalFailure;
  concurrencyLimit: number | undefined;
}

/** Why a running handler's signal was aborted; the first cause wins. */
type AbortCause = 'canceled' | 'leaseLost' | 'shutdown';

interface Run {
  job: WorkerJob;
  entrypoint: Entrypoint;
  controller: AbortController;
  startedAt: number;
  cause: AbortCause | undefined;
}

/** How long handlers aborted at the stop deadline get to return before the worker requeues their jobs without them. */
const ABORT_GRACE_MS = 1_000;
/**
 * The least time a stopping worker gives its final writes, however late the handlers finished:
 * a flush of a full batch answers in milliseconds on a healthy server. With the default
 * shutdownTimeoutMs (25 s), the grace and this, a stop stays under the usual 30 s before SIGKILL.
 */
const FINAL_WRITE_MS = 2_000;
const MIN_RENEWAL_TIMEOUT_MS = 1_000;
/**
 * A vacuum of the jobs table runs long only on a table left unvacuumed for long; past this it is
 * given up (pg also cancels it on the server) and the next look starts it afresh.
 */
const VACUUM_TIMEOUT_MS = 60_000;

/**
 * `Jobs`, a job map (job-map.ts), types the entrypoints a worker registers, its handlers'
 * payloads, its events and its queries; without one any name compiles and payloads are `unknown`.
 */
export class QueueManager<Jobs extends object = UntypedJobs> {
  readonly driver: Driver;
  readonly queries: Queries<Jobs>;
  readonly ownerId: string;
  private readonly options: ResolvedOptions;
  private readonly entrypoints = new Map<string, Entrypoint>();
  private readonly running = new Map<JobId, Run>();
  private readonly events: Events<QueueManagerEvents>;
  private readonly wakeup = new Wakeup();
  /** On a driver without concurrent queries (PGlite) every statement of the worker takes its turn here. */
  private readonly serial: Serial | undefined;
  private readonly buffer: CompletionBuffer;
  private readonly leases: LeaseKeeper;
  private readonly vacuum: JobsVacuum | undefined;
  private readonly pruner: StatisticsPruner | undefined;
  /** The schedules table of this worker's schema: list, pause, resume, remove, runNow. */
  readonly schedules: Schedules;
  private readonly scheduleDefinitions = new Map<string, ScheduleDefinition>();
  private scheduler: ScheduleRunner | undefined;
  private readonly runStatement: <T>(statement: () => Promise<T>) => Promise<T>;
  private listener: QueueListener | undefined;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private drain = false;
  private waitingForSlot = false;
  private dequeueRequest: Record<string, EntrypointLimit> = {};
  private hasLimits = false;
  private finished: Promise<void> | undefined;
  private abortTimer: ReturnType<typeof setTimeout> | undefined;
  private abortAt: number | undefined;
  private abortedAt: number | undefined;
  /** Cleared once shutdown stops waiting for handlers: the buffer is about to be flushed for the last time. */
  private acceptingOutcomes = true;
  /** Set by the first stop(): a fetch under way is not waited for. */
  private stopRequested = false;
  /** Ends the wait for the fetch under way, while there is one. */
  private interruptFetch: (() => void) | undefined;
  /** When the final writes of a stopping worker must be over (epoch ms); statements get what is left. */
  private finalDeadline: number | undefined;
  /** Whether a fetch is under way; jobs completed or held meanwhile are noted in `removedDuringFetch`. */
  private fetching = false;
  /**
   * Jobs this worker completed or held while the fetch under way was in flight. That fetch may
   * still return one: it re-picked the job (stale after an outage) just before the write went
   * through, and the two answers came back on separate connections in the other order. Such a
   * job is gone from the queue, so it is not started. (A retried job may come back legitimately,
   * claimed afresh after its retry, so retries are not noted.)
   */
  private readonly removedDuringFetch = new Set<JobId>();
  private readonly instrumentation: Instrumentation | undefined;

  constructor(driver: Driver, options: QueueManagerOptions<Jobs> = {}) {
    this.driver = driver;
    this.options = resolveOptions(options);
    this.ownerId = this.options.ownerId;
    this.queries =
      options.queries ??
      new Queries<Jobs>(driver, {
        ...(options.schema === undefined ? {} : { schema: options.schema }),
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.channel === undefined ? {} : { channel: options.channel }),
        ...(options.instrumentation === undefined ? {} : { instrumentation: options.instrumentation }),
      });
    this.instrumentation = options.instrumentation;
    this.serial = driver.capabilities.concurrentQueries ? undefined : new Serial();
    const runStatement = <T>(statement: () => Promise<T>): Promise<T> =>
      this.serial === undefined ? statement() : this.serial.run(statement);
    this.runStatement = runStatement;
    const names = this.queries.names;
    this.schedules = new Schedules(driver, {
      ...(names.schema === undefined ? {} : { schema: names.schema }),
      prefix: names.prefix,
      channel: names.channel,
    });
    this.events = new Events((error, event) => {
      if (event === 'error') this.options.logger.error(`pgqueue worker ${this.ownerId}: an 'error' listener threw: ${messageOf(error)}`, error);
      else this.reportError(error, 'listener');
    });
    this.leases = new LeaseKeeper(
      this.untypedQueries,
      {
        ownerId: this.ownerId,
        intervalMs: this.options.heartbeatIntervalMs,
        // A renewal still unanswered when the next is due is given up, so one hung connection
        // never keeps leases from being renewed for longer than an interval; but never sooner
        // than a second, or a busy server (or PGlite's one connection) fails short intervals.
        timeoutMs: Math.min(this.options.statementTimeoutMs, Math.max(this.options.heartbeatIntervalMs, MIN_RENEWAL_TIMEOUT_MS)),
        staleAfterMs: this.options.staleAfterMs,
        runStatement,
      },
      {
        onLost: (ids) => this.lost(ids),
        onCancelRequested: (ids) => ids.forEach((id) => this.abort(id, 'canceled')),
        onError: (error) => this.reportError(error, 'heartbeat'),
      },
    );
    this.buffer = new CompletionBuffer(
      this.untypedQueries,
      {
        ownerId: this.ownerId,
        batchSize: this.options.completionBatchSize,
        flushIntervalMs: this.options.flushIntervalMs,
        timeoutMs: () => this.statementTimeoutMs(),
        runStatement,
      },
      {
        onError: (error, operation) => this.reportError(error, operation),
        onLeaseLost: (ids) => ids.forEach((id) => this.events.emit('leaseLost', id)),
        expired: (ids) => this.leases.expired(ids),
        onGivenUp: (ids) =>
          this.reportError(
            new PgQueueError(
              'LEASE_LOST',
              `gave up the outcomes of ${ids.length} job(s) (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}): ` +
                `their rows stayed locked by another session for longer than staleAfterMs (${this.options.staleAfterMs} ms), ` +
                `so their leases expired; they run again once the lock is released.`,
              { jobIds: ids },
            ),
            'complete',
          ),
        onRemoved: (ids) => {
          if (this.fetching) for (const id of ids) this.removedDuringFetch.add(id);
        },
        onSettled: (ids) => this.leases.release(ids),
        // A written completion frees a slot under a concurrency limit, for this worker too, and
        // capacity taken by unwritten outcomes; a draining worker waiting on a failed flush looks
        // again once the retry went through.
        onFlushed: () => {
          if ((this.hasLimits || this.drain || this.waitingForSlot) && this.state === 'running') this.wakeup.wake();
        },
      },
    );
    this.vacuum =
      this.options.vacuum === false
        ? undefined
        : new JobsVacuum(
            this.untypedQueries,
            { ...this.options.vacuum, checkTimeoutMs: this.options.statementTimeoutMs, vacuumTimeoutMs: VACUUM_TIMEOUT_MS },
            { onError: (error) => this.reportError(error, 'vacuum') },
          );
    this.pruner =
      this.options.pruneStatistics === false
        ? undefined
        : new StatisticsPruner(
            this.untypedQueries,
            { ...this.options.pruneStatistics, ownerId: this.ownerId, claimTimeoutMs: this.options.statementTimeoutMs },
            {
              onPruned: (info) => this.events.emit('statisticsPruned', info),
              onError: (error) => this.reportError(error, 'pruneStatistics'),
            },
          );
    // An instrumentation serves any job map: it sees the same events, with jobs typed as unknown.
    this.instrumentation?.observeWorker?.(this as unknown as InstrumentedWorker);
  }

  /**
   * Registers the handler of an entrypoint; `job.payload` is its decoded JSON. With a job map the
   * name must be one of its entrypoints and the payload has the declared type. Register every
   * entrypoint before `run()`.
   */
  entrypoint<Name extends EntrypointName<Jobs>>(
    name: Name,
    handler: JobHandler<Jobs[Name], Name, Jobs>,
    options?: EntrypointOptions,
  ): this;
  /**
   * Untyped use only (no job map): `Payload` types `job.payload`, unchecked, as a cast would.
   * With a job map, declare the payload there instead.
   */
  entrypoint<Payload>(
    name: IsUntyped<Jobs> extends true ? string : never,
    handler: JobHandler<Payload, string, Jobs>,
    options?: EntrypointOptions,
  ): this;
  entrypoint(name: string, handler: JobHandler<unknown, string, Jobs>, options: EntrypointOptions = {}): this {
    const where = `QueueManager.entrypoint("${String(name)}")`;
    checkEntrypoint(name, 'QueueManager.entrypoint');
    if (this.state !== 'idle') throw invalidArgument(`${where}: register entrypoints before run().`);
    if (this.entrypoints.has(name)) throw invalidArgument(`${where}: this entrypoint is already registered.`);
    if (typeof handler !== 'function') throw invalidArgument(`${where}: the handler must be a function.`);
    const onFinalFailure = options.onFinalFailure ?? 'hold';
    if (onFinalFailure !== 'hold' && onFinalFailure !== 'delete') {
      throw invalidArgument(`${where}: onFinalFailure must be 'hold' or 'delete', got ${String(onFinalFailure)}.`);
    }
    this.entrypoints.set(name, {
      handler: handler as unknown as JobHandler,
      retry: resolveRetryPolicy(options.retry, where),
      onFinalFailure,
      concurrencyLimit:
        options.concurrencyLimit === undefined
          ? undefined
          : checkPositiveInt(options.concurrencyLimit, `${where}: concurrencyLimit`),
    });
    return this;
  }

  /**
   * Enqueues a job of `entrypoint` at every tick of a cron expression (five fields, or six with
   * seconds first; read in `options.timezone`, default UTC), from any number of workers with
   * exactly one job per tick. The job is an ordinary job: any worker serving the entrypoint runs
   * it, with its retries, limits and statistics. Register schedules before `run()`, in every
   * process that serves the entrypoint: on start a worker disables the schedules of its
   * entrypoints that it does not register (a schedule removed from the code stops firing).
   * A bad expression or time zone throws INVALID_ARGUMENT here, and nothing is written.
   */
  schedule<Payload = unknown>(expression: string, entrypoint: string, options: ScheduleOptions<Payload> = {}): this {
    const definition = defineSchedule(expression, entrypoint, options, 'QueueManager.schedule');
    const where = `QueueManager.schedule("${expression}", "${entrypoint}")`;
    if (this.state !== 'idle') throw invalidArgument(`${where}: register schedules before run().`);
    if (this.scheduleDefinitions.has(definition.name)) {
      throw invalidArgument(
        `${where}: a schedule named "${definition.name}" is already registered: give each schedule of an entrypoint its own name (the name option).`,
      );
    }
    this.scheduleDefinitions.set(definition.name, definition);
    return this;
  }

  /** Adds an event listener; returns a function that removes it. */
  on<K extends keyof QueueManagerEvents>(event: K, listener: (...args: QueueManagerEvents<Jobs>[K]) => void): () => void {
    // The runtime emits the jobs it fetched, whose entrypoints are the ones registered: typed by the map.
    return this.events.on(event, listener as unknown as (...args: QueueManagerEvents[K]) => void);
  }

  off<K extends keyof QueueManagerEvents>(event: K, listener: (...args: QueueManagerEvents<Jobs>[K]) => void): void {
    this.events.off(event, listener as unknown as (...args: QueueManagerEvents[K]) => void);
  }

  /** The queries as the handlers get them: their types were fixed when each was registered. */
  private get untypedQueries(): Queries {
    return this.queries as unknown as Queries;
  }

  /** Jobs whose handlers are running now. */
  get activeJobs(): number {
    return this.running.size;
  }

  /**
   * Serves the registered entrypoints until `stop()` (or, with `drain`, until no due job is
   * left), then finishes as `stop()` describes. A QueueManager runs once. Rejects with
   * SCHEMA_NOT_INSTALLED, and the installSchema call to make, when the schema is missing before
   * the first fetch went through; every other failure (and a schema lost later) is retried with
   * backoff, logged as a warning and emitted as an `error` event.
   */
  run(options: RunOptions = {}): Promise<void> {
    if (this.state === 'stopped' && this.finished === undefined) return Promise.resolve();
    if (this.state !== 'idle') {
      return Promise.reject(invalidArgument('QueueManager.run: this worker already ran. A QueueManager runs once; create a new one.'));
    }
    if (this.entrypoints.size === 0) {
      return Promise.reject(
        invalidArgument('QueueManager.run: no entrypoint is registered. Call qm.entrypoint(name, handler) first.'),
      );
    }
    this.state = 'running';
    this.drain = options.drain === true;
    for (const [name, entrypoint] of this.entrypoints) {
      this.dequeueRequest[name] = entrypoint.concurrencyLimit === undefined ? {} : { concurrencyLimit: entrypoint.concurrencyLimit };
      if (entrypoint.concurrencyLimit !== undefined) this.hasLimits = true;
    }
    this.finished = this.lifecycle();
    return this.finished;
  }

  /**
   * Stops fetching, lets running jobs finish for up to `timeoutMs`, then aborts the rest through
   * their signals (they go back to the queue without counting an attempt; a handler that ignores
   * its signal gets a one-second grace, then its job goes back to the queue all the same and its
   * late outcome is ignored). Then writes every outcome and closes the listener, for what is left
   * of `timeoutMs` and at least FINAL_WRITE_MS more, whatever the database does: outcomes still
   * unwritten then are reported by an `error` event (OUTCOMES_NOT_WRITTEN, with their `jobIds`;
   * those jobs run again once their lease is stale). Resolves when `run()` has finished. Calling
   * it again with a shorter timeout brings the deadline forward.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const timeoutMs = checkNonNegative(options.timeoutMs ?? this.options.shutdownTimeoutMs, 'QueueManager.stop: timeoutMs');
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'running') this.state = 'stopping';
    this.stopRequested = true;
    this.interruptFetch?.();
    if (this.state === 'stopping') {
      this.scheduleAbort(timeoutMs);
      this.wakeup.wake();
    }
    await this.finished?.catch(() => undefined);
  }

  private async lifecycle(): Promise<void> {
    try {
      this.leases.start();
      this.vacuum?.start();
      this.pruner?.start();
      this.scheduler = new ScheduleRunner(
        this.schedules,
        {
          definitions: [...this.scheduleDefinitions.values()],
          owned: [...this.entrypoints.keys()],
          statementTimeoutMs: this.options.statementTimeoutMs,
        },
        { runStatement: this.runStatement, onError: (error) => this.reportError(error, 'schedule') },
      );
      this.scheduler.start();
      if (this.driver.capabilities.listen) {
        this.listener = new QueueListener(this.driver, this.queries.channel, {
          onEvent: (event) => this.received(event),
          onReconnect: () => {
            this.options.logger.debug(`pgqueue worker ${this.ownerId}: listening again on "${this.queries.channel}"`);
            // Notifications sent while the connection was down are lost: look for work and
            // for cancels now.
            this.wakeup.wake();
            void this.leases.renewNow();
          },
          onError: (error) => this.reportError(error, 'listen'),
        });
        await this.listener.start();
      }
      this.options.logger.info(
        `pgqueue worker ${this.ownerId}: serving ${[...this.entrypoints.keys()].join(', ')} (driver ${this.driver.name})`,
      );
      await this.loop();
    } finally {
      await this.shutdown();
      this.options.logger.info(`pgqueue worker ${this.ownerId}: stopped`);
    }
  }

  private async loop(): Promise<void> {
    const fetchBackoff = new Backoff();
    // Until a fetch went through once, a missing schema is a mistake of setup, not an outage:
    // run() fails with it instead of retrying forever.
    let fetchedOnce = false;
    // Drain: set once everything was written and a fetch after that still found nothing.
    let settledAndEmpty = false;
    while (this.state === 'running') {
      // Bound: maxConcurrentTasks + completion.batchSize unwritten jobs, so one full flush in flight never slows fetching.
      const free =
        this.options.maxConcurrentTasks -
        this.running.size -
        Math.max(0, this.buffer.pending - this.options.completionBatchSize);
      if (free <= 0) {
        // Woken by a finished handler or by a finished flush.
        this.waitingForSlot = true;
        await this.wakeup.wait();
        this.waitingForSlot = false;
        continue;
      }
      const size = Math.min(this.options.batchSize, free);
      this.wakeup.clear();
      let jobs: Job[];
      const pickedAt = Date.now();
      this.fetching = true;
      try {
        const fetching = this.fetch(size);
        const fetched = await this.untilStopped(fetching);
        if (fetched === undefined) {
          // Stopping: a fetch that answers late gives its jobs straight back, if still in time.
          fetching.then(
            (late) => {
              this.release(late, pickedAt);
              this.fetchDone();
            },
            () => this.fetchDone(),
          );
          break;
        }
        jobs = fetched;
        fetchedOnce = true;
        fetchBackoff.succeeded();
      } catch (error) {
        this.fetchDone();
        if (!fetchedOnce && PgQueueError.isInstance(error) && error.code === 'SCHEMA_NOT_INSTALLED') {
          const fatal = new PgQueueError('SCHEMA_NOT_INSTALLED', `QueueManager.run: cannot start: ${error.message}`, {
            cause: error,
            ...(error.sqlState === undefined ? {} : { sqlState: error.sqlState }),
          });
          this.options.logger.error(`pgqueue worker ${this.ownerId}: ${fatal.message}`);
          throw fatal;
        }
        this.reportError(error, 'dequeue');
        await this.wakeup.wait(fetchBackoff.failed());
        continue;
      }
      if (this.state !== 'running') {
        this.release(jobs, pickedAt);
        this.fetchDone();
        break;
      }
      for (const job of jobs) this.start(job, pickedAt);
      this.fetchDone();
      if (jobs.length === size) {
        settledAndEmpty = false;
        continue;
      }
      if (this.drain && jobs.length === 0 && this.running.size === 0) {
        if (settledAndEmpty && this.buffer.size === 0) return;
        // Writing the outcomes may requeue retries that are due at once: look once more after.
        settledAndEmpty = await this.buffer.flush();
        if (!settledAndEmpty) await this.wakeup.wait(this.options.pollIntervalMs);
        continue;
      }
      settledAndEmpty = false;
      await this.wakeup.wait(this.options.pollIntervalMs);
    }
  }

  /**
   * The fetch's jobs, or undefined as soon as stop() is called. Not a Promise.race against one
   * promise that lives as long as the worker: each race leaves a reaction on it that keeps its
   * batch alive, and the heap grew by 0.8 KB per job run (120 MB after 150,000 jobs).
   */
  private untilStopped(fetching: Promise<Job[]>): Promise<Job[] | undefined> {
    if (this.stopRequested) return Promise.resolve(undefined);
    return new Promise<Job[] | undefined>((resolve, reject) => {
      this.interruptFetch = () => resolve(undefined);
      fetching.then(resolve, reject);
    }).finally(() => {
      this.interruptFetch = undefined;
    });
  }

  private fetch(size: number): Promise<Job[]> {
    const dequeue = () =>
      this.queries.dequeue(
        {
          ownerId: this.ownerId,
          batchSize: size,
          entrypoints: this.dequeueRequest,
          staleAfterMs: this.options.staleAfterMs,
        },
        { timeoutMs: this.options.statementTimeoutMs },
      );
    return this.serial === undefined ? dequeue() : this.serial.run(dequeue);
  }

  private fetchDone(): void {
    this.fetching = false;
    this.removedDuringFetch.clear();
  }

  private start(job: Job, pickedAt: number): void {
    if (this.removedDuringFetch.has(job.id)) return;
    // Our own job, re-picked because its lease went stale (an outage, say) while it still runs
    // here or its outcome still waits to be written: that run keeps it and writes the outcome.
    // Running it again made a second outcome for one job, and the audit saw that wedge the buffer.
    const held = this.leases.holds(job.id);
    this.leases.hold(job.id, pickedAt);
    if (held) return;
    // The dequeue returns only the entrypoints it was asked for, all registered.
    const entrypoint = this.entrypoints.get(job.entrypoint)!;
    const workerJob = new DecodedJob<unknown>(job);
    if (job.cancelRequested) {
      this.buffer.complete(job.id, 'canceled');
      this.events.emit('jobCanceled', workerJob);
      return;
    }
    if (job.attempts > entrypoint.retry.maxAttempts) {
      // Picked more often than the policy allows runs: its last attempt's worker died (or lost
      // the lease) before finishing it. Not running it again stops a job that kills its worker.
      const error = new PgQueueError(
        'LEASE_LOST',
        `job ${job.id} was picked ${job.attempts} times, more than retry.maxAttempts (${entrypoint.retry.maxAttempts}): ` +
          `the worker running its last attempt stopped without finishing it (killed, or its lease expired).`,
      );
      this.finalFailure(workerJob, entrypoint, error, 0);
      return;
    }
    const run: Run = { job: workerJob, entrypoint, controller: new AbortController(), startedAt: Date.now(), cause: undefined };
    this.running.set(job.id, run);
    this.events.emit('jobStarted', workerJob);
    void this.execute(run);
  }

  private async execute(run: Run): Promise<void> {
    let failed = false;
    let thrown: unknown;
    try {
      const handle = () => run.entrypoint.handler(run.job, { signal: run.controller.signal, queries: this.untypedQueries });
      const runJob = this.instrumentation?.runJob;
      // `next` is async so a handler that throws synchronously rejects it instead of throwing through the hook.
      await (runJob === undefined ? handle() : runJob.call(this.instrumentation, run.job, async () => handle()));
    } catch (error) {
      failed = true;
      thrown = error;
    }
    this.settle(run, failed, thrown);
  }

  private settle(run: Run, failed: boolean, error: unknown): void {
    const { job } = run;
    // Released at the stop deadline while its handler ignored the signal: already requeued.
    if (this.running.get(job.id) !== run) return;
    this.running.delete(job.id);
    const durationMs = Date.now() - run.startedAt;
    if (run.cause === 'leaseLost') {
      // Another worker holds the job now; its outcome is that worker's to write.
      this.leases.release([job.id]);
    } else if (!failed) {
      this.buffer.complete(job.id, 'successful');
      if (this.events.has('jobCompleted')) this.events.emit('jobCompleted', job, { durationMs });
    } else if (run.cause === 'canceled') {
      this.buffer.complete(job.id, 'canceled');
      this.events.emit('jobCanceled', job);
    } else if (run.cause === 'shutdown') {
      this.requeue(job, 'shutdown', 0, error, durationMs);
    } else if (RetryLater.isInstance(error)) {
      this.requeue(job, 'retryLater', error.delayMs, error, durationMs);
    } else if (job.attempts < run.entrypoint.retry.maxAttempts) {
      const delayMs = retryDelayMs(run.entrypoint.retry, job.attempts);
      this.buffer.retry({ id: job.id, delayMs, error: toJobError(error, job.attempts) });
      this.events.emit('jobRetried', job, { reason: 'error', delayMs, error, durationMs });
    } else {
      this.finalFailure(job, run.entrypoint, error, durationMs);
    }
    if (this.waitingForSlot || this.state === 'stopping' || (this.drain && this.running.size === 0)) this.wakeup.wake();
  }

  /** Back to the queue without counting the attempt: retry-later, or the worker is stopping. */
  private requeue(job: WorkerJob, reason: RetryReason, delayMs: number, error: unknown, durationMs: number): void {
    this.buffer.retry({ id: job.id, delayMs, countAttempt: false });
    this.events.emit('jobRetried', job, { reason, delayMs, error, durationMs });
  }

  private finalFailure(job: WorkerJob, entrypoint: Entrypoint, error: unknown, durationMs: number): void {
    if (entrypoint.onFinalFailure === 'hold') this.buffer.hold(job.id, toJobError(error, job.attempts));
    else this.buffer.complete(job.id, 'exception');
    this.events.emit('jobFailed', job, { error, action: entrypoint.onFinalFailure, durationMs });
  }

  /** Jobs a fetch returned after stop() was called: they go straight back, unrun. */
  private release(jobs: readonly Job[], pickedAt: number): void {
    // After the final flush began they stay picked, and run again once their lease is stale.
    if (!this.acceptingOutcomes) return;
    for (const job of jobs) {
      if (this.leases.holds(job.id) || this.removedDuringFetch.has(job.id)) continue;
      this.leases.hold(job.id, pickedAt);
      this.requeue(new DecodedJob<unknown>(job), 'shutdown', 0, undefined, 0);
    }
  }

  /** Jobs a renewal found taken by another worker: running handlers are aborted, unwritten outcomes dropped. */
  private lost(ids: readonly JobId[]): void {
    const unwritten: JobId[] = [];
    for (const id of ids) {
      if (this.running.has(id)) this.abort(id, 'leaseLost');
      else unwritten.push(id);
    }
    for (const id of this.buffer.drop(unwritten)) this.events.emit('leaseLost', id);
  }

  private abort(id: JobId, cause: AbortCause): void {
    const run = this.running.get(id);
    if (run === undefined || run.cause !== undefined) return;
    run.cause = cause;
    run.controller.abort(abortReason(cause, id));
    if (cause === 'leaseLost') this.events.emit('leaseLost', id);
  }

  private received(event: QueueEvent): void {
    if (event.type === NOTIFY_ENQUEUED) {
      if (event.entrypoints === null || event.entrypoints.some((name) => this.entrypoints.has(name))) this.wakeup.wake();
    } else if (event.ids === null) {
      void this.leases.renewNow();
    } else {
      for (const id of event.ids) this.abort(id, 'canceled');
    }
  }

  /** Keeps the earliest deadline of every stop() call. */
  private scheduleAbort(timeoutMs: number): void {
    const at = Date.now() + timeoutMs;
    if (this.abortAt !== undefined && this.abortAt <= at) return;
    this.abortAt = at;
    if (this.abortTimer !== undefined) clearTimeout(this.abortTimer);
    this.abortTimer = setTimeout(() => {
      this.abortedAt = Date.now();
      for (const id of this.running.keys()) this.abort(id, 'shutdown');
      this.wakeup.wake();
    }, timeoutMs);
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping';
    // No tick is enqueued once stopping: the rest of the fleet (or the next start) takes them.
    const schedulerStopped = this.scheduler?.stop() ?? Promise.resolve();
    // When the loop ended by itself (drain, or an unexpected error) no stop() set a deadline.
    this.scheduleAbort(this.options.shutdownTimeoutMs);
    while (this.running.size > 0) {
      let waitMs: number | undefined;
      if (this.abortedAt !== undefined) {
        waitMs = this.abortedAt + ABORT_GRACE_MS - Date.now();
        if (waitMs <= 0) break;
      }
      await this.wakeup.wait(waitMs);
    }
    // Handlers that ignored their signal: their jobs go back to the queue now, their attempt
    // given back, and whatever they return later is ignored. Leaving them picked until stale
    // held them from every worker for staleAfterMs after this one had stopped.
    for (const run of [...this.running.values()]) {
      this.running.delete(run.job.id);
      this.requeue(run.job, 'shutdown', 0, run.controller.signal.reason, Date.now() - run.startedAt);
    }
    this.acceptingOutcomes = false;
    if (this.abortTimer !== undefined) clearTimeout(this.abortTimer);
    this.leases.stop();
    // The final writes get what is left of the stop's deadline, and at least FINAL_WRITE_MS.
    const deadline = Math.max(this.abortAt ?? 0, Date.now() + FINAL_WRITE_MS);
    this.finalDeadline = deadline;
    // A vacuum under way is not waited for past the deadline: it is not this worker's to finish.
    const [unwritten] = await Promise.all([
      this.buffer.close(deadline),
      this.closeListener(deadline),
      within(this.vacuum?.stop() ?? Promise.resolve(), deadline - Date.now(), undefined),
      within(this.pruner?.stop() ?? Promise.resolve(), deadline - Date.now(), undefined),
      within(schedulerStopped, deadline - Date.now(), undefined),
    ]);
    if (unwritten.length > 0) {
      this.reportError(
        new PgQueueError(
          'OUTCOMES_NOT_WRITTEN',
          `stop: the outcomes of ${unwritten.length} job(s) (${unwritten.slice(0, 10).join(', ')}${unwritten.length > 10 ? ', …' : ''}) ` +
            `were not written by the stop deadline: the database did not answer in time (a statement still under way ` +
            `may yet write some). The others stay picked and run again once their lease is stale ` +
            `(staleAfterMs: ${this.options.staleAfterMs} ms).`,
          { jobIds: unwritten },
        ),
        'stop',
      );
    }
    this.state = 'stopped';
  }

  /** Closes the listener by `deadline`; a connection that does not close by then is left to the driver. */
  private async closeListener(deadline: number): Promise<void> {
    const listener = this.listener;
    if (listener === undefined) return;
    const closing = listener.close().then(
      () => true,
      (error: unknown) => {
        this.reportError(error, 'listen');
        return true;
      },
    );
    if (!(await within(closing, deadline - Date.now(), false))) {
      this.reportError(
        new PgQueueError(
          'STATEMENT_TIMEOUT',
          'stop: the LISTEN connection did not close before the stop deadline; it is left for driver.close() to end.',
        ),
        'listen',
      );
    }
  }

  /** The deadline of the next statement: its kind's, or what is left of a stopping worker's. */
  private statementTimeoutMs(): number {
    const left = this.finalDeadline === undefined ? Infinity : this.finalDeadline - Date.now();
    return Math.max(1, Math.min(this.options.statementTimeoutMs, left));
  }

  /** An error the worker recovers from by itself (it retries, or polls): logged, and emitted as `error`. */
  private reportError(error: unknown, operation: WorkerOperation): void {
    this.options.logger.warn(`pgqueue worker ${this.ownerId}: ${operation} failed: ${messageOf(error)}`);
    if (this.events.has('error')) this.events.emit('error', error, { operation });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function abortReason(cause: AbortCause, id: JobId): PgQueueError {
  switch (cause) {
    case 'canceled':
      return new PgQueueError('JOB_CANCELED', `job ${id} was canceled.`);
    case 'leaseLost':
      return new PgQueueError(
        'LEASE_LOST',
        `job ${id} was taken over by another worker: this worker did not renew its lease within staleAfterMs.`,
      );
    case 'shutdown':
      return new PgQueueError('WORKER_STOPPED', `job ${id} was aborted: its worker is stopping and the stop deadline passed.`);
  }
}
