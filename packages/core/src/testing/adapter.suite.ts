/**
 * The Driver contract itself, the same for every adapter: results and row counts, parameters,
 * statement names, several statements in `exec`, errors left as the client threw them (with the
 * SQLSTATE on `code`), transactions (commit, rollback, a swallowed failure, a handle kept past
 * the end, the driver used inside its own transaction), enqueue inside the application's own
 * transaction, and what `close()` refuses afterwards.
 */
import { expect, it } from 'vitest';
import { DRIVER_SPECIFICATION_VERSION, type Driver, type Queryable } from '../driver.js';
import { PgQueueError, sqlStateOf, toPgQueueError } from '../errors.js';
import type { ConformanceTarget, Fixture } from './target.js';
import { rejectionOf, settledWithin, sleep, waitFor } from './wait.js';


export function adapterCases(fx: () => Fixture, target: ConformanceTarget): void {
  const table = () => `"${fx().schema}".adapter_rows`;
  const count = async () =>
    Number((await fx().driver.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table()}`)).rows[0]!.n);
  const clear = () => fx().driver.exec(`DELETE FROM ${table()}`);

  it('states the contract version, its name and both capability flags', async () => {
    await fx().driver.exec(`CREATE TABLE ${table()} (id int PRIMARY KEY, note text)`);
    const { driver } = fx();
    expect(driver.specificationVersion).toBe(DRIVER_SPECIFICATION_VERSION);
    expect(driver.name).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(typeof driver.capabilities.concurrentQueries).toBe('boolean');
    expect(typeof driver.capabilities.listen).toBe('boolean');
  });

  it('returns rows, and rowCount as affected rows for DML and returned rows otherwise', async () => {
    const { driver } = fx();
    const select = await driver.query<{ n: number }>('SELECT generate_series(1, $1::int) AS n', ['3']);
    expect(select).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }], rowCount: 3 });
    expect(Object.getPrototypeOf(select.rows)).toBe(Array.prototype);
    expect(await driver.query(`INSERT INTO ${table()} (id) SELECT generate_series(1, 5)`)).toEqual({ rows: [], rowCount: 5 });
    const update = await driver.query<{ id: number }>(`UPDATE ${table()} SET note = $1::text WHERE id > $2::int RETURNING id`, ['x', '3']);
    expect(update.rowCount).toBe(2);
    expect(update.rows.map((row) => row.id).sort()).toEqual([4, 5]);
    expect((await driver.query(`UPDATE ${table()} SET note = 'y' WHERE id > 100`)).rowCount).toBe(0);
    expect((await driver.query(`CREATE INDEX ON ${table()} (note)`)).rowCount).toBe(0);
    expect((await driver.query(`DELETE FROM ${table()}`)).rowCount).toBe(5);
  });

  it('sends null parameters as NULL, and runs a named statement again and again, also concurrently', async () => {
    const { driver } = fx();
    expect((await driver.query('SELECT $1::text IS NULL AS isnull', [null])).rows).toEqual([{ isnull: true }]);
    const name = `pgq_named_${fx().entrypoint('stmt')}`;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => driver.query<{ v: string }>('SELECT $1::text AS v', [String(i)], { name })),
    );
    expect(results.map((result) => result.rows[0]!.v)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it('lets timers run while a loop of statements keeps it busy', async () => {
    let fired = 0;
    const timer = setTimeout(() => fired++, 5);
    const started = Date.now();
    // An in-process database (PGlite) answers without a turn of the event loop unless the adapter yields.
    while (fired === 0 && Date.now() - started < 5_000) await fx().driver.query('SELECT 1');
    clearTimeout(timer);
    expect(fired).toBe(1);
  });

  it('exec runs several statements', async () => {
    await fx().driver.exec(`INSERT INTO ${table()} (id) VALUES (100); INSERT INTO ${table()} (id) VALUES (101);`);
    expect(await count()).toBe(2);
    await clear();
  });

  it('rethrows database errors as the client threw them, with the SQLSTATE on code', async () => {
    const error = await rejectionOf(fx().driver.query('SELECT 1/0'));
    expect(PgQueueError.isInstance(error)).toBe(false);
    expect(sqlStateOf(error)).toBe('22012');
    const missing = await rejectionOf(fx().driver.exec(`SELECT * FROM "${fx().schema}".pgq_table_that_does_not_exist`));
    expect(sqlStateOf(missing)).toBe('42P01');
    expect(toPgQueueError(missing, { operation: 'test' }).code).toBe('SCHEMA_NOT_INSTALLED');
  });

  it('commits a transaction and returns what the function returned, arrays included', async () => {
    const result = await fx().driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table()} (id) VALUES ($1::int)`, ['1']);
      await tx.exec(`INSERT INTO ${table()} (id) VALUES (2); INSERT INTO ${table()} (id) VALUES (3)`);
      const { rows } = await tx.query<{ id: number }>(`SELECT id FROM ${table()} ORDER BY id`);
      return rows.map((row) => row.id);
    });
    expect(result).toEqual([1, 2, 3]);
    expect(await count()).toBe(3);
    await clear();
  });

  it('rolls a transaction back when the function throws, and rethrows the same error', async () => {
    const thrown = new Error('boom');
    const error = await rejectionOf(
      fx().driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table()} (id) VALUES ($1::int)`, ['1']);
        throw thrown;
      }),
    );
    expect(error).toBe(thrown);
    const sqlError = await rejectionOf(
      fx().driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table()} (id) VALUES (1)`);
        await tx.query(`INSERT INTO ${table()} (id) VALUES (1)`);
      }),
    );
    expect(sqlStateOf(sqlError)).toBe('23505');
    expect(await count()).toBe(0);
  });

  it('does not report a commit when the function swallowed a failed statement', async () => {
    const error = await rejectionOf(
      fx().driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table()} (id) VALUES (7)`);
        await tx.query('SELECT 1/0').catch(() => undefined);
      }),
    );
    // 25P02 (in failed transaction) where the client reports the aborted COMMIT, 22012 where it
    // rethrows the statement's own error.
    expect(['25P02', '22012']).toContain(sqlStateOf(error));
    expect(await count()).toBe(0);
  });

  it('refuses statements on a transaction handle after the transaction ended, and stays usable', async () => {
    let leaked: Queryable | undefined;
    await fx().driver.transaction(async (tx) => {
      leaked = tx;
    });
    for (const attempt of [leaked!.query('SELECT 1'), leaked!.exec('SELECT 1')]) {
      expect(((await rejectionOf(attempt)) as PgQueueError).code).toBe('INVALID_ARGUMENT');
    }
    expect((await fx().driver.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('refuses at once, naming tx, the driver used inside its own transaction callback', async () => {
    const { driver } = fx();
    const outcomes = await driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table()} (id) VALUES (1)`);
      const attempts = [
        driver.query('SELECT 1'),
        driver.exec('SELECT 1'),
        driver.transaction(async () => 1),
        driver.listen('pgq_inside_tx', () => {}),
      ];
      // On a one-connection client each of these would wait for this transaction for ever.
      return Promise.all(attempts.map((attempt) => settledWithin(attempt, 2_000)));
    });
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((outcome as Error).message).toMatch(/inside its own transaction\(\) callback.*queries\.in\(tx\)/);
    }
    expect(await count()).toBe(1);
    expect((await driver.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await clear();
  });

  it('enqueues nothing through driver.transaction when it rolls back, and the job when it commits', async () => {
    const { driver, queries } = fx();
    const entrypoint = fx().entrypoint('in_tx');
    await rejectionOf(
      driver.transaction(async (tx) => {
        await queries.enqueue({ entrypoint }, { executor: tx });
        throw new Error('roll back');
      }),
    );
    expect(await queuedCount(fx, entrypoint)).toBe(0);
    await driver.transaction((tx) => queries.enqueue({ entrypoint }, { executor: tx }));
    expect(await queuedCount(fx, entrypoint)).toBe(1);
  });

  it.skipIf(target.inClientTransaction === undefined)(
    "enqueues inside the application's own client transaction: nothing on rollback, the job on commit",
    async () => {
      const { driver, queries } = fx();
      const inClient = target.inClientTransaction!;
      const entrypoint = fx().entrypoint('client_tx');
      const rollback = new Error('roll back');
      const error = await rejectionOf(
        inClient(driver, async (executor) => {
          await executor.query(`INSERT INTO ${table()} (id) VALUES (1)`);
          await queries.enqueue({ entrypoint, payload: { n: 1 } }, { executor });
          throw rollback;
        }),
      );
      expect(error).toBe(rollback);
      expect(await queuedCount(fx, entrypoint)).toBe(0);
      expect(await count()).toBe(0);
      const id = await inClient(driver, (executor) => queries.enqueue({ entrypoint, payload: { n: 2 } }, { executor }));
      expect((await queries.getJobs([id])).map((job) => job.entrypoint)).toEqual([entrypoint]);
    },
  );

  it('ends on close(), twice without harm, every connection of its own gone, and refuses every call afterwards', async () => {
    const driver: Driver = await target.createDriver();
    const pids = (await Promise.all([1, 2].map(() => driver.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)')))).map(
      (result) => result.rows[0]!.pid,
    );
    const channel = `pgq_close_${fx().entrypoint('c')}`;
    if (driver.capabilities.listen) await driver.listen(channel, () => {});
    await driver.close();
    await driver.close();
    if (target.requiresServer) {
      const left = () =>
        fx().driver.query(`SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[]) OR query = $2`, [
          `{${pids.join(',')}}`,
          `LISTEN "${channel}"`,
        ]);
      await waitFor('every connection of the closed driver to end', async () => (await left()).rowCount === 0);
    }
    for (const attempt of [
      driver.query('SELECT 1'),
      driver.exec('SELECT 1'),
      driver.transaction(async () => 1),
      driver.listen('pgq_after_close', () => {}),
    ]) {
      expect(((await rejectionOf(attempt)) as PgQueueError).code).toBe('DRIVER_CLOSED');
    }
  });

  it.skipIf(target.borrow === undefined)('leaves a client passed in by the caller open on close(), and stops its LISTENs', async () => {
    const borrowed = await target.borrow!();
    try {
      const { driver } = borrowed;
      const received: string[] = [];
      if (driver.capabilities.listen) await driver.listen('pgq_borrowed', (payload) => received.push(payload));
      await driver.query('SELECT 1');
      await driver.close();
      await borrowed.clientQuery("SELECT pg_notify('pgq_borrowed', 'after close')");
      await expect(borrowed.clientQuery('SELECT 1 AS one')).resolves.toBeDefined();
      await sleep(50);
      expect(received).toEqual([]);
      expect(((await rejectionOf(driver.query('SELECT 1'))) as PgQueueError).code).toBe('DRIVER_CLOSED');
    } finally {
      await borrowed.end();
    }
  });
}

async function queuedCount(fx: () => Fixture, entrypoint: string): Promise<number> {
  const rows = await fx().queries.queueSize();
  return rows.filter((row) => row.entrypoint === entrypoint).reduce((sum, row) => sum + row.count, 0);
}
