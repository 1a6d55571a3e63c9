import { randomUUID } from 'node:crypto';
import type { Generated, Kysely, Selectable } from 'kysely';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { Queries, installSchema, type JobError, type JobStatus, type Queryable } from '@pgqueue/core';
import {
  createKyselyDriver,
  kyselyQueryable,
  type KyselyDriver,
  type PgQueueClient,
  type PgQueueDatabase,
  type PgQueueJobsTable,
  type PgQueueStatisticsTable,
} from '../src/index.js';
import { openDriver, runnableTargets, type DialectTarget } from './targets.js';

interface AppDatabase {
  person: { id: Generated<number>; name: string };
}

const jobColumns = [
  'id', 'priority', 'queue_manager_id', 'created', 'updated', 'heartbeat', 'execute_after', 'status',
  'entrypoint', 'dedupe_key', 'payload', 'headers', 'attempts', 'last_error', 'cancel_requested',
] as const;
const statisticsColumns = ['id', 'created', 'count', 'priority', 'time_in_queue', 'status', 'entrypoint'] as const;

describe('typed tables (checked by pnpm typecheck)', () => {
  it('lists every column of the interfaces', () => {
    expectTypeOf<(typeof jobColumns)[number]>().toEqualTypeOf<keyof PgQueueJobsTable>();
    expectTypeOf<(typeof statisticsColumns)[number]>().toEqualTypeOf<keyof PgQueueStatisticsTable>();
  });

  it('lets application code select from pgqueue’s tables next to its own', () => {
    const jobs = (db: Kysely<AppDatabase & PgQueueDatabase>) =>
      db.selectFrom('pgqueuer').select(['id', 'status']).where('entrypoint', '=', 'send-email').where('id', '>', '10').execute();
    expectTypeOf<Awaited<ReturnType<typeof jobs>>>().toEqualTypeOf<{ id: string; status: JobStatus }[]>();

    const stats = (db: Kysely<AppDatabase & PgQueueDatabase<'pglite'>>) =>
      db.selectFrom('pgqueuer_statistics').select(['count', 'time_in_queue', 'created']).executeTakeFirstOrThrow();
    expectTypeOf<Awaited<ReturnType<typeof stats>>>().toEqualTypeOf<{
      count: number | bigint;
      time_in_queue: string;
      created: Date;
    }>();

    const people = (db: Kysely<AppDatabase & PgQueueDatabase>) => db.selectFrom('person').select('name').execute();
    expectTypeOf<Awaited<ReturnType<typeof people>>>().toEqualTypeOf<{ name: string }[]>();
    expectTypeOf<Selectable<PgQueueJobsTable>['last_error']>().toEqualTypeOf<JobError | null>();

    // A typed instance and its transactions are accepted as they are, without casts.
    const wire = (db: Kysely<AppDatabase & PgQueueDatabase>) => [
      createKyselyDriver(db),
      db.transaction().execute(async (trx) => kyselyQueryable(trx)),
    ];
    expectTypeOf(wire).returns.toEqualTypeOf<(KyselyDriver | Promise<Queryable>)[]>();

    // @ts-expect-error: not a column of pgqueuer
    const wrong = (db: Kysely<PgQueueDatabase>) => db.selectFrom('pgqueuer').select(['id', 'not_a_column']);
    expect(typeof jobs && typeof stats && typeof people && typeof wire && typeof wrong).toBe('function');
  });
});

const clientOf: Record<DialectTarget['name'], PgQueueClient> = {
  'kysely-pg': 'pg',
  'kysely-pgjs': 'postgres-js',
  'kysely-pglite': 'pglite',
};

describe.each(runnableTargets())('typed tables over $name match what the client returns', (target) => {
  const driver = openDriver(target, { listen: false });
  const schema = `pgq_tables_${target.name.replace(/[^a-z]/g, '')}_${randomUUID().slice(0, 8)}`;
  const client = clientOf[target.name];
  const db = () => (driver.opened.db as unknown as Kysely<PgQueueDatabase<typeof client>>).withSchema(schema);

  beforeAll(async () => {
    await installSchema(driver, { schema });
    const queries = new Queries(driver, { schema });
    // The first is completed (a statistics row); the second stays queued.
    await queries.enqueue([{ entrypoint: 'typed' }, { entrypoint: 'typed', payload: { a: 1 }, headers: { h: 'x' } }]);
    const ownerId = randomUUID();
    const [job] = await queries.dequeue({ ownerId, batchSize: 1, entrypoints: ['typed'] });
    await queries.completeJobs({ ownerId, ids: [job!.id], statuses: ['successful'] });
  });

  afterAll(async () => {
    await driver.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await driver.close();
  });

  it('has the installed columns, with values of the declared types', async () => {
    const job = await db().selectFrom('pgqueuer').selectAll().executeTakeFirstOrThrow();
    expect(Object.keys(job).sort()).toEqual([...jobColumns].sort());
    expect(typeof job.id).toBe(client === 'pglite' ? 'number' : 'string');
    expect(job).toMatchObject({ priority: 0, status: 'queued', entrypoint: 'typed', attempts: 0, cancel_requested: false });
    expect(job.created).toBeInstanceOf(Date);
    expect(job.execute_after).toBeInstanceOf(Date);
    expect(job.payload).toBeInstanceOf(Uint8Array);
    expect(job.headers).toEqual({ h: 'x' });
    expect([job.last_error, job.queue_manager_id, job.dedupe_key]).toEqual([null, null, null]);

    const stats = await db().selectFrom('pgqueuer_statistics').selectAll().executeTakeFirstOrThrow();
    expect(Object.keys(stats).sort()).toEqual([...statisticsColumns].sort());
    expect(stats).toMatchObject({ status: 'successful', entrypoint: 'typed', priority: 0 });
    expect(typeof stats.count).toBe(client === 'pglite' ? 'number' : 'string');
    expect(Number(stats.count)).toBe(1);
    expect(typeof stats.time_in_queue).toBe(client === 'pg' ? 'object' : 'string');
    expect(stats.created).toBeInstanceOf(Date);
  });
});
