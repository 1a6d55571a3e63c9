/**
 * Keeps the leases of running jobs: every interval, one statement renews the heartbeat of all of
 * them. The answer also tells which leases are gone (another worker re-picked the job after this
 * one stopped heart-beating in time, or the job was deleted) and which jobs someone asked to
 * cancel, so the worker can abort those handlers even if it missed the cancel notification.
 */
import type { JobId } from '../job.js';
import type { Queries } from '../queries.js';
import type { Serial } from './serial.js';

export interface LeaseKeeperHooks {
  /** The ids of the jobs running now. */
  runningIds(): JobId[];
  onLost(ids: JobId[]): void;
  onCancelRequested(ids: JobId[]): void;
  onError(error: unknown): void;
}

export class LeaseKeeper {
  private timer: ReturnType<typeof setInterval> | undefined;
  private renewing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly queries: Queries,
    private readonly ownerId: string,
    private readonly intervalMs: number,
    private readonly serial: Serial,
    private readonly hooks: LeaseKeeperHooks,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.renewNow(), this.intervalMs);
  }

  /** Renews now (after a reconnect, or a cancel notification too long to name its jobs). */
  renewNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.renewing ??= this.renew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /** Stops the timer and waits for a renewal under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
  }

  private async renew(): Promise<void> {
    const ids = this.hooks.runningIds();
    if (ids.length === 0) return;
    try {
      const { renewed, cancelRequested } = await this.serial.run(() => this.queries.renewLeases(this.ownerId, ids));
      if (renewed.length < ids.length) {
        const held = new Set(renewed);
        this.hooks.onLost(ids.filter((id) => !held.has(id)));
      }
      if (cancelRequested.length > 0) this.hooks.onCancelRequested(cancelRequested);
    } catch (error) {
      this.hooks.onError(error);
    }
  }
}
