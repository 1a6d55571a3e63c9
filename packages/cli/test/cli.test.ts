/**
 * Every pgq command, run as the real program in a child process against the real server in
 * DATABASE_URL (skipped without it; cli-pglite.test.ts covers what fits on a PGlite data
 * directory). Each run works in a PostgreSQL schema of its own.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QueueManager,
  Queries,
  SCHEMA_STEPS,
  SCHEMA_VERSION,
  getInstallSql,
  getUninstallSql,
  getUpgradeSql,
  type CancelResult,
  type QueueOverviewRow,
  type SchemaReport,
} from '@pgqueue/core';
import { parseExposition, schemaV1Sql } from '@pgqueue/core/testing';
import { createPgDriver, type PgDriver } from '@pgqueue/pg';
import { expectFailure, finished, pgq, pgqJson, startPgq, waitForOutput } from './run-pgq.js';

const url = process.env.DATABASE_URL;

describe('pgq without a database', () => {
  it('prints help that lists every command and the exit codes', async () => {
    const result = await pgq(['--help'], { url: null });
    expect(result.code).toBe(0);
    for (const command of ['install', 'uninstall', 'verify', 'upgrade', 'sql', 'queue', 'stats', 'jobs', 'failed', 'requeue', 'cancel', 'clear', 'prune', 'schedules', 'top', 'metrics']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(result.stdout).toContain('Exit codes: 0 ok');
    const upgradeHelp = await pgq(['upgrade', '--help'], { url: null });
    expect(upgradeHelp.code).toBe(0);
    expect(upgradeHelp.stdout).toContain('--dry-run');
  });

  it('prints the DDL of install, uninstall and upgrade without connecting', async () => {
    // A URL nothing listens on: a connection attempt would fail.
    const offline = { url: 'postgres://nobody@127.0.0.1:1/none' };
    const install = await pgq(['sql', 'install', '--schema', 'app', '--prefix', 'x_'], offline);
    expect(install).toEqual({ code: 0, stdout: getInstallSql({ schema: 'app', prefix: 'x_' }), stderr: '' });
    const uninstall = await pgq(['sql', 'uninstall', '--schema', 'app'], offline);
    expect(uninstall.stdout).toBe(getUninstallSql({ schema: 'app' }));
    const upgrade = await pgq(['sql', 'upgrade', '--from', '1'], offline);
    expect(upgrade.stdout).toBe(getUpgradeSql({ fromVersion: 1 }));
    for (const step of SCHEMA_STEPS) expect(upgrade.stdout).toContain(`-- version ${step.version}: ${step.description}`);
    await expectFailure(['sql', 'upgrade', '--from', String(SCHEMA_VERSION + 1)], 2, /fromVersion must be a schema version/, offline);
    await expectFailure(['sql', 'drop'], 2, /value 'drop' is invalid for argument 'what'/, offline);
  });

  it('says how to give a database when there is none, and refuses bad arguments with exit 2', async () => {
    await expectFailure(['queue'], 2, /no database given: pass --url/, { url: null });
    await expectFailure(['bogus'], 2, /unknown command 'bogus'/, { url: null });
    await expectFailure(['queue', '--url', 'mysql://localhost/db'], 3, /invalid connection string/, { url: null });
    await expectFailure(['stats', '--since', 'soon', '--url', 'postgres://nobody@127.0.0.1:1/none'], 2, /"soon" is not a duration/);
  });
});

describe.skipIf(url === undefined)('pgq against PostgreSQL', () => {
  const schema = `pgq_cli_${randomBytes(4).toString('hex')}`;
  const upgraded = `${schema}_v1`;
  const s = ['--schema', schema];
  let admin: PgDriver;
  let queries: Queries;
  const ids: { email: number[]; report: number; failed: number[] } = { email: [], report: 0, failed: [] };

  beforeAll(async () => {
    admin = createPgDriver(url!, { max: 2 });
    queries = new Queries(admin, { schema });
  });
  afterAll(async () => {
    for (const name of [schema, upgraded]) await admin?.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await admin?.close();
  });

  it('verify says "not installed" (exit 4), install installs (and is idempotent), verify says ok', async () => {
    const before = await pgq(['verify', ...s]);
    expect(before.code).toBe(4);
    expect(before.stdout).toContain(`run pgq install --schema ${schema}`);
    expect((await pgqJson<SchemaReport>(['verify', ...s], 4)).installed).toBe(false);

    const install = await pgq(['install', ...s]);
    expect(install).toEqual({ code: 0, stdout: `installed pgqueue schema version ${SCHEMA_VERSION} at "${schema}"."pgqueuer"\n`, stderr: '' });
    expect(await pgqJson(['install', ...s])).toEqual({ created: false, version: SCHEMA_VERSION });
    expect(await pgqJson<SchemaReport>(['verify', ...s])).toEqual({
      installed: true,
      version: SCHEMA_VERSION,
      currentVersion: SCHEMA_VERSION,
      pendingSteps: [],
      problems: [],
    });
  });

  it('upgrade --dry-run prints the steps of a version-1 schema and changes nothing; upgrade runs them', async () => {
    await admin.exec(schemaV1Sql(upgraded));
    const jobs = await new Queries(admin, { schema: upgraded }).enqueue([{ entrypoint: 'old', payload: 1 }, { entrypoint: 'old', payload: 2 }]);
    const u = ['--schema', upgraded];
    const pending = SCHEMA_STEPS.map(({ version, description }) => ({ version, description }));
    expect((await pgqJson<SchemaReport>(['verify', ...u], 5)).pendingSteps).toEqual(pending);

    const dry = await pgq(['upgrade', '--dry-run', ...u]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would upgrade "${upgraded}"."pgqueuer" from version 1 to ${SCHEMA_VERSION}:`);
    for (const step of pending) expect(dry.stdout).toContain(`version ${step.version}: ${step.description}`);
    expect(await pgqJson(['upgrade', '--dry-run', ...u])).toEqual({ dryRun: true, fromVersion: 1, toVersion: SCHEMA_VERSION, steps: pending });
    expect((await pgqJson<SchemaReport>(['verify', ...u], 5)).version).toBe(1);

    expect(await pgqJson(['upgrade', ...u])).toEqual({ dryRun: false, fromVersion: 1, toVersion: SCHEMA_VERSION, steps: pending });
    expect((await pgqJson<SchemaReport>(['verify', ...u])).installed).toBe(true);
    expect((await pgq(['upgrade', ...u])).stdout).toBe(`nothing to do: "${upgraded}"."pgqueuer" is at version ${SCHEMA_VERSION}\n`);
    expect(await new Queries(admin, { schema: upgraded }).getJobs(jobs)).toHaveLength(2);
  });

  it('shows the queue, the throughput and the jobs', async () => {
    ids.email = await queries.enqueue([
      { entrypoint: 'email', payload: { to: 'a@example.com' } },
      { entrypoint: 'email', payload: { to: 'b@example.com' }, priority: 2 },
      { entrypoint: 'email', payload: new Uint8Array([0xff, 0x00]) },
    ]);
    ids.report = await queries.enqueue({ entrypoint: 'report', delayMs: 3_600_000 });
    ids.failed = await queries.enqueue([{ entrypoint: 'flaky' }, { entrypoint: 'flaky' }]);
    const qm = new QueueManager(admin, { schema, pollIntervalMs: 50 });
    qm.entrypoint('flaky', () => {
      throw new Error('boom');
    }, { retry: { maxAttempts: 1 } });
    await qm.run({ drain: true });
    await admin.query(
      `INSERT INTO "${schema}".pgqueuer_statistics (created, count, priority, time_in_queue, status, entrypoint)
       VALUES (date_trunc('second', now()) - interval '5 seconds', 120, 0, interval '0', 'successful', 'email'),
              (now() - interval '3 days', 7, 0, interval '0', 'successful', 'email'),
              (now() - interval '4 days', 8, 0, interval '0', 'exception', 'email')`,
    );

    const queue = await pgqJson<QueueOverviewRow[]>(['queue', ...s]);
    expect(queue.map(({ entrypoint, status, priority, count, due }) => [entrypoint, status, priority, count, due])).toEqual([
      ['email', 'queued', 2, 1, 1],
      ['email', 'queued', 0, 2, 2],
      ['flaky', 'failed', 0, 2, 0],
      ['report', 'queued', 0, 1, 0],
    ]);
    const queueText = await pgq(['queue', ...s]);
    expect(queueText.code).toBe(0);
    expect(queueText.stdout.split('\n')[0]).toMatch(/^ENTRYPOINT\s+STATUS\s+PRIORITY\s+COUNT\s+OLDEST\s+DUE/);

    expect(await pgqJson(['stats', '--since', '1m', ...s])).toEqual({
      windowSeconds: 60,
      rows: [{ entrypoint: 'email', status: 'successful', count: 120, perSecond: 2 }],
    });
    const week = await pgqJson<{ rows: { status: string; count: number }[] }>(['stats', '--since', '7d', ...s]);
    expect(week.rows.map((row) => [row.status, row.count])).toEqual([
      ['successful', 127],
      ['exception', 8],
    ]);

    const emails = await pgqJson<{ id: number; payload: unknown }[]>(['jobs', '-e', 'email', '-s', 'queued', ...s]);
    expect(emails.map((job) => job.id)).toEqual(ids.email);
    expect(emails.map((job) => job.payload)).toEqual([{ json: { to: 'a@example.com' } }, { json: { to: 'b@example.com' } }, { hex: 'ff00' }]);
    expect((await pgqJson<unknown[]>(['jobs', '-s', 'failed', '--limit', '1', ...s])).length).toBe(1);
    expect(await pgqJson<{ id: number }[]>(['jobs', '--after', String(ids.email[2]), '-e', 'email', ...s])).toEqual([]);

    const one = await pgqJson<{ id: number; attempts: number; lastError: { message: string } }>(['jobs', String(ids.failed[0]), ...s]);
    expect(one).toMatchObject({ id: ids.failed[0], status: 'failed', attempts: 1, lastError: { name: 'Error', message: 'boom', attempt: 1 } });
    const text = await pgq(['jobs', String(ids.email[0]), ...s]);
    expect(text.stdout).toContain(`job ${ids.email[0]}`);
    expect(text.stdout).toContain('payload:       {"to":"a@example.com"}');
    const failedText = await pgq(['jobs', String(ids.failed[0]), ...s]);
    expect(failedText.stdout).toMatch(/last error: {4}Error: boom \(attempt 1\)/);

    const failed = await pgqJson<{ id: number; lastError: { message: string } }[]>(['failed', ...s]);
    expect(failed.map((job) => [job.id, job.lastError.message])).toEqual(ids.failed.map((id) => [id, 'boom']));
    expect(await pgqJson(['failed', '-e', 'email', ...s])).toEqual([]);
  });

  it('requeues failed jobs by id and with --all, and refuses jobs that are not failed', async () => {
    await expectFailure(['requeue', String(ids.email[0]), ...s], 6, new RegExp(`job ${ids.email[0]} is queued, not failed.*nothing was requeued`));
    await expectFailure(['requeue', '99999999', String(ids.failed[0]), ...s], 6, /job 99999999 does not exist/);
    expect((await queries.getJobs([ids.failed[0]!]))[0]!.status).toBe('failed');
    await expectFailure(['requeue', ...s], 2, /name the failed jobs by id, or pass --all/);
    await expectFailure(['requeue', 'abc', ...s], 2, /"abc" is not a job id/);

    expect(await pgqJson(['requeue', String(ids.failed[0]), ...s])).toEqual({ requeued: [ids.failed[0]], kept: [] });
    const all = await pgq(['requeue', '--all', ...s]);
    expect(all).toEqual({ code: 0, stdout: `requeued 1 job(s): ${ids.failed[1]}\n`, stderr: '' });
    expect((await queries.getJobs(ids.failed)).map((job) => [job.status, job.attempts])).toEqual([
      ['queued', 0],
      ['queued', 0],
    ]);
  });

  it('cancels jobs, clears an entrypoint and prunes old statistics', async () => {
    await expectFailure(['cancel', '99999999', ...s], 6, /job 99999999 does not exist\. Nothing was canceled/);
    expect(await pgqJson<CancelResult>(['cancel', String(ids.email[0]), ...s])).toEqual({ canceled: [ids.email[0]], canceling: [] });
    expect(await queries.getJobs([ids.email[0]!])).toEqual([]);

    await expectFailure(['clear', '-e', 'report', ...s], 2, /pass --yes/);
    expect(await pgqJson(['clear', '-e', 'report', '--yes', ...s])).toEqual({ deleted: 1 });
    expect(await queries.getJobs([ids.report])).toEqual([]);

    await expectFailure(['prune', ...s], 2, /required option '--older-than <duration>'/);
    const pruned = await pgqJson<{ deleted: number; cutoff: string }>(['prune', '--older-than', '2d', ...s]);
    expect(pruned.deleted).toBe(2);
    expect(Date.now() - Date.parse(pruned.cutoff)).toBeGreaterThan(2 * 86_400_000 - 60_000);
    // The cancel above added a row of its own.
    expect((await queries.statisticsTotals()).map((row) => [row.entrypoint, row.status, row.count])).toEqual([
      ['email', 'successful', 120],
      ['email', 'canceled', 1],
    ]);
  });

  it('top draws the queue and quits on q, and on Ctrl-C (SIGINT)', async () => {
    for (const quit of ['q', 'SIGINT'] as const) {
      const child = startPgq(['top', '--interval', '200ms', '--window', '1h', ...s]);
      const result = finished(child);
      const frame = await waitForOutput(child, /RUNNING \(\d+\)[\s\S]*\n/);
      expect(frame).toMatch(/pgq top {2}"pgq_cli_[0-9a-f]+"\."pgqueuer"/);
      expect(frame).toMatch(/email\s+queued\s+2/);
      expect(frame).toMatch(/flaky\s+queued\s+2/);
      expect(frame).toMatch(/THROUGHPUT \(last 60m\)[\s\S]*email\s+successful\s+120/);
      if (quit === 'q') child.stdin!.write('q');
      else child.kill('SIGINT');
      const { code, stderr } = await result;
      expect({ quit, code, stderr }).toEqual({ quit, code: 0, stderr: '' });
    }
  });

  it('metrics serves the exposition format until SIGTERM', async () => {
    const child = startPgq(['metrics', '--port', '0', '--host', '127.0.0.1', '--window', '1h', ...s]);
    const result = finished(child);
    const line = await waitForOutput(child, /serving Prometheus metrics on (http:\/\/\S+)\n/);
    const endpoint = /(http:\/\/\S+)/.exec(line)![1]!;
    const response = await fetch(endpoint);
    expect(response.status).toBe(200);
    const samples = parseExposition(await response.text());
    expect(samples.get('pgqueue_jobs{entrypoint="email",status="queued"}')).toBe(2);
    expect(samples.get('pgqueue_jobs{entrypoint="flaky",status="queued"}')).toBe(2);
    expect(samples.get('pgqueue_completed_jobs_per_second{entrypoint="email",status="successful"}')).toBeCloseTo(120 / 3600, 9);
    expect(samples.get('pgqueue_schema_version')).toBe(SCHEMA_VERSION);
    expect((await fetch(endpoint.replace('/metrics', '/other'))).status).toBe(404);
    child.kill('SIGTERM');
    expect(await result).toMatchObject({ code: 0, stderr: '' });
  });

  it('answers bad input with one line and a non-zero exit, never a stack trace', async () => {
    await expectFailure(['queue', '--url', 'postgres://postgres@127.0.0.1:1/none'], 3, /cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    const wrongDb = new URL(url!);
    wrongDb.pathname = '/pgq_cli_no_such_database';
    await expectFailure(['queue', '--url', wrongDb.toString()], 3, /database "pgq_cli_no_such_database" does not exist/);
    await expectFailure(['queue', '--schema', `${schema}_missing`], 4, new RegExp(`not installed at "${schema}_missing"\\."pgqueuer".*run pgq install --schema ${schema}_missing`));
    await expectFailure(['upgrade', '--schema', `${schema}_missing`], 4, /not installed .*install it/);
    await expectFailure(['jobs', '99999999', ...s], 6, /job 99999999 does not exist/);
    await expectFailure(['queue', '--schema', 'Not-A-Name'], 2, /schema "Not-A-Name" is not allowed/);
  });

  it('uninstall wants --yes, then removes everything', async () => {
    await expectFailure(['uninstall', ...s], 2, /pass --yes/);
    expect(await pgqJson(['uninstall', '--yes', ...s])).toEqual({ uninstalled: true });
    expect((await pgqJson<SchemaReport>(['verify', ...s], 4)).version).toBeUndefined();
  });
});
