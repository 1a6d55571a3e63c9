/**
 * Cron expressions, time zones and DST through croner, never by hand. Expressions have five
 * fields (minute resolution), six (seconds first) or seven (seconds first, year last), or a
 * nickname such as @hourly. croner's DST rules apply: a fixed-time expression (`30 2 * * *`)
 * whose time falls in a spring-forward gap runs at the first time after the gap, and once when
 * the time occurs twice in autumn; an interval expression (`*\/30 * * * *`) skips times in the
 * gap and runs at both occurrences of a repeated time.
 */
import { Cron } from 'croner';
import { invalidArgument } from '../errors.js';

export const DEFAULT_TIMEZONE = 'UTC';

/** A parsed expression in its time zone: the ticks it yields. */
export interface CronTicks {
  readonly expression: string;
  readonly timezone: string;
  /** The first tick strictly after `afterMs` (epoch ms), or null when there is none. */
  nextAfter(afterMs: number): number | null;
}

/**
 * Parses an expression in a time zone, or throws INVALID_ARGUMENT quoting both and saying what
 * is wrong. `where` prefixes the message (e.g. `QueueManager.schedule("report")`).
 */
export function parseCron(expression: unknown, timezone: unknown, where: string): CronTicks {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw invalidArgument(`${where}: the cron expression must be a non-empty string, got ${JSON.stringify(expression)}.`);
  }
  if (typeof timezone !== 'string' || timezone === '') {
    throw invalidArgument(`${where}: timezone must be an IANA time zone name such as "Europe/Berlin", got ${JSON.stringify(timezone)}.`);
  }
  checkTimezone(timezone, where);
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true });
  } catch (error) {
    throw invalidArgument(
      `${where}: invalid cron expression "${expression}": ${(error as Error).message.replace(/^CronPattern: /, '')} ` +
        `Use five fields (minute hour day-of-month month day-of-week), six with seconds first, or a nickname such as @hourly.`,
    );
  }
  // croner also accepts a date ("2026-01-01T00:00") as a one-off run: not a schedule.
  if (cron.getPattern() === undefined) {
    throw invalidArgument(`${where}: invalid cron expression "${expression}": it reads as a date, not a recurring expression.`);
  }
  const ticks: CronTicks = {
    expression,
    timezone,
    nextAfter(afterMs) {
      return cron.nextRun(new Date(afterMs))?.getTime() ?? null;
    },
  };
  return ticks;
}

/** Throws unless the platform's time zone database knows `timezone`. */
function checkTimezone(timezone: string, where: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw invalidArgument(
      `${where}: unknown time zone "${timezone}": use an IANA name such as "UTC", "Europe/Berlin" or "America/New_York".`,
    );
  }
}

/** Parsed expressions by expression and time zone: a scheduler parses each row's once. */
export class CronCache {
  private readonly parsed = new Map<string, CronTicks>();

  get(expression: string, timezone: string, where: string): CronTicks {
    const key = `${timezone}\u0000${expression}`;
    let ticks = this.parsed.get(key);
    if (ticks === undefined) {
      ticks = parseCron(expression, timezone, where);
      this.parsed.set(key, ticks);
    }
    return ticks;
  }
}
