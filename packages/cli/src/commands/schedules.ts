/**
 * pgq schedules list | pause | resume | remove | run-now: the operator's side of the schedules
 * registered in code (docs/schedules.md), over the core's Schedules class.
 *
 * Like the job commands, the commands that name schedules check every name first and change
 * nothing when one is unknown or in a state the command cannot act on (exit 6). Asking for the
 * state a schedule is already in (pausing a paused one) is not an error: scripts can repeat it.
 */
import { Schedules, type Schedule } from '@pgqueue/core';
import { Argument, type Command } from 'commander';
import { globalsOf, withConnection } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatSeconds, print, printJson, table } from '../format.js';

/** The schema version that added the schedules table. */
const SCHEDULES_SCHEMA_VERSION = 3;

type Verb = 'paused' | 'resumed' | 'removed' | 'run';

/** What stops a schedule of this status from being acted on, or undefined when the command can. */
type Refusal = (schedule: Schedule) => string | undefined;

/**
 * The schedules named (each once, in the order given), or one line naming every unknown one and
 * every one `refuse` turns down; nothing has changed yet when it throws.
 */
async function namedSchedules(schedules: Schedules, names: readonly string[], verb: Verb, refuse: Refusal = () => undefined): Promise<Schedule[]> {
  const byName = new Map((await schedules.list()).map((schedule) => [schedule.name, schedule]));
  const wanted = [...new Set(names)];
  const unknown = wanted.filter((name) => !byName.has(name));
  const problems = [
    ...(unknown.length === 0 ? [] : [`no schedule named ${unknown.map((name) => JSON.stringify(name)).join(', ')} (pgq schedules list shows them)`]),
    ...wanted.flatMap((name) => {
      const schedule = byName.get(name);
      const why = schedule === undefined ? undefined : refuse(schedule);
      return why === undefined ? [] : [why];
    }),
  ];
  if (problems.length > 0) throw new CliError(`${problems.join('; ')}; nothing was ${verb}.`, EXIT.jobState);
  return wanted.map((name) => byName.get(name)!);
}

const refuseDisabled =
  (what: string): Refusal =>
  (schedule) =>
    schedule.status === 'disabled'
      ? `schedule "${schedule.name}" is disabled (the code no longer registers it): ${what}`
      : undefined;

/** A schedule as --json shows it: dates as ISO text, nextRun null when the expression has no tick left. */
function scheduleJson(schedule: Schedule): Record<string, unknown> {
  const { nextRun, lastRun, heartbeatAt, createdAt, updatedAt, ...rest } = schedule;
  return {
    ...rest,
    nextRun: nextRun?.toISOString() ?? null,
    lastRun: lastRun?.toISOString() ?? null,
    heartbeatAt: heartbeatAt.toISOString(),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
}

/** When the next tick fires, relative to `now`; a paused or disabled schedule's stored tick means nothing (resume recomputes it). */
function nextRunText(schedule: Schedule, now: number): string {
  if (schedule.status !== 'active') return '-';
  if (schedule.nextRun === null) return 'never (no tick left)';
  const inMs = schedule.nextRun.getTime() - now;
  const relative = inMs >= 0 ? `in ${formatSeconds(inMs / 1000)}` : `due ${formatSeconds(-inMs / 1000)} ago`;
  return `${schedule.nextRun.toISOString()} (${relative})`;
}

const HEADERS = ['NAME', 'ENTRYPOINT', 'EXPRESSION', 'TIMEZONE', 'STATUS', 'NEXT RUN', 'LAST RUN', 'MISSED', 'SKIP WHILE RUNNING'] as const;

function scheduleRow(schedule: Schedule, now: number): string[] {
  return [
    schedule.name,
    schedule.entrypoint,
    schedule.expression,
    schedule.timezone,
    schedule.status,
    nextRunText(schedule, now),
    schedule.lastRun?.toISOString() ?? '',
    schedule.missed,
    schedule.skipWhileRunning ? 'yes' : 'no',
  ];
}

const namesArgument = (what: string) => new Argument('<names...>', `the schedules to ${what}, by name`);

/** Runs `fn` with a Schedules of this installation, once it is known to have the schedules table. */
function withSchedules(command: Command, fn: (schedules: Schedules) => Promise<void>): Promise<void> {
  return withConnection(command, ({ driver, schemaOptions }) => fn(new Schedules(driver, schemaOptions)), {
    minimumVersion: { version: SCHEDULES_SCHEMA_VERSION, purpose: 'pgq schedules needs its schedules table' },
  });
}

export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('list the schedules registered in code, pause, resume or remove them, or run one now');

  schedules
    .command('list')
    .description('every schedule: entrypoint, expression, time zone, status, next and last run, policies')
    .option('--json', 'print the schedules as JSON')
    .action(async (_options, command: Command) => {
      await withSchedules(command, async (all) => {
        const rows = await all.list();
        if (globalsOf(command).json) return printJson(rows.map(scheduleJson));
        if (rows.length === 0) return print('no schedule: register them in code with qm.schedule() (docs/schedules.md)');
        const now = Date.now();
        print(table(HEADERS, rows.map((row) => scheduleRow(row, now))));
      });
    });

  schedules
    .command('pause')
    .description('stop active schedules from firing until resumed (survives restarts)')
    .addArgument(namesArgument('pause'))
    .option('--json', 'print the result as JSON')
    .action(async (names: string[], _options, command: Command) => {
      await withSchedules(command, async (all) => {
        const named = await namedSchedules(all, names, 'paused', refuseDisabled('it does not fire'));
        const paused = await all.pause(named.filter((s) => s.status === 'active').map((s) => s.name));
        const unchanged = named.map((s) => s.name).filter((name) => !paused.includes(name));
        if (globalsOf(command).json) return printJson({ paused, unchanged });
        if (paused.length > 0) print(`paused ${paused.length} schedule(s): ${paused.join(' ')}`);
        if (unchanged.length > 0) print(`already paused: ${unchanged.join(' ')}`);
      });
    });

  schedules
    .command('resume')
    .description('let paused schedules fire again from their next tick (ticks passed while paused are not run)')
    .addArgument(namesArgument('resume'))
    .option('--json', 'print the result as JSON')
    .action(async (names: string[], _options, command: Command) => {
      await withSchedules(command, async (all) => {
        const named = await namedSchedules(all, names, 'resumed', refuseDisabled('register it in code again to revive it'));
        const resumed = await all.resume(named.filter((s) => s.status === 'paused').map((s) => s.name));
        const unchanged = named.map((s) => s.name).filter((name) => !resumed.includes(name));
        if (globalsOf(command).json) return printJson({ resumed, unchanged });
        if (resumed.length > 0) print(`resumed ${resumed.length} schedule(s) from their next tick: ${resumed.join(' ')}`);
        if (unchanged.length > 0) print(`already active: ${unchanged.join(' ')}`);
      });
    });

  schedules
    .command('remove')
    .description('delete schedules (their enqueued jobs stay); remove them from the code too, or the next start writes them again')
    .addArgument(namesArgument('remove'))
    .option('--json', 'print the result as JSON')
    .action(async (names: string[], _options, command: Command) => {
      await withSchedules(command, async (all) => {
        const named = await namedSchedules(all, names, 'removed');
        const removed = await all.remove(named.map((s) => s.name));
        if (globalsOf(command).json) return printJson({ removed });
        print(`removed ${removed.length} schedule(s): ${removed.join(' ')} (a process that still registers one writes it again when it starts)`);
      });
    });

  schedules
    .command('run-now')
    .description('enqueue one job of each schedule now, whatever its status, without moving its next tick')
    .addArgument(namesArgument('run'))
    .option('--json', 'print the result as JSON')
    .action(async (names: string[], _options, command: Command) => {
      await withSchedules(command, async (all) => {
        const named = await namedSchedules(all, names, 'run');
        const enqueued: { name: string; id: number }[] = [];
        const skipped: string[] = [];
        for (const schedule of named) {
          const id = await all.runNow(schedule.name);
          if (id === null) skipped.push(schedule.name);
          else enqueued.push({ name: schedule.name, id });
        }
        if (globalsOf(command).json) printJson({ enqueued, skipped });
        else for (const { name, id } of enqueued) print(`enqueued job ${id} of schedule ${name}`);
        if (skipped.length > 0) {
          throw new CliError(
            `schedule(s) ${skipped.join(' ')} enqueued nothing: they skip while running and their previous job is still queued or running`,
            EXIT.jobState,
          );
        }
      });
    });
}
