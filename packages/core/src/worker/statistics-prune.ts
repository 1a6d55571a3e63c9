/**
 * The opt-in periodic prune of the statistics table, run by exactly one worker of a fleet per
 * period without a leader: every worker tries to claim the period (one row of the maintenance
 * table, see claimTaskSql), and only the claim that moves `last_run` forward prunes. Workers look
 * every `min(intervalMs, 1 minute)`, so the fleet prunes once per `intervalMs`, a minute late at
 * most, however many workers there are and however they were started. A worker that dies
 * mid-prune leaves the rest to the next period's winner: the prune deletes in batches, so what
 * it deleted stays deleted.
 */
import type { Queries } from '../queries.js';
import { claimTaskSql } from '../sql/maintenance.js';
import { pruneStatistics } from '../statistics.js';
import { toPgQueueError } from '../errors.js';
import { PeriodicTask } from './periodic.js';

export const PRUNE_TASK = 'prune_statistics';
/** Longest wait between two looks at the period, whatever the interval. */
const MAX_LOOK_MS = 60_000;

export interface StatisticsPruneOptions {
  ownerId: string;
  olderThanMs: number;
  intervalMs: number;
  /** Deadline of the claim statement (ms). */
  claimTimeoutMs: number;
}

export interface StatisticsPruneHooks {
  onPruned(info: { deleted: number; cutoff: Date }): void;
  onError(error: unknown): void;
}

export class StatisticsPruner {
  private readonly task: PeriodicTask;

  constructor(
    private readonly queries: Queries,
    private readonly options: StatisticsPruneOptions,
    private readonly hooks: StatisticsPruneHooks,
  ) {
    this.task = new PeriodicTask(Math.min(options.intervalMs, MAX_LOOK_MS), () => this.pruneIfClaimed());
  }

  /** Looks at once (a fleet started together prunes on start), then every look interval. */
  start(): void {
    this.task.start({ now: true });
  }

  check(): Promise<void> {
    return this.task.check();
  }

  /** Stops the timer; resolves when a look (and a prune it started) is done. */
  stop(): Promise<void> {
    return this.task.stop();
  }

  private async pruneIfClaimed(): Promise<void> {
    try {
      const { driver, names } = this.queries;
      let claimed: boolean;
      try {
        const { rows } = await driver.query(
          claimTaskSql(names),
          [PRUNE_TASK, this.options.ownerId, String(this.options.intervalMs)],
          { timeoutMs: this.options.claimTimeoutMs },
        );
        claimed = rows.length > 0;
      } catch (error) {
        throw toPgQueueError(error, { operation: 'pruneStatistics', driver: driver.name });
      }
      if (!claimed) return;
      const result = await pruneStatistics(driver, {
        olderThan: this.options.olderThanMs,
        ...(names.schema === undefined ? {} : { schema: names.schema }),
        prefix: names.prefix,
      });
      this.hooks.onPruned(result);
    } catch (error) {
      this.hooks.onError(error);
    }
  }
}
