/**
 * The operations suite, run by the pg and PGlite adapters: versioned schema upgrades from the
 * frozen version-1 DDL, statistics retention (and its one-worker-per-period claim), the
 * monitoring reads and the Prometheus handler scraped over HTTP.
 *
 * The version-1 DDL is read from packages/core/test/fixtures/schema-v1.sql, so this suite runs
 * from the repository, not from a published package.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Queryable } from '../driver.js';
import { createMetricsHandler, PROMETHEUS_CONTENT_TYPE } from '../metrics/prometheus.js';
import { listJobs, queueOverview, throughput } from '../monitoring.js';
import { resolveNames } from '../names.js';
import { Queries } from '../queries.js';
import { getUpgradeSql, installSchema, SCHEMA_VERSION, upgradeSchema, verifySchema } from '../schema.js';
import { claimTaskSql } from '../sql/maintenance.js';
import { SCHEMA_STEPS, type SchemaStep } from '../sql/upgrades.js';
import { pruneStatistics } from '../statistics.js';
import { runUpgrade, upgradeSql } from '../upgrade.js';
import { QueueManager } from '../worker/queue-manager.js';
import { skipReason, type ConformanceTarget } from './target.js';
import { waitFor } from './wait.js';

const FIXTURE_SCHEMA = 'pgqueue_v1_fixture';

/** The version-1 DDL as it shipped, for the PostgreSQL schema `schema`. */
export function schemaV1Sql(schema: string): string {
  return readFileSync(new URL('../../test/fixtures/schema-v1.sql', import.meta.url), 'utf8').replaceAll(FIXTURE_SCHEMA, schema);
}
const v1Sql = schemaV1Sql;

/** Every column, index, function, enum label, table option and comment of a schema, its name masked. */
async function catalogOf(db: Queryable, schema: string): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(
    `SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' not null ' ||
            a.attnotnull || ' default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-') AS line
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace s ON s.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE s.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
     UNION ALL
     SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = $1
     UNION ALL
     SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace WHERE s.nspname = $1
     UNION ALL
     SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
       FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace s ON s.oid = t.typnamespace
      WHERE s.nspname = $1 GROUP BY t.typname
     UNION ALL
     SELECT 'table ' || c.relname || ' options ' || coalesce(array_to_string(c.reloptions, ','), '-') || ' comment ' ||
            coalesce(obj_description(c.oid, 'pg_class'), '-')
       FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relkind = 'r'
     ORDER BY 1`,
    [schema],
  );
  return rows.map((row) => row.line.replaceAll(schema, '<schema>'));
}

const markerOf = async (db: Queryable, schema: string) =>
  (await db.query<{ marker: string | null }>(`SELECT obj_description(to_regclass($1), 'pg_class') AS marker`, [`"${schema}"."pgqueuer"`]))
    .rows[0]!.marker;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export function runOperationsSuite(target: ConformanceTarget): void {
  const reason = skipReason(target);
  if (reason !== undefined) {
    console.warn(`[pgqueue operations suite] ${reason}`);
    describe.skip(`${target.name} operations (${reason})`, () => {
      describe.skip('skipped', () => undefined);
    });
    return;
  }

  describe(`${target.name} operations`, () => {
    let driver: Driver;
    const schemas: string[] = [];
    const extraDrivers: Driver[] = [];
    const newSchema = (label: string) => {
      const schema = `pgq_ops_${label}_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      return schema;
    };
    /** Drivers with connections of their own on a server; the one driver on a single-connection target. */
    const otherDriver = async (): Promise<Driver> => {
      if (!driver.capabilities.concurrentQueries) return driver;
      const extra = await target.createDriver();
      extraDrivers.push(extra);
      return extra;
    };

    beforeAll(async () => {
      driver = await target.createDriver();
    });
    afterAll(async () => {
      await Promise.all(extraDrivers.map((extra) => extra.close()));
      for (const schema of schemas) await driver?.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await driver?.close();
    });

    describe('schema upgrades', () => {
      it('upgrades the frozen version-1 schema holding jobs to the current version, same catalog as a fresh install, jobs intact and run', async () => {
        const schema = newSchema('v1');
        await driver.exec(v1Sql(schema));
        const queries = new Queries(driver, { schema });
        const ids = await queries.enqueue([
          { entrypoint: 'upgraded', payload: { n: 1 } },
          { entrypoint: 'upgraded', payload: { n: 2 }, priority: 5 },
          { entrypoint: 'upgraded', payload: { n: 3 }, dedupeKey: 'k3' },
        ]);
        const before = await queries.getJobs(ids);

        const report = await verifySchema(driver, { schema });
        expect(report).toMatchObject({ installed: false, version: 1, currentVersion: SCHEMA_VERSION });
        expect(report.pendingSteps.map((step) => step.version)).toEqual(SCHEMA_STEPS.map((step) => step.version));
        if (SCHEMA_VERSION > 1) expect(report.problems).toEqual([expect.stringContaining('run upgradeSchema')]);

        const result = await upgradeSchema(driver, { schema });
        expect(result).toEqual({ fromVersion: 1, toVersion: SCHEMA_VERSION, applied: report.pendingSteps });
        expect(await verifySchema(driver, { schema })).toEqual({
          installed: true,
          version: SCHEMA_VERSION,
          currentVersion: SCHEMA_VERSION,
          pendingSteps: [],
          problems: [],
        });

        const fresh = newSchema('fresh');
        await installSchema(driver, { schema: fresh });
        expect(await catalogOf(driver, schema)).toEqual(await catalogOf(driver, fresh));

        expect(await queries.getJobs(ids)).toEqual(before);
        // Idempotent: a second upgrade changes nothing.
        expect(await upgradeSchema(driver, { schema })).toEqual({ fromVersion: SCHEMA_VERSION, toVersion: SCHEMA_VERSION, applied: [] });

        const seen: unknown[] = [];
        const qm = new QueueManager(driver, { schema, pollIntervalMs: 50 });
        qm.entrypoint<{ n: number }>('upgraded', (job) => {
          seen.push(job.payload.n);
        });
        await qm.run({ drain: true });
        expect(seen.sort()).toEqual([1, 2, 3]);
        expect(await queries.getJobs(ids)).toEqual([]);
        expect(await queries.statisticsTotals()).toEqual([{ entrypoint: 'upgraded', status: 'successful', count: 3 }]);
      });

      it('upgrades on installSchema too, and the printed upgrade SQL does what upgradeSchema does', async () => {
        const viaInstall = newSchema('inst');
        await driver.exec(v1Sql(viaInstall));
        expect(await installSchema(driver, { schema: viaInstall })).toEqual(
          SCHEMA_VERSION > 1 ? { created: false, upgradedFrom: 1 } : { created: false },
        );
        expect((await verifySchema(driver, { schema: viaInstall })).installed).toBe(true);

        const viaSql = newSchema('sql');
        await driver.exec(v1Sql(viaSql));
        await driver.exec(getUpgradeSql({ schema: viaSql, fromVersion: 1 }));
        expect(await catalogOf(driver, viaSql)).toEqual(await catalogOf(driver, viaInstall));
        // Re-runnable: the same file on the upgraded schema changes nothing and does not fail.
        await driver.exec(getUpgradeSql({ schema: viaSql, fromVersion: 1 }));
        expect(await catalogOf(driver, viaSql)).toEqual(await catalogOf(driver, viaInstall));
        expect(getUpgradeSql({ schema: viaSql, fromVersion: SCHEMA_VERSION })).toMatch(/nothing to upgrade/);
        expect(() => getUpgradeSql({ fromVersion: SCHEMA_VERSION + 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      });

      it('refuses to upgrade what is not installed, and a schema newer than the library', async () => {
        const missing = newSchema('none');
        expect(await rejection(upgradeSchema(driver, { schema: missing }))).toMatchObject({
          code: 'SCHEMA_NOT_INSTALLED',
          message: expect.stringContaining('install it'),
        });
        const newer = newSchema('newer');
        await installSchema(driver, { schema: newer });
        await driver.exec(`COMMENT ON TABLE "${newer}"."pgqueuer" IS 'pgqueue schema ${SCHEMA_VERSION + 1}'`);
        expect(await rejection(upgradeSchema(driver, { schema: newer }))).toMatchObject({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining('newer than this library'),
        });
        expect((await verifySchema(driver, { schema: newer })).problems).toEqual([expect.stringContaining('newer than this library')]);
        // A rolled-back release still starts on it: installSchema leaves it alone.
        expect(await installSchema(driver, { schema: newer })).toEqual({ created: false });
      });

      describe('the step machinery, on a test-only step list', () => {
        const steps: SchemaStep[] = [
          {
            version: 2,
            description: 'add a notes table',
            sql: (n) => `CREATE TABLE IF NOT EXISTS "${n.schema}".notes (id bigint PRIMARY KEY);`,
          },
          {
            version: 3,
            description: 'add notes.body',
            sql: (n) => `ALTER TABLE "${n.schema}".notes ADD COLUMN IF NOT EXISTS body text NOT NULL DEFAULT '';`,
          },
        ];
        const columnsOfNotes = async (schema: string) =>
          (
            await driver.query<{ name: string }>(
              `SELECT attname::text AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 ORDER BY attnum`,
              [`"${schema}".notes`],
            )
          ).rows.map((row) => row.name);

        it('runs every pending step in order, then nothing, and from a middle version only the rest', async () => {
          const schema = newSchema('steps');
          await driver.exec(v1Sql(schema));
          const jobs = await new Queries(driver, { schema }).enqueue([{ entrypoint: 'kept' }, { entrypoint: 'kept' }]);
          expect(await runUpgrade(driver, { schema }, steps)).toEqual({
            fromVersion: 1,
            toVersion: 3,
            applied: [
              { version: 2, description: 'add a notes table' },
              { version: 3, description: 'add notes.body' },
            ],
          });
          expect(await markerOf(driver, schema)).toBe('pgqueue schema 3');
          expect(await columnsOfNotes(schema)).toEqual(['id', 'body']);
          expect((await runUpgrade(driver, { schema }, steps)).applied).toEqual([]);
          expect(await new Queries(driver, { schema }).getJobs(jobs)).toHaveLength(2);

          const middle = newSchema('mid');
          await driver.exec(v1Sql(middle));
          await driver.exec(`CREATE TABLE "${middle}".notes (id bigint PRIMARY KEY); COMMENT ON TABLE "${middle}"."pgqueuer" IS 'pgqueue schema 2'`);
          const sql = upgradeSql(resolveNames({ schema: middle }), 2, steps);
          expect(sql).toContain('version 3: add notes.body');
          expect(sql).not.toContain('version 2:');
          expect((await runUpgrade(driver, { schema: middle }, steps)).applied).toEqual([{ version: 3, description: 'add notes.body' }]);
          expect(await columnsOfNotes(middle)).toEqual(['id', 'body']);
        });

        it('the printed SQL refuses a database at another version and leaves it as it was', async () => {
          const schema = newSchema('guard');
          await driver.exec(v1Sql(schema));
          const error = await rejection(driver.exec(upgradeSql(resolveNames({ schema }), 2, steps)));
          expect(String((error as Error).message)).toMatch(/is at "pgqueue schema 1", not at a version from 2 to 3/);
          expect(await markerOf(driver, schema)).toBe('pgqueue schema 1');
          expect(await columnsOfNotes(schema)).toEqual([]);
        });

        it('rejects a step list with a gap', async () => {
          expect(() => upgradeSql(resolveNames({}), 1, [steps[1]!])).toThrow(/entry 0 has version 3, expected 2/);
        });

        it.skipIf(!target.requiresServer)('upgrades once when several upgraders on separate connections start together', async () => {
          const schema = newSchema('race');
          await driver.exec(v1Sql(schema));
          const drivers = await Promise.all([otherDriver(), otherDriver(), otherDriver(), otherDriver()]);
          const results = await Promise.all(drivers.map((d) => runUpgrade(d, { schema }, steps)));
          expect(results.every((r) => r.toVersion === 3)).toBe(true);
          expect(await markerOf(driver, schema)).toBe('pgqueue schema 3');
          expect(await columnsOfNotes(schema)).toEqual(['id', 'body']);
        });
      });

      it.skipIf(!target.requiresServer)('upgrades while a worker on another connection runs the version-1 jobs, losing none', async () => {
        const schema = newSchema('live');
        await driver.exec(v1Sql(schema));
        const queries = new Queries(driver, { schema });
        const total = 2_000;
        await queries.enqueue(Array.from({ length: total }, (_, i) => ({ entrypoint: 'live', payload: i })));
        const workerDriver = await otherDriver();
        let done = 0;
        const qm = new QueueManager(workerDriver, { schema, pollIntervalMs: 50, batchSize: 20 });
        qm.entrypoint('live', async () => {
          done++;
          await new Promise((resolve) => setTimeout(resolve, 1));
        });
        const errors: unknown[] = [];
        qm.on('error', (error) => errors.push(error));
        const running = qm.run({ drain: true });
        await waitFor('the worker to start', () => done > 0);
        await upgradeSchema(await otherDriver(), { schema });
        await running;
        expect(errors).toEqual([]);
        expect(done).toBe(total);
        expect((await verifySchema(driver, { schema })).installed).toBe(true);
        expect(await queries.statisticsTotals()).toEqual([{ entrypoint: 'live', status: 'successful', count: total }]);
      });
    });

    describe('statistics retention', () => {
      const addStatistics = async (schema: string, ages: { seconds: number; count: number }[]) => {
        await driver.query(
          `INSERT INTO "${schema}".pgqueuer_statistics (created, count, priority, time_in_queue, status, entrypoint)
           SELECT date_trunc('second', now()) - a.seconds * interval '1 second', a.count, 0, interval '0', 'successful', 'stats'
           FROM unnest($1::int[], $2::int[]) AS a(seconds, count)`,
          [`{${ages.map((a) => a.seconds).join(',')}}`, `{${ages.map((a) => a.count).join(',')}}`],
        );
      };
      const statisticsAges = async (schema: string) =>
        (
          await driver.query<{ age: number }>(
            `SELECT extract(epoch FROM date_trunc('second', now()) - created)::int AS age FROM "${schema}".pgqueuer_statistics ORDER BY 1`,
          )
        ).rows.map((row) => Number(row.age));

      it('deletes the rows older than the cutoff, in batches, and keeps the rest', async () => {
        const schema = newSchema('prune');
        await installSchema(driver, { schema });
        const old = Array.from({ length: 25 }, (_, i) => ({ seconds: 7200 + i, count: 1 }));
        await addStatistics(schema, [...old, { seconds: 10, count: 4 }, { seconds: 0, count: 2 }]);
        const result = await pruneStatistics(driver, { schema, olderThan: 3_600_000, batchSize: 10 });
        expect(result.deleted).toBe(25);
        expect(await statisticsAges(schema)).toEqual([0, 10]);
        expect((await pruneStatistics(driver, { schema, olderThan: new Date(Date.now() + 60_000) })).deleted).toBe(2);
        expect(await statisticsAges(schema)).toEqual([]);
        for (const olderThan of [-1, Number.NaN, '7d', new Date(Number.NaN)]) {
          expect(await rejection(pruneStatistics(driver, { schema, olderThan: olderThan as number }))).toMatchObject({
            code: 'INVALID_ARGUMENT',
          });
        }
        expect(await rejection(pruneStatistics(driver, { schema: newSchema('absent'), olderThan: 0 }))).toMatchObject({
          code: 'SCHEMA_NOT_INSTALLED',
        });
      });

      it('lets exactly one of several claimers (separate connections on a server) have a period', async () => {
        const schema = newSchema('claim');
        await installSchema(driver, { schema });
        const n = resolveNames({ schema });
        const drivers = await Promise.all(Array.from({ length: 6 }, () => otherDriver()));
        const claim = (d: Driver) => d.query(claimTaskSql(n), ['test_task', randomUUID(), String(3_600_000)]);
        const first = await Promise.all(drivers.map(claim));
        expect(first.filter((r) => r.rows.length === 1)).toHaveLength(1);
        const again = await Promise.all(drivers.map(claim));
        expect(again.filter((r) => r.rows.length === 1)).toHaveLength(0);
        // A period of 0 ms has passed at once: the next claim is granted again, to one caller.
        const short = await Promise.all(drivers.map((d) => d.query(claimTaskSql(n), ['test_task', randomUUID(), '0'])));
        expect(short.filter((r) => r.rows.length === 1).length).toBeGreaterThanOrEqual(1);
      });

      it('prunes from exactly one worker of a fleet per period (option pruneStatistics)', async () => {
        const schema = newSchema('fleet');
        await installSchema(driver, { schema });
        await addStatistics(schema, [
          { seconds: 90_000, count: 1 },
          { seconds: 100_000, count: 1 },
          { seconds: 5, count: 1 },
        ]);
        const workers = await Promise.all(
          Array.from({ length: 3 }, async () => {
            const qm = new QueueManager(await otherDriver(), {
              schema,
              pollIntervalMs: 50,
              pruneStatistics: { olderThanMs: 86_400_000, intervalMs: 3_600_000 },
            });
            qm.entrypoint('idle', () => undefined);
            return qm;
          }),
        );
        const pruned: { owner: string; deleted: number }[] = [];
        const errors: unknown[] = [];
        for (const qm of workers) {
          qm.on('statisticsPruned', (info) => pruned.push({ owner: qm.ownerId, deleted: info.deleted }));
          qm.on('error', (error) => errors.push(error));
        }
        const runs = workers.map((qm) => qm.run());
        await waitFor('a prune', () => pruned.length > 0);
        // stop() waits for each worker's first look, so all three have tried by now.
        await Promise.all(workers.map((qm) => qm.stop()));
        await Promise.all(runs);
        expect(errors).toEqual([]);
        expect(pruned).toEqual([{ owner: expect.any(String), deleted: 2 }]);
        expect(await statisticsAges(schema)).toEqual([5]);
        const { rows } = await driver.query<{ runby: string }>(
          `SELECT run_by::text AS runby FROM "${schema}".pgqueuer_maintenance WHERE task = 'prune_statistics'`,
        );
        expect(rows).toEqual([{ runby: pruned[0]!.owner }]);
      });

      it('rejects a pruneStatistics option without an age', () => {
        expect(() => new QueueManager(driver, { pruneStatistics: {} as { olderThanMs: number } })).toThrow(
          expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('olderThanMs') }),
        );
      });
    });

    describe('monitoring and Prometheus', () => {
      let schema: string;
      let server: Server | undefined;
      let base: string;

      beforeAll(async () => {
        schema = newSchema('metrics');
        await installSchema(driver, { schema });
        const queries = new Queries(driver, { schema });
        await queries.enqueue([
          { entrypoint: 'email', payload: 1 },
          { entrypoint: 'email', payload: 2, priority: 3 },
          { entrypoint: 'email', payload: 3, delayMs: 3_600_000 },
          { entrypoint: 'report "q"', payload: 4 },
        ]);
        await driver.query(
          `INSERT INTO "${schema}".pgqueuer_statistics (created, count, priority, time_in_queue, status, entrypoint)
           VALUES (date_trunc('second', now()) - interval '5 seconds', 30, 0, interval '0', 'successful', 'email'),
                  (date_trunc('second', now()) - interval '10 seconds', 6, 0, interval '1 second', 'exception', 'email'),
                  (date_trunc('second', now()) - interval '1 hour', 1000, 0, interval '0', 'successful', 'email')`,
        );
        server = createServer((req, res) => {
          const handler = req.url === '/broken' ? createMetricsHandler(driver, { schema: `${schema}_absent` }) : createMetricsHandler(driver, { schema });
          void handler(req, res);
        });
        await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        await new Promise((resolve) => server?.close(resolve));
      });

      it('reads the queue at a glance, throughput over a window and jobs by filter', async () => {
        const overview = await queueOverview(driver, { schema });
        expect(overview.map(({ entrypoint, status, priority, count, due }) => ({ entrypoint, status, priority, count, due }))).toEqual([
          { entrypoint: 'email', status: 'queued', priority: 3, count: 1, due: 1 },
          { entrypoint: 'email', status: 'queued', priority: 0, count: 2, due: 1 },
          { entrypoint: 'report "q"', status: 'queued', priority: 0, count: 1, due: 1 },
        ]);
        expect(await throughput(driver, { schema, windowMs: 60_000 })).toEqual([
          { entrypoint: 'email', status: 'successful', count: 30, perSecond: 0.5 },
          { entrypoint: 'email', status: 'exception', count: 6, perSecond: 0.1 },
        ]);
        const emails = await listJobs(driver, { schema, entrypoints: ['email'], statuses: ['queued'] });
        expect(emails.map((job) => job.entrypoint)).toEqual(['email', 'email', 'email']);
        expect(await listJobs(driver, { schema, statuses: ['failed'] })).toEqual([]);
        expect(await listJobs(driver, { schema, afterId: emails[1]!.id, limit: 1 })).toEqual([emails[2]]);
        expect(await rejection(listJobs(driver, { schema, statuses: ['lost' as 'queued'] }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
      });

      it('serves the exposition format over HTTP with depth, ages, throughput and the schema version', async () => {
        const response = await fetch(`${base}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
        const samples = parseExposition(await response.text());
        expect(samples.get('pgqueue_jobs{entrypoint="email",status="queued"}')).toBe(3);
        expect(samples.get('pgqueue_jobs{entrypoint="report \\"q\\"",status="queued"}')).toBe(1);
        expect(samples.get('pgqueue_due_jobs{entrypoint="email"}')).toBe(2);
        expect(samples.get('pgqueue_oldest_job_age_seconds{entrypoint="email",status="queued"}')).toBeGreaterThanOrEqual(0);
        expect(samples.get('pgqueue_oldest_due_job_wait_seconds{entrypoint="email"}')).toBeGreaterThanOrEqual(0);
        expect(samples.get('pgqueue_completed_jobs_per_second{entrypoint="email",status="successful"}')).toBe(0.5);
        expect(samples.get('pgqueue_completed_jobs_per_second{entrypoint="email",status="exception"}')).toBe(0.1);
        expect(samples.get('pgqueue_schema_version')).toBe(SCHEMA_VERSION);
        expect(samples.get('pgqueue_schema_version_expected')).toBe(SCHEMA_VERSION);
      });

      it('answers 503 with one line when the queue cannot be read', async () => {
        const response = await fetch(`${base}/broken`);
        expect(response.status).toBe(503);
        const text = await response.text();
        expect(text.trim().split('\n')).toHaveLength(1);
        expect(text).toMatch(/^pgqueue metrics unavailable: .*not installed/);
      });
    });
  });
}

/**
 * A strict reader of the text exposition format: every line is a HELP or TYPE comment or a
 * sample `name{labels} value`, every sample's family was declared a gauge first. Returns the
 * samples keyed by `name{labels}`.
 */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const declared = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|histogram|summary|untyped)$/.exec(line);
    if (type) {
      declared.add(type[1]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/.exec(line);
    if (sample === null) throw new Error(`not an exposition-format line: ${line}`);
    if (!declared.has(sample[1]!)) throw new Error(`sample before its TYPE line: ${line}`);
    samples.set(`${sample[1]}${sample[2] ?? ''}`, Number(sample[3]));
  }
  return samples;
}

