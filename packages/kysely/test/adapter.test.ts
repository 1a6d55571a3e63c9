import { randomBytes } from 'node:crypto';
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgQueueError, QueueManager, Queries, installSchema, sqlStateOf, type JobId, type Queryable } from '@pgqueue/core';
import { waitFor } from '@pgqueue/core/testing';
import { createKyselyDriver, kyselyQueryable, type KyselyDriver } from '../src/index.js';
import { runnableTargets, type Opened } from './targets.js';

if (!process.env.DATABASE_URL) {
  console.log('@pgqueue/kysely adapter tests: DATABASE_URL is not set, so only the PGlite dialect is tested.');
}

const suffix = () => randomBytes(4).toString('hex');

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the function to throw');
}

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

  it('returns rows, and rowCount as affected rows for DML and returned rows otherwise', async () => {
    const select = await driver.query<{ n: number }>('SELECT generate_series(1, $1::int) AS n', ['3']);
    expect(select).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }], rowCount: 3 });
    expect(await driver.query(`INSERT INTO ${table} (id) SELECT generate_series(1, 5)`)).toEqual({ rows: [], rowCount: 5 });
    const update = await driver.query<{ id: number }>(`UPDATE ${table} SET note = $1::text WHERE id > $2::int RETURNING id`, ['x', '3']);
    expect(update.rowCount).toBe(2);
    expect(update.rows.map((row) => row.id).sort()).toEqual([4, 5]);
    expect((await driver.query(`UPDATE ${table} SET note = 'y' WHERE id > 100`)).rowCount).toBe(0);
    expect((await driver.query(`CREATE INDEX ON ${table} (note)`)).rowCount).toBe(0);
    expect((await driver.query(`DELETE FROM ${table}`)).rowCount).toBe(5);
  });

  it('sends null parameters as NULL', async () => {
    expect((await driver.query('SELECT $1::text IS NULL AS isnull', [null])).rows).toEqual([{ isnull: true }]);
  });

  it('lets timers run while a loop of statements keeps it busy', async () => {
    let fired = 0;
    const timer = setTimeout(() => fired++, 5);
    const started = Date.now();
    // An in-process database answers without a turn of the event loop unless the adapter yields.
    while (fired === 0 && Date.now() - started < 5_000) await driver.query('SELECT 1');
    clearTimeout(timer);
    expect(fired).toBe(1);
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

  it('commits a transaction, and rolls it back when the function throws, rethrowing the same error', async () => {
    const result = await driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id) VALUES ($1::int)`, ['1']);
      await tx.exec(`INSERT INTO ${table} (id) VALUES (2); INSERT INTO ${table} (id) VALUES (3)`);
      return (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    });
    expect(result).toBe(3);
    expect(await count()).toBe(3);
    await clear();

    const thrown = new Error('boom');
    const error = await rejectionOf(
      driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES ($1::int)`, ['1']);
        throw thrown;
      }),
    );
    expect(error).toBe(thrown);
    expect(await count()).toBe(0);
  });

  it('does not report a commit when the function swallowed a failed statement', async () => {
    const error = await rejectionOf(
      driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES (7)`);
        await tx.query('SELECT 1/0').catch(() => undefined);
      }),
    );
    expect(sqlStateOf(error)).toBe('25P02');
    expect(await count()).toBe(0);
  });

  it('refuses statements on a transaction handle after the transaction ended', async () => {
    let leaked: Queryable | undefined;
    await driver.transaction(async (tx) => {
      leaked = tx;
    });
    expect(((await rejectionOf(leaked!.query('SELECT 1'))) as PgQueueError).code).toBe('INVALID_ARGUMENT');
    expect((await driver.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  describe('enqueue inside the application’s own Kysely transaction', () => {
    const queries = () => new Queries(driver, { schema });
    const enqueueIn = (trx: Transaction<unknown>, entrypoint: string) =>
      queries().enqueue({ entrypoint, payload: { n: 1 } }, { executor: kyselyQueryable(trx) });
    const queued = async (entrypoint: string) =>
      (await queries().queueSize()).filter((row) => row.entrypoint === entrypoint).reduce((sum, row) => sum + row.count, 0);

    it('enqueues nothing when the transaction rolls back', async () => {
      const entrypoint = `rolled_back_${suffix()}`;
      const rollback = new Error('roll back');
      const error = await rejectionOf(
        opened.db.transaction().execute(async (trx) => {
          await sql`INSERT INTO ${sql.table(table)} (id) VALUES (${1})`.execute(trx);
          await enqueueIn(trx, entrypoint);
          throw rollback;
        }),
      );
      expect(error).toBe(rollback);
      expect(await queued(entrypoint)).toBe(0);
      expect(await count()).toBe(0);
    });

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
    it('leaves the Kysely instance and the listen source open, stops its LISTEN subscriptions, refuses work afterwards', async () => {
      const borrowed = createKyselyDriver(opened.db, { ...target.options, listen: opened.listener });
      const channel = `pgq_close_${suffix()}`;
      const received: string[] = [];
      await borrowed.listen(channel, (payload) => received.push(payload));
      await borrowed.query(`SELECT pg_notify('${channel}', 'before')`);
      await waitFor('the notification', () => received.length === 1);
      await borrowed.close();
      await borrowed.close();

      await opened.db.executeQuery(sql`SELECT pg_notify(${channel}, 'after')`.compile(opened.db));
      expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(opened.db)).rows).toEqual([{ one: 1 }]);
      expect((await opened.listener.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received).toEqual(['before']);
      for (const attempt of [
        borrowed.query('SELECT 1'),
        borrowed.exec('SELECT 1'),
        borrowed.transaction(async () => 1),
        borrowed.listen('pgq_after_close', () => {}),
      ]) {
        expect(((await rejectionOf(attempt)) as PgQueueError).code).toBe('DRIVER_CLOSED');
      }
    });

    it('refuses a Kysely transaction in place of the instance, pointing to kyselyQueryable', async () => {
      await opened.db.transaction().execute(async (trx) => {
        const error = thrownBy(() => createKyselyDriver(trx as unknown as Kysely<unknown>)) as PgQueueError;
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.message).toMatch(/kyselyQueryable\(trx\)/);
      });
    });
  });
});
