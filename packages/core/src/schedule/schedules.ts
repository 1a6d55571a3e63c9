/**
 * Every schedule operation as statements over a Driver: registering the schedules in code, the
 * scheduler's tick (read what is due, plan it in JS, claim it in one statement), and what an
 * operator does (list, pause, resume, remove, run now). The statements live in sql/schedules.ts.
 */
import type { Driver, Queryable, QueryResult, SqlParam } from '../driver.js';
import { PgQueueError, invalidArgument, toPgQueueError } from '../errors.js';
import type { JobId } from '../job.js';
import { resolveNames, type Names, type SchemaOptions } from '../names.js';
import { numberArray, parseId, parseIdArray, parseNumber, textArray } from '../params.js';
import {
  claimTicksSql,
  dueSchedulesSql,
  listSchedulesSql,
  pauseSchedulesSql,
  removeSchedulesSql,
  resumeSchedulesSql,
  runScheduleNowSql,
  schedulesByNameSql,
  syncSchedulesSql,
} from '../sql/schedules.js';
import { CronCache } from './cron.js';
import type { ScheduleDefinition } from './definition.js';
import { planTicks, type MissedPolicy } from './plan.js';

export type ScheduleStatus = 'active' | 'paused' | 'disabled';

export interface Schedule {
  name: string;
  expression: string;
  timezone: string;
  entrypoint: string;
  priority: number;
  missed: 'runOnce' | 'skip';
  missedAfterMs: number;
  skipWhileRunning: boolean;
  /** active: fires; paused: by an operator, until resumed; disabled: no longer registered by the code. */
  status: ScheduleStatus;
  /** The next tick to enqueue; null when the expression has none left. */
  nextRun: Date | null;
  /** The tick of the latest job enqueued by a tick (not by runNow). */
  lastRun: Date | null;
  /** When a scheduler last registered or claimed it. */
  heartbeatAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** What the `schedule` header of a schedule's job holds. */
export interface ScheduleHeader {
  name: string;
  /** The tick, ISO 8601 in UTC. */
  tick: string;
  /** On the one job standing for ticks missed while no scheduler ran (policy runOnce). */
  missed?: true;
  /** On a job enqueued by runNow rather than by a tick. */
  manual?: true;
}

export interface SyncResult {
  created: string[];
  /** Registered rows whose definition changed (or that came back from disabled). */
  updated: string[];
  /** Rows of the owned entrypoints that the code no longer registers. */
  disabled: string[];
}

export interface ScheduledJob {
  id: JobId;
  schedule: string;
  tick: Date;
  missed: boolean;
}

export interface TickResult {
  /** Jobs enqueued by this round. */
  jobs: ScheduledJob[];
  /** Schedules this round advanced; due ones it found already claimed by another scheduler are not counted. */
  claimed: number;
  /** Run again at once: more ticks are due than one round takes. */
  more: boolean;
  /** How long until the earliest active schedule of the entrypoints is due (≥ 0), or null when none is active. */
  nextDueInMs: number | null;
  /** Schedules whose stored expression or time zone this version cannot read: left as they are. */
  unreadable: { name: string; error: PgQueueError }[];
}

/** The dedupe key a schedule's jobs carry when it skips ticks while one is queued or running. */
export function scheduleDedupeKey(name: string): string {
  return `pgqueue:schedule:${name}`;
}

/** Due schedules one round reads at most. */
const DUE_LIMIT = 100;

interface ScheduleRowText {
  id: string;
  name: string;
  expression: string;
  timezone: string;
  entrypoint: string;
  priority: number;
  missed: MissedPolicy;
  missedafterms: number;
  skipwhilerunning: boolean;
  status: ScheduleStatus;
  nextrunepoch: string;
  lastrunms: number | null;
  heartbeatms: number;
  createdms: number;
  updatedms: number;
}

interface DueRow {
  id: string;
  name: string;
  expression: string;
  timezone: string;
  missed: MissedPolicy;
  missedafterms: number;
  nextrunepoch: string;
}

export class Schedules {
  readonly driver: Driver;
  readonly names: Names;
  private readonly crons = new CronCache();

  constructor(driver: Driver, options: SchemaOptions = {}) {
    this.driver = driver;
    this.names = resolveNames(options);
  }

  /**
   * Makes the table agree with the code in one statement: writes the `definitions` (new ones
   * from their next tick after now; changed ones updated, keeping their next tick unless the
   * expression or time zone changed), and disables the schedules of the `owned` entrypoints
   * that the definitions no longer name.
   */
  async sync(definitions: readonly ScheduleDefinition[], options: { owned?: readonly string[] } = {}): Promise<SyncResult> {
    const sorted = [...definitions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.name === sorted[i - 1]!.name) {
        throw invalidArgument(`schedules: two schedules are named "${sorted[i]!.name}": give each a name of its own (the name option).`);
      }
    }
    const owned = [...new Set([...(options.owned ?? []), ...sorted.map((definition) => definition.entrypoint)])];
    const now = Date.now();
    const { rows } = await this.run<{ created: string | null; updated: string | null; disabled: string | null }>(
      'schedules.sync',
      syncSchedulesSql(this.names),
      [
        textArray(sorted.map((d) => d.name)),
        textArray(sorted.map((d) => d.expression)),
        textArray(sorted.map((d) => d.timezone)),
        textArray(sorted.map((d) => d.entrypoint)),
        textArray(sorted.map((d) => d.payloadHex)),
        numberArray(sorted.map((d) => d.priority)),
        textArray(sorted.map((d) => d.missed)),
        numberArray(sorted.map((d) => d.missedAfterMs)),
        `{${sorted.map((d) => (d.skipWhileRunning ? 't' : 'f')).join(',')}}`,
        numberArray(sorted.map((d) => d.ticks.nextAfter(now))),
        textArray(owned),
      ],
    );
    const row = rows[0];
    const names = (json: string | null | undefined) => JSON.parse(json ?? '[]') as string[];
    return { created: names(row?.created), updated: names(row?.updated), disabled: names(row?.disabled) };
  }

  /**
   * One scheduler round for the schedules of `entrypoints`: reads the due ones, plans their
   * ticks against the server clock, and claims them with their jobs in one statement. Safe to
   * run from any number of schedulers at once: each tick is enqueued by exactly one of them.
   */
  async tick(entrypoints: readonly string[], statement: { executor?: Queryable } = {}): Promise<TickResult> {
    const db = statement.executor ?? this.driver;
    const read = await this.run<{ nowms: number; earliestms: number | null; due: string | null }>(
      'schedules.due',
      dueSchedulesSql(this.names),
      [textArray(entrypoints), String(DUE_LIMIT)],
      db,
    );
    const nowMs = parseNumber(read.rows[0]?.nowms);
    const earliest = read.rows[0]?.earliestms;
    const due = JSON.parse(read.rows[0]?.due ?? '[]') as DueRow[];
    const result: TickResult = { jobs: [], claimed: 0, more: due.length === DUE_LIMIT, nextDueInMs: null, unreadable: [] };
    if (earliest !== null && earliest !== undefined) result.nextDueInMs = Math.max(0, parseNumber(earliest) - nowMs);
    if (due.length === 0) return result;

    const ids: number[] = [];
    const expected: string[] = [];
    const nextRuns: (number | null)[] = [];
    const lastTicks: (number | null)[] = [];
    const jobSchedules: number[] = [];
    const jobHeaders: string[] = [];
    for (const row of due) {
      let plan;
      try {
        const ticks = this.crons.get(row.expression, row.timezone, `schedule "${row.name}"`);
        plan = planTicks({
          ticks,
          nextRunMs: Number(row.nextrunepoch) * 1000,
          nowMs,
          missed: row.missed,
          missedAfterMs: parseNumber(row.missedafterms),
        });
      } catch (error) {
        result.unreadable.push({ name: row.name, error: toPgQueueError(error, { operation: 'schedules.tick' }) });
        continue;
      }
      const id = parseId(row.id);
      ids.push(id);
      expected.push(row.nextrunepoch);
      nextRuns.push(plan.nextRunMs);
      lastTicks.push(plan.lastTickMs);
      result.more ||= plan.more;
      for (const job of plan.jobs) {
        const header: ScheduleHeader = { name: row.name, tick: new Date(job.tickMs).toISOString(), ...(job.missed ? { missed: true } : {}) };
        jobSchedules.push(id);
        jobHeaders.push(JSON.stringify({ schedule: header }));
      }
    }
    if (ids.length === 0) return result;
    const { rows } = await this.run<{ claimed: string | null; jobs: string | null }>(
      'schedules.claim',
      claimTicksSql(this.names),
      [
        numberArray(ids),
        textArray(expected),
        numberArray(nextRuns),
        numberArray(lastTicks),
        numberArray(jobSchedules),
        textArray(jobHeaders),
        this.names.channel,
      ],
      db,
    );
    result.claimed = parseIdArray(rows[0]?.claimed).length;
    const jobs = JSON.parse(rows[0]?.jobs ?? '[]') as { id: string; headers: { schedule: ScheduleHeader } }[];
    result.jobs = jobs.map((job) => ({
      id: parseId(job.id),
      schedule: job.headers.schedule.name,
      tick: new Date(job.headers.schedule.tick),
      missed: job.headers.schedule.missed === true,
    }));
    // The next round sees the advanced rows; an earlier due time than the one read may now apply.
    if (result.claimed > 0) result.nextDueInMs = 0;
    return result;
  }

  /** Every schedule, by name. */
  async list(): Promise<Schedule[]> {
    const { rows } = await this.run<ScheduleRowText>('schedules.list', listSchedulesSql(this.names), []);
    return rows.map(parseSchedule);
  }

  /** Stops the named active schedules from firing until resumed. Returns the names paused. */
  async pause(names: readonly string[]): Promise<string[]> {
    checkNames(names, 'schedules.pause');
    const { rows } = await this.run<{ name: string }>('schedules.pause', pauseSchedulesSql(this.names), [textArray(names)]);
    return rows.map((row) => row.name).sort();
  }

  /**
   * Lets the named paused schedules fire again, from their next tick after now: the ticks that
   * passed while paused are not run. Returns the names resumed.
   */
  async resume(names: readonly string[]): Promise<string[]> {
    checkNames(names, 'schedules.resume');
    const { rows } = await this.run<ScheduleRowText>('schedules.resume', schedulesByNameSql(this.names), [textArray(names)]);
    const paused = rows.filter((row) => row.status === 'paused');
    if (paused.length === 0) return [];
    const now = Date.now();
    const next = paused.map((row) => this.crons.get(row.expression, row.timezone, `schedule "${row.name}"`).nextAfter(now));
    const resumed = await this.run<{ name: string }>('schedules.resume', resumeSchedulesSql(this.names), [
      textArray(paused.map((row) => row.name)),
      textArray(paused.map((row) => row.expression)),
      numberArray(next),
    ]);
    return resumed.rows.map((row) => row.name).sort();
  }

  /**
   * Deletes the named schedules; their jobs already enqueued stay. A process that still
   * registers one creates it again when it starts: remove it from the code as well.
   * Returns the names removed.
   */
  async remove(names: readonly string[]): Promise<string[]> {
    checkNames(names, 'schedules.remove');
    const { rows } = await this.run<{ name: string }>('schedules.remove', removeSchedulesSql(this.names), [textArray(names)]);
    return rows.map((row) => row.name).sort();
  }

  /**
   * Enqueues one job of the named schedule now, whatever its status, without moving its next
   * tick. Returns the job's id, or null when the schedule skips while running and its job is
   * still queued or running. Throws INVALID_ARGUMENT for an unknown name.
   */
  async runNow(name: string): Promise<JobId | null> {
    checkNames([name], 'schedules.runNow');
    const header: ScheduleHeader = { name, tick: new Date().toISOString(), manual: true };
    const { rows } = await this.run<{ found: number; id: string | null }>('schedules.runNow', runScheduleNowSql(this.names), [
      name,
      JSON.stringify({ schedule: header }),
      this.names.channel,
    ]);
    if (parseNumber(rows[0]?.found ?? 0) === 0) {
      throw invalidArgument(`schedules.runNow: there is no schedule named "${name}" (list() shows the schedules).`);
    }
    return rows[0]?.id === null || rows[0]?.id === undefined ? null : parseId(rows[0].id);
  }

  private async run<Row>(operation: string, text: string, params: readonly SqlParam[], db: Queryable = this.driver): Promise<QueryResult<Row>> {
    try {
      return await db.query<Row>(text, params);
    } catch (error) {
      throw toPgQueueError(error, { operation, driver: this.driver.name, installHint: 'installSchema(driver, options)' });
    }
  }
}

function checkNames(names: readonly string[], where: string): void {
  if (!Array.isArray(names)) throw invalidArgument(`${where}: expected an array of schedule names.`);
  for (const name of names) {
    if (typeof name !== 'string' || name === '') throw invalidArgument(`${where}: a schedule name must be a non-empty string, got ${JSON.stringify(name)}.`);
  }
}

function parseSchedule(row: ScheduleRowText): Schedule {
  const nextRun = Number(row.nextrunepoch);
  return {
    name: row.name,
    expression: row.expression,
    timezone: row.timezone,
    entrypoint: row.entrypoint,
    priority: parseNumber(row.priority),
    missed: row.missed === 'run_once' ? 'runOnce' : 'skip',
    missedAfterMs: parseNumber(row.missedafterms),
    skipWhileRunning: row.skipwhilerunning,
    status: row.status,
    nextRun: Number.isFinite(nextRun) ? new Date(Math.round(nextRun * 1000)) : null,
    lastRun: row.lastrunms === null ? null : new Date(parseNumber(row.lastrunms)),
    heartbeatAt: new Date(parseNumber(row.heartbeatms)),
    createdAt: new Date(parseNumber(row.createdms)),
    updatedAt: new Date(parseNumber(row.updatedms)),
  };
}
