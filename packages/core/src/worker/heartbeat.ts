/**
 * Keeps the leases of every job this worker holds: running ones, and finished ones whose outcome
 * is not written yet (a job stays `picked` until its outcome is written, so its lease must stay
 * fresh as long, or another worker re-picks it and runs it again). Every interval, one statement
 * renews all of them without waiting on row locks (see heartbeatSql). Its answer says per job:
 * renewed; busy (still ours, but someone else holds its row lock right now: not renewed this time,
 * and not lost); or lost (another worker re-picked it, or it was deleted). It also names the jobs
 * someone asked to cancel, so the worker can abort them even if it missed the notification.
 *
 * Renewals run on their own, not in turn with completions: the audit saw a completion wait on an
 * application's row lock while the renewals queued behind it, until other workers took 19 of 20
 * live jobs. They cannot deadlock with a completion either, since they never wait on a lock.
 */
import type { JobId } from '../job.js';
import type { Queries } from '../queries.js';

export interface LeaseKeeperOptions {
  ownerId: string;
  intervalMs: number;
  /** How long a renewal may take before it is given up (the next one tries afresh). */
  timeoutMs: number;
  /** A held job whose lease was not renewed for this long may be taken by another worker. */
  staleAfterMs: number;
  /** Runs a statement: at once, or in turn with the others on a one-connection driver. */
  runStatement<T>(statement: () => Promise<T>): Promise<T>;
}

export interface LeaseKeeperHooks {
  /** Jobs this worker no longer holds. */
  onLost(ids: JobId[]): void;
  onCancelRequested(ids: JobId[]): void;
  onError(error: unknown): void;
}

interface Lease {
  /** When the lease was last known fresh: picked or renewed (epoch ms, when the statement was sent). */
  freshAt: number;
  /** When renewals began to find its row locked, without a renewal of it since (epoch ms, sent). */
  busySince?: number;
}

export class LeaseKeeper {
  /**
   * Every job held. An entry is replaced when a job is held anew (released, then picked again),
   * so a renewal's answer about the old hold cannot touch the new one.
   */
  private readonly leases = new Map<JobId, Lease>();
  /** When a renewal last got an answer: while the database answers, a lease that stays old is locked. */
  private lastAnswerAt = 0;
  /** When the renewals began to get answers again, after the last one that failed (epoch ms, sent). */
  private answeringSince = 0;
  private lastFailed = true;
  private timer: ReturnType<typeof setInterval> | undefined;
  private renewing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly queries: Queries,
    private readonly options: LeaseKeeperOptions,
    private readonly hooks: LeaseKeeperHooks,
  ) {}

  /** Jobs held now: running, or waiting for their outcome to be written. */
  get size(): number {
    return this.leases.size;
  }

  holds(id: JobId): boolean {
    return this.leases.has(id);
  }

  /** A job this worker just claimed; `at` is when the claim was sent (its heartbeat is no older). */
  hold(id: JobId, at: number): void {
    const lease = this.leases.get(id);
    if (lease === undefined) this.leases.set(id, { freshAt: at });
    else {
      lease.freshAt = Math.max(lease.freshAt, at);
      lease.busySince = undefined;
    }
  }

  /** Jobs whose outcome was written, or that this worker gave up or lost. */
  release(ids: Iterable<JobId>): void {
    for (const id of ids) this.leases.delete(id);
  }

  /**
   * Of `ids`, those whose row stayed locked by someone else for longer than `staleAfterMs` while
   * renewals kept getting answers: the database is reachable but the rows are not, so another
   * worker may take them once the lock goes. A lease merely old is not enough: right after an
   * outage longer than the lease every lease is old, and a row the first renewal finds locked
   * for a moment (another worker's dequeue weighing it, say) would be given up and run again
   * here. During an outage nothing counts as expired: after it, renewals either renew a job
   * (still ours), report it lost, or find it locked for as long again before it expires.
   */
  expired(ids: Iterable<JobId>): JobId[] {
    const before = this.lastAnswerAt - this.options.staleAfterMs;
    const out: JobId[] = [];
    for (const id of ids) {
      const lease = this.leases.get(id);
      if (lease === undefined || lease.freshAt >= before || lease.busySince === undefined) continue;
      if (Math.max(lease.busySince, this.answeringSince) <= before) out.push(id);
    }
    return out;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.renewNow(), this.options.intervalMs);
  }

  /** Renews now (after a reconnect, or a cancel notification too long to name its jobs). */
  renewNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.renewing ??= this.renew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /** Stops renewing. A renewal under way is not waited for: its answer no longer matters. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renew(): Promise<void> {
    const sent = [...this.leases];
    if (sent.length === 0) return;
    const ids = sent.map(([id]) => id);
    const sentAt = Date.now();
    try {
      const { renewed, busy, cancelRequested } = await this.options.runStatement(() =>
        this.queries.renewLeases(this.options.ownerId, ids, { timeoutMs: this.options.timeoutMs }),
      );
      if (this.stopped) return;
      if (this.lastFailed) this.answeringSince = sentAt;
      this.lastFailed = false;
      this.lastAnswerAt = sentAt;
      const answered = new Map(sent);
      for (const id of renewed) {
        const lease = this.leases.get(id);
        if (lease === undefined || lease !== answered.get(id)) continue;
        lease.freshAt = Math.max(lease.freshAt, sentAt);
        lease.busySince = undefined;
      }
      for (const id of busy) {
        const lease = this.leases.get(id);
        if (lease !== undefined && lease === answered.get(id)) lease.busySince ??= sentAt;
      }
      if (renewed.length + busy.length < ids.length) {
        const held = new Set([...renewed, ...busy]);
        // Only holds the answer is about: a job released meanwhile (its outcome written) is
        // gone from the table, and one picked again since has a new entry.
        const lost = sent.filter(([id, lease]) => !held.has(id) && this.leases.get(id) === lease).map(([id]) => id);
        if (lost.length > 0) this.hooks.onLost(lost);
      }
      if (cancelRequested.length > 0) this.hooks.onCancelRequested(cancelRequested);
    } catch (error) {
      this.lastFailed = true;
      if (!this.stopped) this.hooks.onError(error);
    }
  }
}
