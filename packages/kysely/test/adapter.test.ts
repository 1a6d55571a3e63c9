import { randomBytes } from 'node:crypto';
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgQueueError, QueueManager, Queries, installSchema, type JobId } from '@pgqueue/core';
import { sqlStateOf } from '@pgqueue/core/adapter';
import { rejectionOf, thrownBy, waitFor } from '@pgqueue/core/testing';
import { createKyselyDriver, kyselyQueryable, type KyselyDriver } from '../src/index.js';
import { runnableTargets, type Opened } from './targets.js';

if (!process.env.DATABASE_URL) {
  console.log('@pgqueue/kysely adapter tests: DATABASE_URL is not set, so only the PGlite dialect is tested.');
}

const suffix = () => randomBytes(4).toString('hex');

describe('kysely adapter without a database', () => {
  const notKysely: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a connection string', 'postgres://postgres@127.0.0.1/postgres'],
    ['a plain object', {}],
    ['a pg Pool', new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' })],
  ];

  it.each(notKysely)('rejects %s with INVALID_ARGUMENT naming what it expects', (_, value) => {
    for (const attempt of [() => createKyselyDriver(value as never), () => kyselyQueryable(value as never)]) {
      const error = thrownBy(attempt) as PgQueueError;
      expect(PgQueueError.isInstance(error)).toBe(true);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/expects (a Kysely transaction or )?a Kysely instance \(new Kysely\(\{ dialect \}\)\)/);
    }
  });

  it('does not echo a connection string it was given instead of a Kysely instance', () => {
    const error = thrownBy(() => createKyselyDriver('postgres://app:hunter2@db/jobs' as never)) as Error;
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('got string');
  });

  it('rejects an options.listen that is not a driver', () => {
    // Kysely connects on the first query only, so this pool never opens a connection.
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' }) }) });
    const error = thrownBy(() => createKyselyDriver(db, { listen: {} as never })) as PgQueueError;
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/options\.listen/);
  });
});

describe.each(runnableTargets())('kysely adapter over $name', (target) => {
  let opened: Opened;
  let driver: KyselyDriver;
  let table: string;
  const schema = `pgq_kysely_${target.name.replace(/[^a-z]/g, '')}_${suffix()}`;

  beforeAll(async () => {
    opened = target.connect();
    driver = createKyselyDriver(opened.db, target.options);
    table = `pgq_adapter_${suffix()}`;
    await driver.exec(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
    await installSchema(driver, { schema });
  });

  afterAll(async () => {
    await driver?.exec(`DROP TABLE IF EXISTS ${table}; DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await driver?.close();
    await opened?.end();
  });

  const count = async () => (await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
  const clear = () => driver.exec(`DELETE FROM ${table}`);

  it('reports its name, specification version and capabilities: no LISTEN without a listen source', async () => {
    expect(driver.name).toBe('kysely');
    expect(driver.specificationVersion).toBe(1);
    expect(driver.capabilities).toEqual({ concurrentQueries: target.name !== 'kysely-pglite', listen: false });
    const error = (await rejectionOf(driver.listen('chan', () => {}))) as PgQueueError;
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/listen source/);
    expect(createKyselyDriver(opened.db, { ...target.options, listen: opened.listener }).capabilities.listen).toBe(true);
  });

  it('keeps a LISTEN made while an application transaction is open when that transaction rolls back', async () => {
    const listening = createKyselyDriver(opened.db, { ...target.options, listen: opened.listener });
    const channel = `pgq_during_tx_${suffix()}`;
    const received: string[] = [];
    let subscribed: Promise<unknown> | undefined;
    await rejectionOf(
      opened.db.transaction().execute(async (trx) => {
        await sql`SELECT 1`.execute(trx);
        // A worker starting elsewhere in the application, not awaited here.
        subscribed = listening.listen(channel, (payload) => received.push(payload));
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('roll back');
      }),
    );
    await subscribed;
    await listening.query(`SELECT pg_notify('${channel}', 'after')`);
    await waitFor('the notification', () => received.length === 1);
    await listening.close();
  });

  it('reads columns by their own names even when the Kysely instance has CamelCasePlugin', async () => {
    const camel = createKyselyDriver(opened.db.withPlugin(new CamelCasePlugin()), target.options);
    expect((await camel.query('SELECT 1 AS queue_manager_id')).rows).toEqual([{ queue_manager_id: 1 }]);
    await camel.close();
  });

  it('exec runs several statements, with quotes, comments and plpgsql bodies, all or none', async () => {
    await driver.exec(`
      INSERT INTO ${table} (id, note) VALUES (1, 'a;b'); -- a comment; with a semicolon
      /* a block /* nested; */ comment */ INSERT INTO ${table} (id, note) VALUES (2, $$c;d$$);
      DO $body$ BEGIN INSERT INTO ${table} (id, note) VALUES (3, E'e\\';f'); END $body$;
    `);
    const notes = await driver.query<{ note: string }>(`SELECT note FROM ${table} ORDER BY id`);
    expect(notes.rows.map((row) => row.note)).toEqual(['a;b', 'c;d', "e';f"]);
    await clear();

    const error = await rejectionOf(driver.exec(`INSERT INTO ${table} (id) VALUES (10); INSERT INTO ${table} (id) VALUES (10)`));
    expect(sqlStateOf(error)).toBe('23505');
    expect(await count()).toBe(0);
  });

  describe('enqueue inside the application’s own Kysely transaction', () => {
    const queries = () => new Queries(driver, { schema });
    const enqueueIn = (trx: Transaction<unknown>, entrypoint: string) =>
      queries().enqueue({ entrypoint, payload: { n: 1 } }, { executor: kyselyQueryable(trx) });
    const queued = async (entrypoint: string) =>
      (await queries().queueSize()).filter((row) => row.entrypoint === entrypoint).reduce((sum, row) => sum + row.count, 0);

    it('enqueues with the commit, and a polling worker (no listen source) runs the job', async () => {
      const entrypoint = `committed_${suffix()}`;
      const id = await opened.db.transaction().execute(async (trx) => {
        await sql`INSERT INTO ${sql.table(table)} (id) VALUES (${2})`.execute(trx);
        return enqueueIn(trx, entrypoint);
      });
      expect(await queued(entrypoint)).toBe(1);
      expect(await count()).toBe(1);
      await clear();

      const ran: { id: JobId; payload: unknown }[] = [];
      const qm = new QueueManager(driver, { schema, pollIntervalMs: 50 });
      qm.entrypoint<{ n: number }>(entrypoint, (job) => {
        ran.push({ id: job.id, payload: job.payload });
      });
      const running = qm.run();
      try {
        await waitFor('the worker to run the job', () => ran.length === 1);
      } finally {
        await qm.stop();
        await running;
      }
      expect(ran).toEqual([{ id, payload: { n: 1 } }]);
      await waitFor('the job to be completed', async () => (await queued(entrypoint)) === 0);
    });
  });

  describe('close', () => {
    it('refuses a Kysely transaction in place of the instance, pointing to kyselyQueryable', async () => {
      await opened.db.transaction().execute(async (trx) => {
        const error = thrownBy(() => createKyselyDriver(trx as unknown as Kysely<unknown>)) as PgQueueError;
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.message).toMatch(/kyselyQueryable\(trx\)/);
      });
    });
  });
});
