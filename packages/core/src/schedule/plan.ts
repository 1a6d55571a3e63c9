/**
 * Which jobs a due schedule gets, decided from its next_run and the server clock alone, so every
 * scheduler of a fleet plans the same ticks (and only one of them gets to claim them).
 *
 * A tick at most `missedAfterMs` old is on time, however late: each such tick gets its own job,
 * so a busy or briefly stalled fleet loses none. An older tick was missed (nothing ran while it
 * came due): with `run_once` all missed ticks together get one job, marked `missed`, carrying the
 * first missed tick; with `skip` they get none. Either way next_run moves to the first tick not
 * handled, and ticks are never walked one by one through a long downtime: the planner jumps
 * straight to the first on-time tick.
 */
import type { CronTicks } from './cron.js';

export type MissedPolicy = 'run_once' | 'skip';

/** Most jobs one claim enqueues for one schedule; the rest are claimed by the next round, at once. */
export const MAX_TICKS_PER_CLAIM = 100;

export interface TickJob {
  /** The tick the job is for (epoch ms). */
  tickMs: number;
  /** Set on the one job standing for ticks missed while nothing ran. */
  missed: boolean;
}

export interface TickPlan {
  jobs: TickJob[];
  /** The first tick not handled (epoch ms), or null when the expression has none left. */
  nextRunMs: number | null;
  /** The tick of the plan's last job (epoch ms); null when it has none. */
  lastTickMs: number | null;
  /** Whether missed ticks were found (enqueued as one job or skipped, by the policy). */
  missed: boolean;
  /** True when MAX_TICKS_PER_CLAIM cut the plan short: more ticks are due already. */
  more: boolean;
}

export interface PlanInput {
  ticks: CronTicks;
  /** The schedule's next_run, the first tick not handled yet (epoch ms); due: ≤ nowMs. */
  nextRunMs: number;
  /** The server clock (epoch ms). */
  nowMs: number;
  missed: MissedPolicy;
  missedAfterMs: number;
  maxTicks?: number;
}

export function planTicks(input: PlanInput): TickPlan {
  const { ticks, nowMs } = input;
  const maxTicks = input.maxTicks ?? MAX_TICKS_PER_CLAIM;
  const jobs: TickJob[] = [];
  let tick: number | null = input.nextRunMs;
  let missed = false;
  const onTimeFrom = nowMs - input.missedAfterMs;
  if (tick < onTimeFrom) {
    missed = true;
    if (input.missed === 'run_once') jobs.push({ tickMs: tick, missed: true });
    // The latest missed tick is the last one at or before onTimeFrom; the next one after it is on time.
    tick = ticks.nextAfter(onTimeFrom);
  }
  while (tick !== null && tick <= nowMs && jobs.length < maxTicks) {
    jobs.push({ tickMs: tick, missed: false });
    tick = ticks.nextAfter(tick);
  }
  const lastTickMs = jobs.length === 0 ? null : jobs[jobs.length - 1]!.tickMs;
  return { jobs, nextRunMs: tick, lastTickMs, missed, more: tick !== null && tick <= nowMs };
}
