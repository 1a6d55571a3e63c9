import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgQueueError, sqlStateOf, toPgQueueError, type Driver, type Queryable } from '@pgqueue/core';
import { listenOutageCases, startOutageProxy, waitFor } from '@pgqueue/core/testing';
import { createPostgresJsDriver, postgresJsQueryable } from '../src/index.js';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.log('@pgqueue/postgres-js adapter tests: DATABASE_URL is not set, so the real-server tests are skipped.');
}

const suffix = () => randomBytes(4).toString('hex');

function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('postgres.js adapter without a server', () => {
  it.each(['', 'not a url', 'mysql://user@host/db', 'postgres://'])(
    'rejects the malformed connection string %j with CONNECTION_FAILED',
    (value) => {
      let caught: unknown;
      try {
        createPostgresJsDriver(value);
      } catch (error) {
        caught = error;
      }
      expect(PgQueueError.isInstance(caught)).toBe(true);
      expect((caught as PgQueueError).code).toBe('CONNECTION_FAILED');
      expect((caught as PgQueueError).message).toMatch(/connection string/);
    },
  );

  it('rejects the first query on an unreachable server with an error the core maps to CONNECTION_FAILED', async () => {
    const driver = createPostgresJsDriver('postgres://postgres@127.0.0.1:1/postgres?connect_timeout=2');
    try {
      const error = await rejectionOf(driver.query('SELECT 1'));
      expect(toPgQueueError(error, { operation: 'test' }).code).toBe('CONNECTION_FAILED');
    } finally {
      await driver.close();
    }
  });

  it('reports its name, specification version and capabilities', async () => {
    const driver = createPostgresJsDriver('postgres://postgres@127.0.0.1:1/postgres');
    expect(driver.name).toBe('postgres-js');
    expect(driver.specificationVersion).toBe(1);
    expect(driver.capabilities).toEqual({ concurrentQueries: true, listen: true });
    await driver.close();
  });

  it.each([
    ['column names', { transform: postgres.camel }],
    ['values', { transform: { value: { from: (value: unknown) => value } } }],
    ['rows', { transform: { row: { from: (row: postgres.Row) => row } } }],
  ])('refuses an sql instance that transforms %s', async (_, transformOptions) => {
    const sql = postgres('postgres://postgres@127.0.0.1:1/postgres', transformOptions);
    try {
      expect(() => createPostgresJsDriver(sql)).toThrow(/transform/);
      expect(() => createPostgresJsDriver(sql)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    } finally {
      await sql.end();
    }
  });
});

describe.skipIf(!DATABASE_URL)('postgres.js adapter on a real server', () => {
  const url = DATABASE_URL!;
  let admin: postgres.Sql;
  let driver: Driver;
  let table: string;

  beforeAll(async () => {
    admin = postgres(url, { max: 2, onnotice: () => {} });
    driver = createPostgresJsDriver(url, { max: 4 });
    table = `pgq_adapter_pgjs_${suffix()}`;
    await driver.exec(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
  });

  afterAll(async () => {
    await driver?.exec(`DROP TABLE IF EXISTS ${table}`);
    await driver?.close();
    await admin?.end();
  });

  const count = async () => Number((await admin.unsafe(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);
  const backends = async (applicationName: string, queryPattern = '%') =>
    (
      await admin`SELECT count(*)::int AS n FROM pg_stat_activity
                   WHERE application_name = ${applicationName} AND query ILIKE ${queryPattern}`
    )[0]!.n as number;
  const notify = (channel: string, payload: string) => admin`SELECT pg_notify(${channel}, ${payload})`;

  it('returns plain rows, and rowCount as affected rows for DML and returned rows otherwise', async () => {
    const select = await driver.query<{ n: number }>('SELECT generate_series(1, $1::int) AS n', ['3']);
    expect(select).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }], rowCount: 3 });
    expect(Object.getPrototypeOf(select.rows)).toBe(Array.prototype);

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

  it('runs a statement with a name (prepared) repeatedly on every connection', async () => {
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
    expect(error).toBeInstanceOf(postgres.PostgresError);
    expect(sqlStateOf(error)).toBe('22012');
    const missing = await rejectionOf(driver.exec('SELECT * FROM pgq_table_that_does_not_exist'));
    expect(sqlStateOf(missing)).toBe('42P01');
    expect(toPgQueueError(missing, { operation: 'test' }).code).toBe('SCHEMA_NOT_INSTALLED');
  });

  it('commits a transaction and returns what the function returned', async () => {
    const result = await driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id) VALUES ($1::int)`, ['1']);
      return (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    });
    expect(result).toBe(1);
    expect(await count()).toBe(1);
    await driver.exec(`DELETE FROM ${table}`);
  });

  it('returns an array result of a transaction as it is', async () => {
    const result = await driver.transaction(async (tx) => {
      const { rows } = await tx.query<{ n: number }>('SELECT generate_series(1, 2) AS n');
      return rows.map((row) => row.n);
    });
    expect(result).toEqual([1, 2]);
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
    expect(sqlStateOf(error)).toBe('22012');
    expect(await count()).toBe(0);
  });

  it('releases the connection after every transaction, committed or not', async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const single = createPostgresJsDriver(sql);
    try {
      for (let i = 0; i < 3; i++) {
        await rejectionOf(single.transaction(async () => Promise.reject(new Error('fail'))));
        await single.transaction(async (tx) => tx.query('SELECT 1'));
      }
      // With max 1, a connection left reserved would make this wait forever.
      expect((await single.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await single.close();
      await sql.end();
    }
  });

  it('refuses statements on a transaction handle after the transaction ended', async () => {
    let leaked: Queryable | undefined;
    await driver.transaction(async (tx) => {
      leaked = tx;
    });
    const error = await rejectionOf(leaked!.query('SELECT 1'));
    expect((error as PgQueueError).code).toBe('INVALID_ARGUMENT');
  });

  it('postgresJsQueryable runs statements inside the caller’s own transaction', async () => {
    const rollback = new Error('roll back');
    await rejectionOf(
      admin.begin(async (tx) => {
        await postgresJsQueryable(tx).query(`INSERT INTO ${table} (id) VALUES ($1::int)`, ['1']);
        throw rollback;
      }),
    );
    expect(await count()).toBe(0);

    await admin.begin(async (tx) => {
      const executor = postgresJsQueryable(tx);
      const inserted = await executor.query(`INSERT INTO ${table} (id) VALUES ($1::int), ($2::int)`, ['1', '2']);
      expect(inserted.rowCount).toBe(2);
      await executor.exec(`UPDATE ${table} SET note = 'a'; UPDATE ${table} SET note = 'b'`);
    });
    expect(await count()).toBe(2);
    await driver.exec(`DELETE FROM ${table}`);
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
      await notify(channel, 'hello');
      await notify(channel, '');
      await waitFor('two notifications', () => received.length === 2);
      expect(received).toEqual(['hello', '']);
      await handle.close();
      await notify(channel, 'late');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received).toEqual(['hello', '']);
    });

    it('listens on a dedicated connection, not one of the pool', async () => {
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      const single = createPostgresJsDriver(sql);
      const channel = `pgq_dedicated_${suffix()}`;
      const received: string[] = [];
      try {
        await single.listen(channel, (payload) => received.push(payload));
        // The pool's only connection is held by the transaction while the notification arrives.
        await single.transaction(async () => {
          await notify(channel, 'during');
          await waitFor('the notification', () => received.length === 1);
        });
        expect(received).toEqual(['during']);
      } finally {
        await single.close();
        await sql.end();
      }
    });

    it('reconnects after its backend is terminated, receives later notifications, and stops after close', async () => {
      const applicationName = `pgq_listen_${suffix()}`;
      const owned = createPostgresJsDriver(withApplicationName(url, applicationName), { max: 1 });
      const channel = `pgq_chan_${suffix()}`;
      const received: string[] = [];
      const errors: unknown[] = [];
      let reconnects = 0;
      try {
        const handle = await owned.listen(channel, (payload) => received.push(payload), {
          onReconnect: () => reconnects++,
          onError: (error) => errors.push(error),
        });
        await notify(channel, 'before');
        await waitFor('the first notification', () => received.length === 1);

        const terminated = await admin`
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = ${applicationName} AND query ILIKE 'listen%' AND pid <> pg_backend_pid()`;
        expect(terminated.count).toBe(1);
        await waitFor('onReconnect', () => reconnects === 1);
        expect(errors.length).toBeGreaterThan(0);

        await notify(channel, 'after');
        await waitFor('the notification after reconnecting', () => received.length === 2);
        expect(received).toEqual(['before', 'after']);

        // postgres.js's own sql.listen fails exactly here: after a reconnect its unlisten() is a no-op.
        await handle.close();
        await notify(channel, 'closed');
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(received).toEqual(['before', 'after']);
        expect(await backends(applicationName, 'listen%')).toBe(0);
      } finally {
        await owned.close();
      }
    });

    describe('through an outage', () =>
      listenOutageCases({
        url,
        createDriver: (proxyUrl) => createPostgresJsDriver(proxyUrl, { max: 1 }),
        notify,
      }));
  });

  describe('close', () => {
    it('leaves an sql passed in by the caller open', async () => {
      const sql = postgres(url, { max: 2, onnotice: () => {} });
      const borrowed = createPostgresJsDriver(sql);
      await borrowed.query('SELECT 1');
      await borrowed.listen(`pgq_close_${suffix()}`, () => {});
      await borrowed.close();
      expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]);
      const error = await rejectionOf(borrowed.query('SELECT 1'));
      expect((error as PgQueueError).code).toBe('DRIVER_CLOSED');
      await sql.end();
    });

    it('closes while its connections are stalled (open, nothing answered), a query still waiting', async () => {
      const proxy = await startOutageProxy(url);
      try {
        const owned = createPostgresJsDriver(proxy.url, { max: 1 });
        await owned.query('SELECT 1');
        await owned.listen(`pgq_stalled_${randomBytes(4).toString('hex')}`, () => {});
        proxy.stall();
        const hung = owned.query('SELECT 1').catch((error: unknown) => error);
        const outcome = await Promise.race([
          owned.close().then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('still closing'), 15_000)),
        ]);
        expect(outcome).toBe('closed');
        expect(await hung).toBeInstanceOf(Error);
      } finally {
        await proxy.close();
      }
    });

    it('ends the sql and LISTEN connections it created, and refuses work afterwards', async () => {
      const applicationName = `pgq_owned_${suffix()}`;
      const owned = createPostgresJsDriver(withApplicationName(url, applicationName), { max: 2 });
      await Promise.all([owned.query('SELECT pg_sleep(0.05)'), owned.query('SELECT pg_sleep(0.05)')]);
      await owned.listen(`pgq_close_${suffix()}`, () => {});
      expect(await backends(applicationName)).toBe(3);
      await owned.close();
      await owned.close();
      await waitFor('every connection to end', async () => (await backends(applicationName)) === 0);
      expect(toPgQueueError(await rejectionOf(Promise.resolve(owned.sql.unsafe('SELECT 1'))), { operation: 'test' }).code).toBe(
        'CONNECTION_FAILED',
      );
      for (const attempt of [
        owned.query('SELECT 1'),
        owned.exec('SELECT 1'),
        owned.transaction(async () => 1),
        owned.listen('pgq_after_close', () => {}),
      ]) {
        expect(((await rejectionOf(attempt)) as PgQueueError).code).toBe('DRIVER_CLOSED');
      }
    });
  });
});
