import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, PgQueueError } from '@pgqueue/core';
import { toPgQueueError } from '@pgqueue/core/adapter';
import { listenOutageCases, rejectionOf, waitFor } from '@pgqueue/core/testing';
import { createListenClient } from '../src/client.js';
import { createPgDriver } from '../src/index.js';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.log('@pgqueue/pg adapter tests: DATABASE_URL is not set, so the real-server tests are skipped.');
}

const suffix = () => randomBytes(4).toString('hex');

describe('pg adapter without a server', () => {
  it('builds the LISTEN client from the pool’s settings, password included (pg hides it from a spread)', async () => {
    const pool = new pg.Pool({ host: 'db.example', port: 6543, user: 'app', password: 'secret', database: 'jobs' });
    const client = createListenClient(pool.options) as unknown as pg.Client;
    expect({ ...pool.options }).not.toHaveProperty('password');
    expect(client).toMatchObject({ host: 'db.example', port: 6543, user: 'app', database: 'jobs', password: 'secret' });
    await pool.end();
  });

  it('has a pool to run statements concurrently and LISTENs on connections of its own', async () => {
    const driver = createPgDriver('postgres://postgres@127.0.0.1:1/postgres');
    expect(driver.capabilities).toEqual({ concurrentQueries: true, listen: true });
    await driver.close();
  });
});

describe.skipIf(!DATABASE_URL)('pg adapter on a real server', () => {
  const url = DATABASE_URL!;
  let admin: pg.Pool;
  let driver: Driver;
  let table: string;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: url, max: 2 });
    driver = createPgDriver(url, { max: 4 });
    table = `pgq_adapter_pg_${suffix()}`;
    await driver.exec(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
  });

  afterAll(async () => {
    await driver?.exec(`DROP TABLE IF EXISTS ${table}`);
    await driver?.close();
    await admin?.end();
  });

  const backends = async (applicationName: string) =>
    Number(
      (await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]))
        .rows[0]!.n,
    );

  it('releases the connection after every transaction, committed or not', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const single = createPgDriver(pool);
    try {
      for (let i = 0; i < 3; i++) {
        await rejectionOf(single.transaction(async () => Promise.reject(new Error('fail'))));
        await single.transaction(async (tx) => tx.query('SELECT 1'));
      }
      // With max 1, a leaked client would make this wait forever.
      expect((await single.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(pool.totalCount).toBe(1);
      expect(pool.idleCount).toBe(1);
    } finally {
      await single.close();
      await pool.end();
    }
  });

  it('runs overlapping statements of a transaction one after another, without pg’s deprecation warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const values = await driver.transaction(async (tx) =>
        Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            tx.query<{ v: number }>('SELECT $1::int AS v, pg_sleep(0.01)', [String(i)]).then((r) => r.rows[0]!.v),
          ),
        ),
      );
      expect(values).toEqual([0, 1, 2, 3, 4]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => /already executing a query/.test(warning.message))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('fails a statement past its timeoutMs, cancels it on the server, and discards its connection', async () => {
    await driver.query(`INSERT INTO ${table} (id, note) VALUES (40, 'locked')`);
    const locker = await admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT id FROM ${table} WHERE id = 40 FOR UPDATE`);
      const marker = `pgq_timeout_${suffix()}`;
      const waiting = `UPDATE ${table} SET note = '${marker}' WHERE id = 40`;
      const error = await rejectionOf(driver.query(waiting, [], { timeoutMs: 300 }));
      expect(toPgQueueError(error, { operation: 'test' }).code).toBe('STATEMENT_TIMEOUT');
      // The server-side statement is canceled rather than left waiting on the lock.
      const stillWaiting = async () =>
        Number(
          (
            await admin.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()`,
              [`%${marker}%`],
            )
          ).rows[0]!.n,
        );
      await waitFor('the canceled statement to stop waiting', async () => (await stillWaiting()) === 0);
      await locker.query('COMMIT');
    } finally {
      locker.release();
    }
    expect((await driver.query<{ note: string }>(`SELECT note FROM ${table} WHERE id = 40`)).rows).toEqual([{ note: 'locked' }]);
    expect((await driver.query<{ one: number }>('SELECT 1 AS one', [], { timeoutMs: 5_000 })).rows).toEqual([{ one: 1 }]);
  });

  it('survives an idle pool connection being terminated', async () => {
    const applicationName = `pgq_idle_${suffix()}`;
    const owned = createPgDriver(url, { max: 1, applicationName });
    try {
      await owned.query('SELECT 1');
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ]);
      await waitFor('the terminated backend to go away', async () => (await backends(applicationName)) === 0);
      // The pool's 'error' event fired for the idle client; unhandled, it would have crashed the process.
      let result: unknown;
      await waitFor('a query to succeed again', async () => {
        result = await owned.query('SELECT 2 AS two').catch(() => undefined);
        return result !== undefined;
      });
      expect(result).toEqual({ rows: [{ two: 2 }], rowCount: 1 });
    } finally {
      await owned.close();
    }
  });

  describe('listen', () => {
    describe('through an outage', () =>
      listenOutageCases({
        url,
        createDriver: (proxyUrl) => createPgDriver(proxyUrl, { max: 1 }),
        notify: (channel, payload) => admin.query('SELECT pg_notify($1, $2)', [channel, payload]),
      }));
  });

  describe('close', () => {
    it('names its pool and LISTEN connections with applicationName, and ends the pool it created', async () => {
      const applicationName = `pgq_owned_${suffix()}`;
      const owned = createPgDriver(url, { max: 2, applicationName });
      await Promise.all([owned.query('SELECT pg_sleep(0.05)'), owned.query('SELECT pg_sleep(0.05)')]);
      await owned.listen(`pgq_close_${suffix()}`, () => {});
      expect(await backends(applicationName)).toBe(3);
      await owned.close();
      expect(owned.pool.ending).toBe(true);
    });

    it('reports DRIVER_CLOSED when the caller ended its pool', async () => {
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const borrowed = createPgDriver(pool);
      await pool.end();
      expect(((await rejectionOf(borrowed.query('SELECT 1'))) as PgQueueError).code).toBe('DRIVER_CLOSED');
      await borrowed.close();
    });
  });
});
