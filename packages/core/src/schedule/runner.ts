/**
 * The scheduler a QueueManager runs beside its worker loop. On start it registers the
 * schedules in code (and disables the ones of its entrypoints that the code dropped), retrying
 * until the database answers. Then, if it has any schedule, it runs rounds: one read of what is
 * due and one claiming statement, then sleeps until the earliest next_run of its entrypoints
 * (server clock), never longer than POLL_MS so it sees schedules resumed or registered by other
 * processes. Every process of a fleet runs one, and the claim makes exactly one of them enqueue
 * each tick; a process killed mid-round leaves nothing behind (its claim rolls back with its
 * connection) and the others take the tick in their next round, within POLL_MS.
 */
import { Backoff } from '../backoff.js';
import { withDeadline } from '../deadline.js';
import { PgQueueError } from '../errors.js';
import { Wakeup } from '../worker/wake.js';
import type { ScheduleDefinition } from './definition.js';
import type { ScheduledJob, Schedules } from './schedules.js';

/** Longest sleep between rounds. */
export const POLL_MS = 1_000;
/** Woken this long after the earliest next_run, so the server's now() has passed it. */
const DUE_SLACK_MS = 5;
/** A due tick that another scheduler holds locked right now: look again after this. */
const BUSY_RETRY_MS = 50;

export interface ScheduleRunnerConfig {
  definitions: readonly ScheduleDefinition[];
  /** Entrypoints whose schedules this process answers for besides the scheduled ones (the served ones). */
  owned: readonly string[];
  statementTimeoutMs: number;
}

export interface ScheduleRunnerHooks {
  /** Every statement goes through here (the worker's turn-taking on a single-connection driver). */
  runStatement<T>(statement: () => Promise<T>): Promise<T>;
  onError(error: unknown): void;
  onEnqueued?(jobs: readonly ScheduledJob[]): void;
}

export class ScheduleRunner {
  private readonly wakeup = new Wakeup();
  private readonly entrypoints: string[];
  private readonly reportedUnreadable = new Set<string>();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly schedules: Schedules,
    private readonly config: ScheduleRunnerConfig,
    private readonly hooks: ScheduleRunnerHooks,
  ) {
    this.entrypoints = [...new Set([...config.owned, ...config.definitions.map((d) => d.entrypoint)])];
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Ends the rounds; a statement under way is waited for (it is bounded by statementTimeoutMs). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeup.wake();
    await this.running;
  }

  private async loop(): Promise<void> {
    if (!(await this.register())) return;
    if (this.config.definitions.length === 0) return;
    const backoff = new Backoff();
    while (!this.stopped) {
      let waitMs: number;
      try {
        const result = await this.statement('schedules.tick', () => this.schedules.tick(this.entrypoints));
        backoff.succeeded();
        for (const { name, error } of result.unreadable) {
          if (this.reportedUnreadable.has(name)) continue;
          this.reportedUnreadable.add(name);
          this.hooks.onError(error);
        }
        if (result.jobs.length > 0) this.hooks.onEnqueued?.(result.jobs);
        if (result.more) waitMs = 0;
        else if (result.nextDueInMs === null) waitMs = POLL_MS;
        else if (result.claimed === 0 && result.nextDueInMs === 0) waitMs = result.unreadable.length > 0 ? POLL_MS : BUSY_RETRY_MS;
        else waitMs = Math.min(POLL_MS, result.nextDueInMs + (result.nextDueInMs === 0 ? 0 : DUE_SLACK_MS));
      } catch (error) {
        this.hooks.onError(error);
        waitMs = backoff.failed();
      }
      if (this.stopped) break;
      this.wakeup.clear();
      if (waitMs > 0) await this.wakeup.wait(waitMs);
    }
  }

  /** Registers the definitions until it succeeds; false when stopped first or the table is missing and there is nothing to schedule. */
  private async register(): Promise<boolean> {
    const backoff = new Backoff();
    while (!this.stopped) {
      try {
        await this.statement('schedules.sync', () => this.schedules.sync(this.config.definitions, { owned: this.config.owned }));
        return true;
      } catch (error) {
        // A worker without schedules on a schema from before schedules (a rolling upgrade): it has
        // nothing to register and nothing to disable, so this is no error of its own.
        if (this.config.definitions.length === 0 && PgQueueError.isInstance(error) && error.code === 'SCHEMA_NOT_INSTALLED') return false;
        this.hooks.onError(error);
        await this.wakeup.wait(backoff.failed());
      }
    }
    return false;
  }

  private statement<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return this.hooks.runStatement(() => withDeadline(run(), this.config.statementTimeoutMs, operation));
  }
}
