/**
 * Finished jobs wait here and are written in batches: one completeJobs statement for every
 * completion (and deleted final failure) gathered, one retryJobs for the retries, one failJobs
 * for the held failures, each sent only when it has rows. A flush starts when `batchSize`
 * outcomes are waiting or `flushIntervalMs` after the first one arrived, so a busy worker sends
 * one completion statement for many fetches instead of one per job. A statement that failed on a
 * transient error (a lost connection, a timeout) keeps its rows and is tried again with backoff;
 * one the core refused as invalid (INVALID_ARGUMENT: a bug, not bad luck) is never retried as it
 * was: its outcomes are written one by one once, and those refused alone are dropped and
 * reported. The worker flushes what is left when it stops, within its stop budget. The worker
 * counts `pending` outcomes against its fetch capacity, so slow writes slow its claiming.
 *
 * One outcome per job: a second one for a job whose outcome is still here (buffered or being
 * written) is ignored, and the first stays. The first comes from the run that held the lease
 * throughout; the worker never starts a second run of a job it still holds, so a second outcome
 * can only come from a bug, and before this rule it wedged the buffer (completeJobs refuses a
 * batch naming a job twice, and the refusal was retried forever).
 */
import { backoffDelayMs } from '../backoff.js';
import { within } from '../deadline.js';
import { PgQueueError } from '../errors.js';
import type { CompletionStatus, JobError, JobId } from '../job.js';
import type { Queries, RetryRequest } from '../queries.js';
import type { WorkerOperation } from './events.js';

export interface CompletionBufferOptions {
  ownerId: string;
  batchSize: number;
  flushIntervalMs: number;
  /** The deadline of the next statement, in ms (during the final flush: what is left of it). */
  timeoutMs(): number;
  /** Runs a statement: at once, or in turn with the others on a one-connection driver. */
  runStatement<T>(statement: () => Promise<T>): Promise<T>;
}

export interface CompletionBufferHooks {
  onError(error: unknown, operation: WorkerOperation): void;
  /** Jobs whose outcome was not written because this worker no longer held them. */
  onLeaseLost(ids: JobId[]): void;
  /** Of these buffered jobs, the ones whose outcome is to be given up instead of written. */
  expired(ids: Iterable<JobId>): JobId[];
  /** Jobs whose outcome was given up because `expired` named them. */
  onGivenUp(ids: JobId[]): void;
  /** Jobs this worker's write took out of the queue for good (completed or held as failed). */
  onRemoved(ids: readonly JobId[]): void;
  /** Jobs whose outcome left the buffer: written, lost, refused or given up. */
  onSettled(ids: JobId[]): void;
  /** After every flush, written or not. */
  onFlushed(): void;
}

type Outcome =
  | { kind: 'complete'; id: JobId; status: CompletionStatus }
  | { kind: 'retry'; id: JobId; request: RetryRequest }
  | { kind: 'hold'; id: JobId; error: JobError };

type OutcomeKind = Outcome['kind'];

/** A failed write is retried from 50 ms (a flush is cheap to repeat), doubling to 5 s. */
const WRITE_BACKOFF = { firstMs: 50, maxMs: 5_000 };

export class CompletionBuffer {
  /** Outcomes waiting for the next flush, in arrival order. */
  private buffered = new Map<JobId, Outcome>();
  /** Jobs whose outcome is in a statement under way. */
  private readonly sending = new Set<JobId>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<boolean> | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly queries: Queries,
    private readonly options: CompletionBufferOptions,
    private readonly hooks: CompletionBufferHooks,
  ) {}

  /** Outcomes waiting to be written. */
  get size(): number {
    return this.buffered.size;
  }

  /** Outcomes not written yet: buffered, or in a statement under way. Their jobs are still picked. */
  get pending(): number {
    return this.buffered.size + this.sending.size;
  }

  complete(id: JobId, status: CompletionStatus): void {
    this.add({ kind: 'complete', id, status });
  }

  retry(request: RetryRequest): void {
    this.add({ kind: 'retry', id: request.id, request });
  }

  hold(id: JobId, error: JobError): void {
    this.add({ kind: 'hold', id, error });
  }

  /**
   * Drops the buffered outcomes of these jobs (another worker holds them now); outcomes in a
   * statement under way are left to its answer. Returns the ids dropped.
   */
  drop(ids: readonly JobId[]): JobId[] {
    const dropped = ids.filter((id) => this.buffered.delete(id));
    if (dropped.length > 0) this.hooks.onSettled(dropped);
    return dropped;
  }

  /**
   * Writes everything buffered so far, waiting for a flush already under way. Resolves false
   * when a statement failed (its rows stay buffered and a retry is scheduled).
   */
  async flush(): Promise<boolean> {
    while (this.writing !== undefined || this.size > 0) {
      if (!(await this.write())) return false;
    }
    return true;
  }

  /**
   * The final flush: attempts with backoff until everything is written or `deadline` (epoch ms)
   * passes, whatever the database does. Returns the jobs whose outcome was not written; they stay
   * picked and run again elsewhere once their lease is stale.
   */
  async close(deadline: number): Promise<JobId[]> {
    this.closed = true;
    while (Date.now() < deadline) {
      if (await within(this.flush(), deadline - Date.now(), false)) break;
      await sleep(Math.min(this.backoffMs(), deadline - Date.now()));
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return [...this.sending, ...this.buffered.keys()];
  }

  private add(outcome: Outcome): void {
    if (this.buffered.has(outcome.id) || this.sending.has(outcome.id)) return;
    this.buffered.set(outcome.id, outcome);
    this.added();
  }

  private added(): void {
    if (this.writing !== undefined || this.closed) return;
    if (this.size >= this.options.batchSize) void this.write();
    else this.timer ??= setTimeout(() => void this.write(), this.options.flushIntervalMs);
  }

  /** One flush at a time: a caller arriving during one waits for it instead of starting another. */
  private write(): Promise<boolean> {
    this.writing ??= this.writeBuffered().finally(() => {
      this.writing = undefined;
      if (this.size > 0 && this.timer === undefined && !this.closed) {
        if (this.failures > 0) this.timer = setTimeout(() => void this.write(), this.backoffMs());
        else this.added();
      }
    });
    return this.writing;
  }

  private async writeBuffered(): Promise<boolean> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const expired = this.hooks.expired(this.buffered.keys());
    if (expired.length > 0) {
      for (const id of expired) this.buffered.delete(id);
      this.hooks.onGivenUp(expired);
      this.hooks.onSettled(expired);
    }
    const groups: Record<OutcomeKind, Outcome[]> = { complete: [], retry: [], hold: [] };
    for (const outcome of this.buffered.values()) {
      groups[outcome.kind].push(outcome);
      this.sending.add(outcome.id);
    }
    this.buffered = new Map();
    let written = true;
    for (const kind of ['complete', 'retry', 'hold'] as const) {
      if (groups[kind].length > 0 && !(await this.writeGroup(kind, groups[kind]))) written = false;
    }
    this.failures = written ? 0 : this.failures + 1;
    this.hooks.onFlushed();
    return written;
  }

  /** Writes one statement's outcomes; false when it failed and they are back in the buffer. */
  private async writeGroup(kind: OutcomeKind, outcomes: Outcome[]): Promise<boolean> {
    try {
      const done = await this.options.runStatement(() => this.send(kind, outcomes));
      this.settle(outcomes, done);
      return true;
    } catch (error) {
      if (PgQueueError.isInstance(error) && error.code === 'INVALID_ARGUMENT') {
        if (outcomes.length > 1) {
          // One bad outcome must not hold back the rest: each goes alone, once.
          let written = true;
          for (const outcome of outcomes) if (!(await this.writeGroup(kind, [outcome]))) written = false;
          return written;
        }
        this.hooks.onError(error, kind);
        this.settle(outcomes);
        return true;
      }
      for (const outcome of outcomes) this.sending.delete(outcome.id);
      // Back in front of what arrived meanwhile, in their original order.
      this.buffered = new Map([...outcomes.map((outcome): [JobId, Outcome] => [outcome.id, outcome]), ...this.buffered]);
      this.hooks.onError(error, kind);
      return false;
    }
  }

  private send(kind: OutcomeKind, outcomes: readonly Outcome[]): Promise<JobId[]> {
    const { ownerId } = this.options;
    const statement = { timeoutMs: this.options.timeoutMs() };
    switch (kind) {
      case 'complete': {
        const completes = outcomes as Extract<Outcome, { kind: 'complete' }>[];
        const ids = completes.map((outcome) => outcome.id);
        return this.queries.completeJobs({ ownerId, ids, statuses: completes.map((outcome) => outcome.status) }, statement);
      }
      case 'retry':
        return this.queries.retryJobs(
          { ownerId, jobs: (outcomes as Extract<Outcome, { kind: 'retry' }>[]).map((outcome) => outcome.request) },
          statement,
        );
      case 'hold':
        return this.queries.failJobs(
          { ownerId, jobs: (outcomes as Extract<Outcome, { kind: 'hold' }>[]).map(({ id, error }) => ({ id, error })) },
          statement,
        );
    }
  }

  /**
   * Outcomes whose statement answered: `done` were written, the others' jobs are no longer ours.
   * Without `done` the statement was refused and they are dropped.
   */
  private settle(outcomes: readonly Outcome[], done?: readonly JobId[]): void {
    const ids = outcomes.map((outcome) => outcome.id);
    for (const id of ids) this.sending.delete(id);
    if (done !== undefined && done.length < ids.length) {
      const written = new Set(done);
      const lost = ids.filter((id) => !written.has(id));
      if (lost.length > 0) this.hooks.onLeaseLost(lost);
    }
    if (done !== undefined && done.length > 0 && outcomes[0]!.kind !== 'retry') this.hooks.onRemoved(done);
    this.hooks.onSettled(ids);
  }

  private backoffMs(): number {
    return backoffDelayMs(WRITE_BACKOFF, this.failures);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

