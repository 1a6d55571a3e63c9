/**
 * pgq schedules, run as the real program in a child process against the real server in
 * DATABASE_URL (skipped without it), on schedules written the way a worker registers them.
 * Each spawn costs a second or two, so the file has two tests: bad input, then every subcommand.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queries, Schedules, defineSchedule, installSchema, listJobs, type ScheduleHeader } from '@pgqueue/core';
import { schemaV1Sql } from '@pgqueue/core/testing';
import { createPgDriver, type PgDriver } from '@pgqueue/pg';
import { expectFailure, pgq, pgqJson } from './run-pgq.js';

const url = process.env.DATABASE_URL;

interface ScheduleJson {
  name: string;
  entrypoint: string;
  expression: string;
  timezone: string;
  status: string;
  skipWhileRunning: boolean;
  nextRun: string | null;
  lastRun: string | null;
}

describe.skipIf(url === undefined)('pgq schedules against PostgreSQL', () => {
  const schema = `pgq_sched_${randomBytes(4).toString('hex')}`;
  const old = `${schema}_v1`;
  const s = ['--schema', schema];
  let admin: PgDriver;
  let schedules: Schedules;

  beforeAll(async () => {
    admin = createPgDriver(url!, { max: 2 });
    await installSchema(admin, { schema });
    schedules = new Schedules(admin, { schema });
    const daily = defineSchedule('0 7 * * 1-5', 'report', { name: 'report-daily', timezone: 'Europe/Berlin', payload: { kind: 'daily' } });
    const cleanup = defineSchedule('*/30 * * * * *', 'cleanup', { skipWhileRunning: true, missed: 'skip' });
    // Registered once, then no longer by code that still owns its entrypoint: disabled, as a deploy leaves it.
    await schedules.sync([daily, cleanup, defineSchedule('@hourly', 'legacy')]);
    expect((await schedules.sync([daily, cleanup], { owned: ['legacy'] })).disabled).toEqual(['legacy']);
  });
  afterAll(async () => {
    for (const name of [schema, old]) await admin?.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await admin?.close();
  });

  it('answers bad input with one line and its exit code, and changes nothing', async () => {
    const before = await schedules.list();
    await expectFailure(['schedules', 'pause', 'report-daily', 'nope', ...s], 6, /no schedule named "nope" \(pgq schedules list shows them\); nothing was paused/);
    await expectFailure(['schedules', 'remove', 'report-daily', 'nope', 'gone', ...s], 6, /no schedule named "nope", "gone" .*nothing was removed/);
    await expectFailure(['schedules', 'resume', 'legacy', ...s], 6, /schedule "legacy" is disabled \(the code no longer registers it\): register it in code again/);
    await expectFailure(['schedules', 'run-now', ...s], 2, /missing required argument 'names'/);
    await expectFailure(['schedules', 'stop', 'report-daily', ...s], 2, /unknown command 'stop'/);
    expect(await schedules.list()).toEqual(before);
    expect(await listJobs(admin, { schema, limit: 10 })).toEqual([]);

    await expectFailure(['schedules', 'list', '--url', 'postgres://postgres@127.0.0.1:1/none'], 3, /cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/none/);
    await expectFailure(['schedules', 'list', '--schema', `${schema}_missing`], 4, new RegExp(`not installed at "${schema}_missing"\\."pgqueuer".*run pgq install`));
    // A schema from before the schedules table: the upgrade adds it.
    await admin.exec(schemaV1Sql(old));
    await expectFailure(['schedules', 'list', '--schema', old], 5, new RegExp(`at schema version 1, and pgq schedules needs its schedules table \\(version 3\\): run pgq upgrade --schema ${old}`));
  });

  it('lists, pauses, resumes, runs now and removes schedules', async () => {
    const listed = await pgqJson<ScheduleJson[]>(['schedules', 'list', ...s]);
    expect(listed.map(({ name, entrypoint, expression, timezone, status, skipWhileRunning }) => ({ name, entrypoint, expression, timezone, status, skipWhileRunning }))).toEqual([
      { name: 'cleanup', entrypoint: 'cleanup', expression: '*/30 * * * * *', timezone: 'UTC', status: 'active', skipWhileRunning: true },
      { name: 'legacy', entrypoint: 'legacy', expression: '@hourly', timezone: 'UTC', status: 'disabled', skipWhileRunning: false },
      { name: 'report-daily', entrypoint: 'report', expression: '0 7 * * 1-5', timezone: 'Europe/Berlin', status: 'active', skipWhileRunning: false },
    ]);
    const daily = listed[2]!;
    expect(daily.nextRun).toBe((await schedules.list())[2]!.nextRun!.toISOString());
    expect(daily.lastRun).toBeNull();
    const text = await pgq(['schedules', 'list', ...s]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ENTRYPOINT\s+EXPRESSION\s+TIMEZONE\s+STATUS\s+NEXT RUN\s+LAST RUN\s+MISSED\s+SKIP WHILE RUNNING$/);
    expect(lines[1]).toMatch(/^cleanup\s+cleanup\s+\*\/30 \* \* \* \* \*\s+UTC\s+active\s+\S+Z \((in|due) \d+m?s( ago)?\)\s+skip\s+yes$/);
    expect(lines[2]).toMatch(/^legacy\s+legacy\s+@hourly\s+UTC\s+disabled\s+-\s+runOnce\s+no$/);
    expect(lines[3]).toMatch(/^report-daily\s+report\s+0 7 \* \* 1-5\s+Europe\/Berlin\s+active\s+/);

    expect(await pgqJson(['schedules', 'pause', 'report-daily', 'cleanup', ...s])).toEqual({ paused: ['cleanup', 'report-daily'], unchanged: [] });
    expect(await pgq(['schedules', 'pause', 'report-daily', ...s])).toEqual({ code: 0, stdout: 'already paused: report-daily\n', stderr: '' });
    expect((await schedules.list()).map((schedule) => schedule.status)).toEqual(['paused', 'disabled', 'paused']);

    const resumedAt = Date.now();
    expect(await pgq(['schedules', 'resume', 'cleanup', ...s])).toEqual({ code: 0, stdout: 'resumed 1 schedule(s) from their next tick: cleanup\n', stderr: '' });
    const cleanup = (await schedules.list())[0]!;
    expect(cleanup.status).toBe('active');
    // From the next tick after the resume, within the 30 s interval.
    expect(cleanup.nextRun!.getTime()).toBeGreaterThan(resumedAt);
    expect(cleanup.nextRun!.getTime()).toBeLessThanOrEqual(Date.now() + 30_000);

    // A paused schedule runs now too; one that skips while running does not run twice.
    const ran = await pgqJson<{ enqueued: { name: string; id: number }[]; skipped: string[] }>(['schedules', 'run-now', 'report-daily', 'cleanup', ...s]);
    expect(ran.enqueued.map((job) => job.name)).toEqual(['report-daily', 'cleanup']);
    expect(ran.skipped).toEqual([]);
    const jobs = await new Queries(admin, { schema }).getJobs(ran.enqueued.map((job) => job.id));
    expect(jobs.map((job) => [job.entrypoint, (job.headers as { schedule: ScheduleHeader }).schedule.manual])).toEqual([
      ['report', true],
      ['cleanup', true],
    ]);
    const again = await pgq(['schedules', 'run-now', 'cleanup', '--json', ...s]);
    expect(again.code).toBe(6);
    expect(JSON.parse(again.stdout)).toEqual({ enqueued: [], skipped: ['cleanup'] });
    expect(again.stderr).toBe('pgq: schedule(s) cleanup enqueued nothing: they skip while running and their previous job is still queued or running\n');
    // run-now leaves the next tick where it was, and pause/resume kept report-daily's (it stayed paused).
    expect((await schedules.list())[2]!.nextRun!.toISOString()).toBe(daily.nextRun);

    expect(await pgqJson(['schedules', 'remove', 'legacy', 'report-daily', ...s])).toEqual({ removed: ['legacy', 'report-daily'] });
    expect((await schedules.list()).map((schedule) => schedule.name)).toEqual(['cleanup']);
    // The jobs it enqueued stay.
    expect(await new Queries(admin, { schema }).getJobs([ran.enqueued[0]!.id])).toHaveLength(1);
  });
});
