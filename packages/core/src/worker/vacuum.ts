/**
 * Keeps the jobs table vacuumed while the worker runs. Every job leaves two dead row versions (its
 * claim and its deletion), and the dead entries pile up at the head of the queued index, where
 * every dequeue starts: a dequeue walks all of them until a vacuum removes them. Autovacuum visits
 * a database once per `autovacuum_naptime` (a minute by default) at best; at 20k jobs/s that is a
 * million dead entries between visits, and measured here a dequeue of 100 then read 5,582 buffers
 * (39 ms) instead of 211 (0.3 ms), throughput falling to less than half within a minute. So every
 * `intervalMs` the worker looks at the table's dead-row count (one cheap statistics read) and, past
 * `minDeadRows`, runs `VACUUM (SKIP_LOCKED)`: when another worker is vacuuming already it returns
 * at once, so a fleet vacuums one at a time. A role that does not own the table cannot vacuum it;
 * the worker then says so once and stops trying.
 */
import { PgQueueError } from '../errors.js';
import type { Queries } from '../queries.js';
import { PeriodicTask } from './periodic.js';

export interface VacuumOptions {
  /** How often the dead-row count is looked at. */
  intervalMs: number;
  /** Vacuum once the table holds this many dead row versions. */
  minDeadRows: number;
  /** The deadline of the dead-row count, and of the vacuum itself (ms). */
  checkTimeoutMs: number;
  vacuumTimeoutMs: number;
}

export interface VacuumHooks {
  onError(error: unknown): void;
}

export class JobsVacuum {
  private readonly task: PeriodicTask;

  constructor(
    private readonly queries: Queries,
    private readonly options: VacuumOptions,
    private readonly hooks: VacuumHooks,
  ) {
    this.task = new PeriodicTask(options.intervalMs, () => this.vacuumIfNeeded());
  }

  start(): void {
    this.task.start();
  }

  /** Looks now; resolves when the look (and a vacuum it started) is done. */
  check(): Promise<void> {
    return this.task.check();
  }

  /**
   * Stops the timer; resolves when a vacuum under way is done (it is short when it runs this
   * often, and bounded by its deadline).
   */
  stop(): Promise<void> {
    return this.task.stop();
  }

  private async vacuumIfNeeded(): Promise<void> {
    try {
      const { deadRows, canVacuum } = await this.queries.jobsTableHealth({ timeoutMs: this.options.checkTimeoutMs });
      if (deadRows < this.options.minDeadRows) return;
      if (!canVacuum) {
        this.task.cancel();
        this.hooks.onError(
          new PgQueueError(
            'DATABASE_ERROR',
            `pgqueue vacuum: the jobs table ${this.queries.names.jobs} holds ${deadRows} dead rows, and this worker's role ` +
              `does not own it, so it cannot vacuum it; dequeues slow down until autovacuum does. Run the workers as the ` +
              `table's owner, vacuum it from a role that owns it, or set vacuum: false to silence this.`,
          ),
        );
        return;
      }
      await this.queries.vacuumJobs({ timeoutMs: this.options.vacuumTimeoutMs });
    } catch (error) {
      this.hooks.onError(error);
    }
  }
}
