/**
 * Schedules end to end, run by every adapter in the worker suite: registration, one real job per
 * tick from several workers, the missed-tick policies after a stopped fleet, skip-while-running,
 * removal from the code, the operator's operations, bad input, and the version-1 upgrade step.
 * Ticks are real seconds here; DST and time zones are checked with fixed instants in
 * packages/core/test/schedule-plan.test.ts.
 */
import { expect, it } from 'vitest';
import type { JobId } from '../job.js';
import { Queries } from '../queries.js';
import { SCHEMA_VERSION, installSchema, verifySchema } from '../schema.js';
import { getUpgradeSql, upgradeSchema } from '../upgrade.js';
import { parseCron } from '../schedule/cron.js';
import { Schedules, scheduleDedupeKey, type ScheduleHeader } from '../schedule/schedules.js';
import type { WorkerJob } from '../worker/job.js';
import { waitFor } from './wait.js';
import { gate, type TestWorker, type WorkerHarness } from './worker-harness.js';

interface Run {
  id: JobId;
  header: ScheduleHeader;
}

function scheduleHeader(job: WorkerJob): ScheduleHeader {
  return (job.headers as { schedule: ScheduleHeader }).schedule;
}

/** Distinct job ids per tick, by tick (ISO). */
function jobsPerTick(runs: readonly Run[]): Map<string, Set<JobId>> {
  const byTick = new Map<string, Set<JobId>>();
  for (const run of runs) {
    const ids = byTick.get(run.header.tick) ?? new Set<JobId>();
    ids.add(run.id);
    byTick.set(run.header.tick, ids);
  }
  return byTick;
}

/** Whole seconds from the first tick to the last, as ISO strings. */
function secondsBetween(ticks: readonly string[]): string[] {
  const sorted = [...ticks].sort();
  const out: string[] = [];
  for (let t = Date.parse(sorted[0]!); t <= Date.parse(sorted[sorted.length - 1]!); t += 1000) out.push(new Date(t).toISOString());
  return out;
}

export function scheduleCases(h: WorkerHarness): void {
  const table = () => `"${h.fx().schema}".pgqueuer_schedules`;
  const setNextRun = (name: string, sql: string) =>
    h.fx().driver.query(`UPDATE ${table()} SET next_run = ${sql} WHERE name = $1::text`, [name]);
  const scheduleNamed = async (name: string) => (await h.fx().driver.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM ${table()} WHERE name = $1::text`,
    [name],
  )).rows[0]!.n;
  const listed = async (worker: TestWorker, name: string) =>
    (await worker.qm.schedules.list()).find((schedule) => schedule.name === name);

  it('enqueues a real job per tick of a seconds expression, run and counted like any other', async () => {
    const entrypoint = h.fx().entrypoint('every_second');
    const runs: Run[] = [];
    const worker = await h.worker({ pollIntervalMs: 100 });
    worker.qm.entrypoint(entrypoint, (job) => {
      runs.push({ id: job.id, header: scheduleHeader(job) });
    });
    worker.qm.schedule('* * * * * *', entrypoint, { payload: { report: 'daily' } });
    void worker.run();
    await waitFor('three ticks to run', () => runs.length >= 3, 20_000);
    await worker.qm.stop();
    const byTick = jobsPerTick(runs);
    expect([...byTick.values()].every((ids) => ids.size === 1)).toBe(true);
    expect([...byTick.keys()].sort()).toEqual(secondsBetween([...byTick.keys()]));
    expect(runs.every((run) => run.header.name === entrypoint && run.header.missed === undefined)).toBe(true);
    const totals = await h.fx().queries.statisticsTotals();
    expect(totals.find((row) => row.entrypoint === entrypoint)).toEqual({ entrypoint, status: 'successful', count: runs.length });
    const schedule = await listed(worker, entrypoint);
    expect(schedule).toMatchObject({ status: 'active', expression: '* * * * * *', timezone: 'UTC', missed: 'runOnce' });
    expect(worker.errors).toEqual([]);
  });

  it('gives each tick exactly one job when several workers schedule it on their own connections', async () => {
    const entrypoint = h.fx().entrypoint('fleet');
    const runs: Run[] = [];
    const workers = await Promise.all([1, 2, 3].map(() => h.worker({ pollIntervalMs: 100 })));
    for (const worker of workers) {
      worker.qm.entrypoint(entrypoint, (job) => {
        runs.push({ id: job.id, header: scheduleHeader(job) });
      });
      worker.qm.schedule('* * * * * *', entrypoint);
      void worker.run();
    }
    await waitFor('five ticks to run', () => jobsPerTick(runs).size >= 5, 30_000);
    await Promise.all(workers.map((worker) => worker.qm.stop()));
    const byTick = jobsPerTick(runs);
    for (const [tick, ids] of byTick) expect({ tick, jobs: ids.size }).toEqual({ tick, jobs: 1 });
    expect([...byTick.keys()].sort()).toEqual(secondsBetween([...byTick.keys()]));
    expect(runs.length).toBe(byTick.size);
    expect(workers.flatMap((worker) => worker.errors)).toEqual([]);
  });

  it('rejects an invalid expression or time zone at registration, quoting it, and writes nothing', async () => {
    const entrypoint = h.fx().entrypoint('bad_input');
    const worker = await h.worker();
    worker.qm.entrypoint(entrypoint, () => undefined);
    expect(() => worker.qm.schedule('*/61 * * * *', entrypoint)).toThrow(/invalid cron expression "\*\/61 \* \* \* \*"/);
    expect(() => worker.qm.schedule('0 9 * * *', entrypoint, { timezone: 'Europe/Atlantis' })).toThrow(
      /unknown time zone "Europe\/Atlantis"/,
    );
    expect(() => worker.qm.schedule('0 9 * * *', entrypoint, { timezone: 'Europe/Atlantis' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    worker.qm.schedule('0 9 * * *', entrypoint, { name: `${entrypoint}_ok` });
    expect(() => worker.qm.schedule('0 10 * * *', entrypoint, { name: `${entrypoint}_ok` })).toThrow(/already registered/);
    void worker.run();
    await waitFor('the valid schedule to be registered', async () => (await scheduleNamed(`${entrypoint}_ok`)) === 1);
    expect(await scheduleNamed(entrypoint)).toBe(0);
    expect((await worker.qm.schedules.list()).filter((schedule) => schedule.entrypoint === entrypoint)).toHaveLength(1);
  });

  it('after the fleet was down: runOnce enqueues one job for the missed ticks, skip none; both move to the next tick', async () => {
    const entrypoint = h.fx().entrypoint('missed');
    const yearly = '0 0 1 1 *';
    const register = (qm: { schedule: (e: string, p: string, o: object) => unknown }) => {
      qm.schedule(yearly, entrypoint, { name: `${entrypoint}_once`, missed: 'runOnce' });
      qm.schedule(yearly, entrypoint, { name: `${entrypoint}_skip`, missed: 'skip' });
    };
    const runs: Run[] = [];
    const first = await h.worker({ pollIntervalMs: 100 });
    first.qm.entrypoint(entrypoint, () => undefined);
    register(first.qm);
    void first.run();
    await waitFor('both schedules to be registered', async () => (await scheduleNamed(`${entrypoint}_skip`)) === 1);
    await first.qm.stop();

    // While the fleet is down, a tick comes due: move it into the past instead of waiting a year.
    await setNextRun(`${entrypoint}_once`, `'2025-01-01T00:00:00Z'`);
    await setNextRun(`${entrypoint}_skip`, `'2025-01-01T00:00:00Z'`);

    const second = await h.worker({ pollIntervalMs: 100 });
    second.qm.entrypoint(entrypoint, (job) => {
      runs.push({ id: job.id, header: scheduleHeader(job) });
    });
    register(second.qm);
    void second.run();
    const nextYear = new Date(parseCron(yearly, 'UTC', 'test').nextAfter(Date.now())!);
    await waitFor('both schedules to move to the next tick', async () => {
      const schedules = (await second.qm.schedules.list()).filter((schedule) => schedule.entrypoint === entrypoint);
      return schedules.length === 2 && schedules.every((schedule) => schedule.nextRun?.getTime() === nextYear.getTime());
    });
    await waitFor('the missed job to run', () => runs.length === 1);
    await second.qm.stop();
    expect(runs.map((run) => run.header)).toEqual([{ name: `${entrypoint}_once`, tick: '2025-01-01T00:00:00.000Z', missed: true }]);
    const byName = new Map((await second.qm.schedules.list()).map((schedule) => [schedule.name, schedule]));
    expect(byName.get(`${entrypoint}_once`)?.lastRun?.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(byName.get(`${entrypoint}_skip`)?.lastRun).toBeNull();
    expect([...first.errors, ...second.errors]).toEqual([]);
  });

  it('after a short stop, ticks late by less than missedAfterMs each get their job', async () => {
    const entrypoint = h.fx().entrypoint('late');
    const runs: Run[] = [];
    const first = await h.worker();
    first.qm.entrypoint(entrypoint, () => undefined);
    first.qm.schedule('0 0 1 1 *', entrypoint, { missed: 'skip' });
    void first.run();
    await waitFor('the schedule to be registered', async () => (await scheduleNamed(entrypoint)) === 1);
    await first.qm.stop();
    // Same name, now every second: the changed expression gets a next_run from now, which the
    // test then puts 4 s back, as if the fleet had been stopped for that long.
    const second = await h.worker({ pollIntervalMs: 100 });
    second.qm.entrypoint(entrypoint, (job) => {
      runs.push({ id: job.id, header: scheduleHeader(job) });
    });
    second.qm.schedule('* * * * * *', entrypoint, { missed: 'skip', missedAfterMs: 30_000 });
    await h.fx().driver.query(`UPDATE ${table()} SET status = 'paused' WHERE name = $1::text`, [entrypoint]);
    void second.run();
    await waitFor('the changed expression to be registered', async () => (await listed(second, entrypoint))?.expression === '* * * * * *');
    const { rows } = await h.fx().driver.query<{ start: string }>(
      `UPDATE ${table()} SET next_run = date_trunc('second', now()) - interval '4 seconds', status = 'active'
       WHERE name = $1::text RETURNING to_char(next_run AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"') AS start`,
      [entrypoint],
    );
    const start = rows[0]!.start;
    const expected = secondsBetween([start, new Date(Date.parse(start) + 4000).toISOString()]);
    await waitFor('the late ticks to run', () => expected.every((tick) => jobsPerTick(runs).has(tick)), 20_000);
    await second.qm.stop();
    for (const ids of jobsPerTick(runs).values()) expect(ids.size).toBe(1);
    expect(runs.some((run) => run.header.missed === true)).toBe(false);
  });

  it('skipWhileRunning: no new job while the previous one is running; without it, runs overlap', async () => {
    const skipping = h.fx().entrypoint('skipping');
    const overlapping = h.fx().entrypoint('overlapping');
    const started = new Map<string, Run[]>([
      [skipping, []],
      [overlapping, []],
    ]);
    const release = gate();
    const worker = await h.worker({ pollIntervalMs: 100, maxConcurrentTasks: 20 });
    for (const entrypoint of [skipping, overlapping]) {
      worker.qm.entrypoint(entrypoint, async (job) => {
        started.get(entrypoint)!.push({ id: job.id, header: scheduleHeader(job) });
        await release.promise;
      });
    }
    worker.qm.schedule('* * * * * *', skipping, { skipWhileRunning: true });
    worker.qm.schedule('* * * * * *', overlapping);
    void worker.run();
    await waitFor('the first skipping job to start', () => started.get(skipping)!.length === 1, 20_000);
    await waitFor('three overlapping jobs to run at once', () => started.get(overlapping)!.length >= 3, 20_000);
    const firstTick = Date.parse(started.get(skipping)![0]!.header.tick);
    expect(started.get(skipping)).toHaveLength(1);
    const sizes = await h.fx().queries.queueSize();
    expect(sizes.filter((row) => row.entrypoint === skipping)).toEqual([{ entrypoint: skipping, status: 'picked', priority: 0, count: 1 }]);
    const [running] = await h.fx().queries.getJobs([started.get(skipping)![0]!.id]);
    expect(running?.dedupeKey).toBe(scheduleDedupeKey(skipping));
    release.open();
    await waitFor('a second skipping job after the first finished', () => started.get(skipping)!.length === 2, 20_000);
    await worker.qm.stop();
    const secondTick = Date.parse(started.get(skipping)![1]!.header.tick);
    // The ticks while the first ran were skipped, not queued up behind it.
    expect(secondTick - firstTick).toBeGreaterThanOrEqual(2_000);
    expect(started.get(skipping)![0]!.id).not.toBe(started.get(skipping)![1]!.id);
    expect(worker.errors).toEqual([]);
  });

  it('disables a schedule the code no longer registers, and revives it when registered again', async () => {
    const entrypoint = h.fx().entrypoint('removed');
    const other = h.fx().entrypoint('other');
    const names = { kept: `${entrypoint}_kept`, dropped: `${entrypoint}_dropped`, other: `${other}_schedule` };
    const first = await h.worker();
    first.qm.entrypoint(entrypoint, () => undefined);
    first.qm.schedule('0 3 * * *', entrypoint, { name: names.kept });
    first.qm.schedule('* * * * * *', entrypoint, { name: names.dropped });
    first.qm.schedule('0 4 * * *', other, { name: names.other });
    void first.run();
    await waitFor('the schedules to be registered', async () => (await scheduleNamed(names.other)) === 1);
    await first.qm.stop();

    const statuses = async () =>
      Object.fromEntries(
        (await first.qm.schedules.list())
          .filter((schedule) => Object.values(names).includes(schedule.name))
          .map((schedule) => [schedule.name, schedule.status]),
      );
    const second = await h.worker();
    second.qm.entrypoint(entrypoint, () => undefined);
    second.qm.schedule('0 3 * * *', entrypoint, { name: names.kept });
    void second.run();
    await waitFor('the dropped schedule to be disabled', async () => (await statuses())[names.dropped] === 'disabled');
    // The other entrypoint is neither served nor scheduled here: its schedule is not this worker's to judge.
    expect(await statuses()).toEqual({ [names.kept]: 'active', [names.dropped]: 'disabled', [names.other]: 'active' });
    // Every second due, but disabled: the scheduler running beside it never claims it.
    const disabledRow = await listed(second, names.dropped);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await listed(second, names.dropped)).toEqual(disabledRow);
    await second.qm.stop();

    const third = await h.worker();
    third.qm.entrypoint(entrypoint, () => undefined);
    third.qm.schedule('0 3 * * *', entrypoint, { name: names.kept });
    third.qm.schedule('*/10 * * * *', entrypoint, { name: names.dropped });
    void third.run();
    await waitFor('the schedule to be active again', async () => (await statuses())[names.dropped] === 'active');
    const revived = (await third.qm.schedules.list()).find((schedule) => schedule.name === names.dropped)!;
    expect(revived.nextRun!.getTime()).toBeGreaterThan(Date.now() - 1_000);
    expect(revived.expression).toBe('*/10 * * * *');
    expect([...first.errors, ...second.errors, ...third.errors]).toEqual([]);
  });

  it('pauses, resumes, runs now and removes a schedule', async () => {
    const entrypoint = h.fx().entrypoint('operated');
    const runs: Run[] = [];
    const worker = await h.worker({ pollIntervalMs: 100 });
    worker.qm.entrypoint(entrypoint, (job) => {
      runs.push({ id: job.id, header: scheduleHeader(job) });
    });
    worker.qm.schedule('* * * * * *', entrypoint, { skipWhileRunning: true });
    void worker.run();
    const schedules = worker.qm.schedules;
    await waitFor('a first tick to run', () => runs.length >= 1, 20_000);

    expect(await schedules.pause([entrypoint, 'no_such_schedule'])).toEqual([entrypoint]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const whilePaused = runs.length;
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(runs.length).toBe(whilePaused);
    expect((await listed(worker, entrypoint))).toMatchObject({ status: 'paused' });

    const manual = await schedules.runNow(entrypoint);
    await waitFor('the manual job to run', () => runs.some((run) => run.id === manual));
    expect(runs.find((run) => run.id === manual)!.header).toMatchObject({ name: entrypoint, manual: true });
    await expect(schedules.runNow('no_such_schedule')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const resumedAt = Date.now();
    expect(await schedules.resume([entrypoint])).toEqual([entrypoint]);
    const resumed = (await listed(worker, entrypoint)) as { status: string; nextRun: Date };
    expect(resumed.status).toBe('active');
    // The ticks that passed while paused are not missed ones: it goes on from the next tick after now.
    expect(resumed.nextRun.getTime()).toBeGreaterThan(resumedAt - 1_000);
    const afterResume = runs.length;
    await waitFor('ticks to run again', () => runs.length > afterResume, 20_000);
    expect(runs.slice(afterResume).every((run) => run.header.missed === undefined && Date.parse(run.header.tick) >= resumedAt - 1_000)).toBe(true);

    expect(await schedules.remove([entrypoint])).toEqual([entrypoint]);
    expect(await listed(worker, entrypoint)).toBeUndefined();
    expect(worker.errors).toEqual([]);
  });

  it('brings a version-2 schema to version 3 (the schedules table) with upgradeSchema, keeping its jobs; again harmlessly', async () => {
    const { driver } = h.fx();
    const options = { schema: h.fx().schema, prefix: 'v2_' };
    await installSchema(driver, options);
    const queries = new Queries(driver, options);
    const id = await queries.enqueue({ entrypoint: 'kept', payload: { n: 1 } });
    // What version 2 was: everything but the schedules table, and its marker.
    await driver.exec(`DROP TABLE "${options.schema}".v2_pgqueuer_schedules;
      COMMENT ON TABLE "${options.schema}".v2_pgqueuer IS 'pgqueue schema 2'`);
    const before = await verifySchema(driver, options);
    expect(before).toMatchObject({ installed: false, version: 2, pendingSteps: [{ version: 3 }] });
    expect(getUpgradeSql({ ...options, fromVersion: 2 })).toContain('v2_pgqueuer_schedules');

    await upgradeSchema(driver, options);
    await upgradeSchema(driver, options);
    expect(await verifySchema(driver, options)).toMatchObject({ installed: true, version: SCHEMA_VERSION, problems: [] });
    expect((await queries.getJobs([id])).map((job) => job.entrypoint)).toEqual(['kept']);
    const schedules = new Schedules(driver, options);
    expect(await schedules.list()).toEqual([]);
  });
}
