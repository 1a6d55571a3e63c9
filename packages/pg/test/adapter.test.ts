import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgQueueError, sqlStateOf, toPgQueueError, type Driver } from '@pgqueue/core';
import { listenOutageCases, startOutageProxy, waitFor } from '@pgqueue/core/testing';
import { createListenClient } from '../src/client.js';
import { createPgDriver, pgQueryable } from '../src/index.js';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.log('@pgqueue/pg adapter tests: DATABASE_URL is not set, so the real-server tests are skipped.');
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

describe('pg adapter without a server', () => {
  it.each(['', 'not a url', 'mysql://user@host/db', 'postgres://'])(
    'rejects the malformed connection string %j with CONNECTION_FAILED',
    (value) => {
      let caught: unknown;
      try {
        createPgDriver(value);
      } catch (error) {
        caught = error;
      }
      expect(PgQueueError.isInstance(caught)).toBe(true);
      expect((caught as PgQueueError).code).toBe('CONNECTION_FAILED');
      expect((caught as PgQueueError).message).toMatch(/connection string/);
    },
  );

  it('does not echo the password of a malformed connection string', () => {
    expect(() => createPgDriver('mysql://user:hunter2@host/db')).toThrow(/^(?!.*hunter2)/s);
  });

  it('rejects the first query on an unreachable server with an error the core maps to CONNECTION_FAILED', async () => {
    const driver = createPgDriver('postgres://postgres@127.0.0.1:1/postgres');
    try {
      const error = await rejectionOf(driver.query('SELECT 1'));
      expect(toPgQueueError(error, { operation: 'test' }).code).toBe('CONNECTION_FAILED');
    } finally {
      await driver.close();
    }
  });

  it('builds the LISTEN client from the pool’s settings, password included (pg hides it from a spread)', async () => {
    const pool = new pg.Pool({ host: 'db.example', port: 6543, user: 'app', password: 'secret', database: 'jobs' });
    const client = createListenClient(pool.options) as unknown as pg.Client;
    expect({ ...pool.options }).not.toHaveProperty('password');
    expect(client).toMatchObject({ host: 'db.example', port: 6543, user: 'app', database: 'jobs', password: 'secret' });
    await pool.end();
  });

  it('reports its name, specification version and capabilities', async () => {
    const driver = createPgDriver('postgres://postgres@127.0.0.1:1/postgres');
    expect(driver.name).toBe('pg');
    expect(driver.specificationVersion).toBe(1);
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

  const count = async () =>
    Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  const backends = async (applicationName: string, queryPattern = '%') =>
    Number(
      (
        await admin.query<{ n: string }>(
          'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE $2',
          [applicationName, queryPattern],
        )
      ).rows[0]!.n,
    );

  it('returns rows, and rowCount as affected rows for DML and returned rows otherwise', async () => {
    const select = await driver.query<{ n: number }>('SELECT generate_series(1, $1::int) AS n', ['3']);
    expect(select).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }], rowCount: 3 });

    const insert = await driver.query(`INSERT INTO ${table} (id) SELECT generate_series(1, 5)`);
    expect(insert).toEqual({ rows: [], rowCount: 5 });
    const update = await driver.query<{ id: number }>(
      `UPDATE ${table} SET note = $1::text WHERE id > $2::int RETURNING id`,
      ['x', '3'],
    );
    expect(update.rowCount).toBe(2);
    expect(update.rows.map((row) => row.id).sort()).toEqual([4, 5]);
    const ddl = await driver.query(`CREATE INDEX ON ${table} (note)`);
    expect(ddl.rowCount).toBe(0);
    expect((await driver.query(`DELETE FROM ${table}`)).rowCount).toBe(5);
  });

  it('sends null parameters as NULL', async () => {
    const { rows } = await driver.query<{ isnull: boolean }>('SELECT $1::text IS NULL AS isnull', [null]);
    expect(rows).toEqual([{ isnull: true }]);
  });

  it('runs a named statement repeatedly on every pool connection', async () => {
    const name = `pgq_named_${suffix()}`;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        driver.query<{ v: string }>('SELECT $1::text AS v', [String(i)], { name }),
      ),
    );
    expect(results.map((result) => result.rows[0]!.v)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it('exec runs several statements', async () => {
    await driver.exec(`INSERT INTO ${table} (id) VALUES (100); INSERT INTO ${table} (id) VALUES (101);`);
    expect(await count()).toBe(2);
    await driver.exec(`DELETE FROM ${table}`);
  });

  it('rethrows server errors as they are, with the SQLSTATE on code', async () => {
    const error = await rejectionOf(driver.query('SELECT 1/0'));
    expect(PgQueueError.isInstance(error)).toBe(false);
    expect(sqlStateOf(error)).toBe('22012');
    const missing = await rejectionOf(driver.exec('SELECT * FROM pgq_table_that_does_not_exist'));
    expect(sqlStateOf(missing)).toBe('42P01');
    expect(toPgQueueError(missing, { operation: 'test' }).code).toBe('SCHEMA_NOT_INSTALLED');
  });

  it('commits a transaction and returns what the function returned', async () => {
    const result = await driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id) VALUES ($1::int)`, ['1']);
      return (await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n;
    });
    expect(result).toBe('1');
    expect(await count()).toBe(1);
    await driver.exec(`DELETE FROM ${table}`);
  });

  it('rolls a transaction back when the function throws, and rethrows the same error', async () => {
    const thrown = new Error('boom');
    const error = await rejectionOf(
      driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES ($1::int)`, ['1']);
        throw thrown;
      }),
    );
    expect(error).toBe(thrown);
    expect(await count()).toBe(0);

    const sqlError = await rejectionOf(
      driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES (1)`);
        await tx.query(`INSERT INTO ${table} (id) VALUES (1)`);
      }),
    );
    expect(sqlStateOf(sqlError)).toBe('23505');
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

  it('refuses statements on a transaction handle after the transaction ended', async () => {
    let leaked: { query: (text: string) => Promise<unknown> } | undefined;
    await driver.transaction(async (tx) => {
      leaked = tx;
    });
    const error = await rejectionOf(leaked!.query('SELECT 1'));
    expect((error as PgQueueError).code).toBe('INVALID_ARGUMENT');
  });

  it('pgQueryable runs statements inside the caller’s own transaction', async () => {
    const client = await admin.connect();
    try {
      const executor = pgQueryable(client);
      await client.query('BEGIN');
      await executor.query(`INSERT INTO ${table} (id) VALUES ($1::int)`, ['1']);
      await client.query('ROLLBACK');
      expect(await count()).toBe(0);

      await client.query('BEGIN');
      const inserted = await executor.query(`INSERT INTO ${table} (id) VALUES ($1::int), ($2::int)`, ['1', '2']);
      expect(inserted.rowCount).toBe(2);
      await executor.exec(`UPDATE ${table} SET note = 'a'; UPDATE ${table} SET note = 'b'`);
      await client.query('COMMIT');
      expect(await count()).toBe(2);
    } finally {
      client.release();
      await driver.exec(`DELETE FROM ${table}`);
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
    it('rejects channel names that are not lower-case identifiers', async () => {
      for (const channel of ['Upper', 'a-b', '1abc', 'a"b', '', 'x y']) {
        const error = await rejectionOf(driver.listen(channel, () => {}));
        expect((error as PgQueueError).code).toBe('INVALID_ARGUMENT');
      }
    });

    it('receives notifications, also on a channel named like a keyword, until closed', async () => {
      const channel = 'select';
      const received: string[] = [];
      const handle = await driver.listen(channel, (payload) => received.push(payload));
      await admin.query('SELECT pg_notify($1, $2)', [channel, 'hello']);
      await admin.query('SELECT pg_notify($1, $2)', [channel, '']);
      await waitFor('two notifications', () => received.length === 2);
      expect(received).toEqual(['hello', '']);
      await handle.close();
      await admin.query('SELECT pg_notify($1, $2)', [channel, 'late']);
      await admin.query('SELECT 1');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received).toEqual(['hello', '']);
    });

    it('listens on a dedicated connection, not one of the pool', async () => {
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const single = createPgDriver(pool);
      const channel = `pgq_dedicated_${suffix()}`;
      const received: string[] = [];
      try {
        await single.listen(channel, (payload) => received.push(payload));
        // The pool's only connection is held by the transaction while the notification arrives.
        await single.transaction(async () => {
          await admin.query('SELECT pg_notify($1, $2)', [channel, 'during']);
          await waitFor('the notification', () => received.length === 1);
        });
        expect(received).toEqual(['during']);
      } finally {
        await single.close();
        await pool.end();
      }
    });

    it('reconnects after its backend is terminated and receives later notifications', async () => {
      const applicationName = `pgq_listen_${suffix()}`;
      const owned = createPgDriver(url, { max: 1, applicationName });
      const channel = `pgq_chan_${suffix()}`;
      const received: string[] = [];
      const errors: unknown[] = [];
      let reconnects = 0;
      try {
        await owned.listen(channel, (payload) => received.push(payload), {
          onReconnect: () => reconnects++,
          onError: (error) => errors.push(error),
        });
        await admin.query('SELECT pg_notify($1, $2)', [channel, 'before']);
        await waitFor('the first notification', () => received.length === 1);

        const terminated = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = $1 AND query ILIKE 'listen%' AND pid <> pg_backend_pid()`,
          [applicationName],
        );
        expect(terminated.rowCount).toBe(1);
        await waitFor('onReconnect', () => reconnects === 1);
        expect(errors.length).toBeGreaterThan(0);
        expect(sqlStateOf(errors[0])).toBe('57P01');

        await admin.query('SELECT pg_notify($1, $2)', [channel, 'after']);
        await waitFor('the notification after reconnecting', () => received.length === 2);
        expect(received).toEqual(['before', 'after']);
      } finally {
        await owned.close();
      }
      await waitFor('the LISTEN connection to end', async () => (await backends(applicationName)) === 0);
    });

    describe('through an outage', () =>
      listenOutageCases({
        url,
        createDriver: (proxyUrl) => createPgDriver(proxyUrl, { max: 1 }),
        notify: (channel, payload) => admin.query('SELECT pg_notify($1, $2)', [channel, payload]),
      }));
  });

  describe('close', () => {
    it('leaves a pool passed in by the caller open', async () => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      const borrowed = createPgDriver(pool);
      await borrowed.query('SELECT 1');
      await borrowed.listen(`pgq_close_${suffix()}`, () => {});
      await borrowed.close();
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(pool.ending).toBe(false);
      const error = await rejectionOf(borrowed.query('SELECT 1'));
      expect((error as PgQueueError).code).toBe('DRIVER_CLOSED');
      await pool.end();
    });

    it('closes while its connections are stalled (open, nothing answered)', async () => {
      const proxy = await startOutageProxy(url);
      try {
        const owned = createPgDriver(proxy.url, { max: 1 });
        await owned.query('SELECT 1');
        await owned.listen(`pgq_stalled_${suffix()}`, () => {});
        proxy.stall();
        const outcome = await Promise.race([
          owned.close().then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('still closing'), 15_000)),
        ]);
        expect(outcome).toBe('closed');
        // Nothing is left open once the line comes back.
        proxy.up();
        await waitFor('every connection to end', () => proxy.open === 0);
      } finally {
        await proxy.close();
      }
    });

    it('ends the pool and LISTEN connections it created, and refuses work afterwards', async () => {
      const applicationName = `pgq_owned_${suffix()}`;
      const owned = createPgDriver(url, { max: 2, applicationName });
      await Promise.all([owned.query('SELECT pg_sleep(0.05)'), owned.query('SELECT pg_sleep(0.05)')]);
      await owned.listen(`pgq_close_${suffix()}`, () => {});
      expect(await backends(applicationName)).toBe(3);
      await owned.close();
      await owned.close();
      expect(owned.pool.ending).toBe(true);
      await waitFor('every connection to end', async () => (await backends(applicationName)) === 0);
      for (const attempt of [
        owned.query('SELECT 1'),
        owned.exec('SELECT 1'),
        owned.transaction(async () => 1),
        owned.listen('pgq_after_close', () => {}),
      ]) {
        expect(((await rejectionOf(attempt)) as PgQueueError).code).toBe('DRIVER_CLOSED');
      }
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
