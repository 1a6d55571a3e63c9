/**
 * Finished jobs wait here and are written in batches: one completeJobs statement for every
 * completion (and deleted final failure) gathered, one retryJobs for the retries, one failJobs
 * for the held failures, each sent only when it has rows. A flush starts when `batchSize`
 * outcomes are waiting or `flushIntervalMs` after the first one arrived, so a busy worker sends
 * one completion statement for many fetches instead of one per job. A failed statement keeps its
 * rows and is tried again with backoff; the worker flushes what is left when it stops. The worker
 * counts `pending` outcomes against its fetch capacity, so slow writes slow its claiming.
 */
import type { CompletionStatus, JobError, JobId } from '../job.js';
import type { Queries, RetryRequest } from '../queries.js';
import type { WorkerOperation } from './events.js';
import type { Serial } from './serial.js';

export interface CompletionBufferOptions {
  batchSize: number;
  flushIntervalMs: number;
}

export interface CompletionBufferHooks {
  onError(error: unknown, operation: WorkerOperation): void;
  /** Jobs whose outcome was not written because this worker no longer held them. */
  onLeaseLost(ids: JobId[]): void;
  /** After every flush, written or not. */
  onFlushed(): void;
}

const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 5_000;
/** Attempts of the final flush when the worker stops; after that the jobs' leases expire and they run again elsewhere. */
const CLOSE_ATTEMPTS = 5;

export class CompletionBuffer {
  private completeIds: JobId[] = [];
  private completeStatuses: CompletionStatus[] = [];
  private retries: RetryRequest[] = [];
  private holds: { id: JobId; error: JobError }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<boolean> | undefined;
  /** Outcomes taken by the flush under way whose statement has not returned yet. */
  private inFlight = 0;
  private failures = 0;

  constructor(
    private readonly queries: Queries,
    private readonly ownerId: string,
    private readonly options: CompletionBufferOptions,
    private readonly serial: Serial,
    private readonly hooks: CompletionBufferHooks,
  ) {}

  /** Outcomes waiting to be written. */
  get size(): number {
    return this.completeIds.length + this.retries.length + this.holds.length;
  }

  /** Outcomes not written yet: buffered, or in a statement under way. Their jobs are still picked. */
  get pending(): number {
    return this.size + this.inFlight;
  }

  complete(id: JobId, status: CompletionStatus): void {
    this.completeIds.push(id);
    this.completeStatuses.push(status);
    this.added();
  }

  retry(request: RetryRequest): void {
    this.retries.push(request);
    this.added();
  }

  hold(id: JobId, error: JobError): void {
    this.holds.push({ id, error });
    this.added();
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

  /** The final flush: a few attempts with backoff, then whatever is left is given up. */
  async close(): Promise<void> {
    for (let attempt = 1; attempt <= CLOSE_ATTEMPTS; attempt++) {
      if (await this.flush()) break;
      if (attempt < CLOSE_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, this.backoffMs()));
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private added(): void {
    if (this.writing !== undefined) return;
    if (this.size >= this.options.batchSize) void this.write();
    else this.timer ??= setTimeout(() => void this.write(), this.options.flushIntervalMs);
  }

  /** One flush at a time: a caller arriving during one waits for it instead of starting another. */
  private write(): Promise<boolean> {
    this.writing ??= this.writeBuffered().finally(() => {
      this.writing = undefined;
      this.inFlight = 0;
      if (this.size > 0 && this.timer === undefined) {
        if (this.failures > 0) this.timer = setTimeout(() => void this.write(), this.backoffMs());
        else this.added();
      }
    });
    return this.writing;
  }

  private async writeBuffered(): Promise<boolean> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const ids = this.completeIds;
    const statuses = this.completeStatuses;
    const retries = this.retries;
    const holds = this.holds;
    this.completeIds = [];
    this.completeStatuses = [];
    this.retries = [];
    this.holds = [];
    this.inFlight = ids.length + retries.length + holds.length;
    let written = true;

    if (ids.length > 0) {
      try {
        const done = await this.serial.run(() => this.queries.completeJobs({ ownerId: this.ownerId, ids, statuses }));
        this.reportLost(ids, done);
      } catch (error) {
        written = false;
        this.completeIds = ids.concat(this.completeIds);
        this.completeStatuses = statuses.concat(this.completeStatuses);
        this.hooks.onError(error, 'complete');
      }
      this.inFlight -= ids.length;
    }
    if (retries.length > 0) {
      try {
        const done = await this.serial.run(() => this.queries.retryJobs({ ownerId: this.ownerId, jobs: retries }));
        this.reportLost(
          retries.map((retry) => retry.id),
          done,
        );
      } catch (error) {
        written = false;
        this.retries = retries.concat(this.retries);
        this.hooks.onError(error, 'retry');
      }
      this.inFlight -= retries.length;
    }
    if (holds.length > 0) {
      try {
        const done = await this.serial.run(() => this.queries.failJobs({ ownerId: this.ownerId, jobs: holds }));
        this.reportLost(
          holds.map((hold) => hold.id),
          done,
        );
      } catch (error) {
        written = false;
        this.holds = holds.concat(this.holds);
        this.hooks.onError(error, 'hold');
      }
      this.inFlight -= holds.length;
    }
    this.failures = written ? 0 : this.failures + 1;
    this.hooks.onFlushed();
    return written;
  }

  private reportLost(sent: readonly JobId[], done: readonly JobId[]): void {
    if (done.length === sent.length) return;
    const written = new Set(done);
    const lost = sent.filter((id) => !written.has(id));
    if (lost.length > 0) this.hooks.onLeaseLost(lost);
  }

  private backoffMs(): number {
    return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, this.failures - 1));
  }
}
