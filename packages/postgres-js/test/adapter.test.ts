/** What is particular to postgres.js; the Driver contract itself is checked by the conformance suite. */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPgQueueError } from '@pgqueue/core/adapter';
import { listenOutageCases, startOutageProxy } from '@pgqueue/core/testing';
import { createPostgresJsDriver } from '../src/index.js';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.log('@pgqueue/postgres-js adapter tests: DATABASE_URL is not set, so the real-server tests are skipped.');
}

describe('postgres.js adapter without a server', () => {
  it('has a pool to run statements concurrently and LISTENs on connections of its own', async () => {
    const driver = createPostgresJsDriver('postgres://postgres@127.0.0.1:1/postgres');
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

  it('hands postgres.js a socket directory as its host, which it ignores in ?host= and in socket: URLs', async () => {
    const driver = createPostgresJsDriver('socket://app:pw@/var/run/postgresql?db=jobs&port=6543&application_name=x');
    const options = (driver.sql.options as unknown as { path: string; database: string; user: string; connection: object }) ?? {};
    expect(options).toMatchObject({ path: '/var/run/postgresql/.s.PGSQL.6543', database: 'jobs', user: 'app' });
    expect(options.connection).toMatchObject({ application_name: 'x' });
    await driver.close();
  });
});

describe.skipIf(!DATABASE_URL)('postgres.js adapter on a real server', () => {
  const url = DATABASE_URL!;
  let admin: postgres.Sql;

  beforeAll(() => {
    admin = postgres(url, { max: 2, onnotice: () => {} });
  });

  afterAll(async () => {
    await admin?.end();
  });

  it('ends the sql it created: a statement sent to it directly after close() fails as a closed connection', async () => {
    const owned = createPostgresJsDriver(url, { max: 1 });
    await owned.query('SELECT 1');
    await owned.close();
    const error: unknown = await Promise.resolve(owned.sql.unsafe('SELECT 1')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toPgQueueError(error, { operation: 'test' }).code).toBe('CONNECTION_FAILED');
  });

  it('closes while its connection is stalled with a query still waiting, and fails that query', async () => {
    const proxy = await startOutageProxy(url);
    try {
      const owned = createPostgresJsDriver(proxy.url, { max: 1 });
      await owned.query('SELECT 1');
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

  describe('listen through an outage', () =>
    listenOutageCases({
      url,
      createDriver: (proxyUrl) => createPostgresJsDriver(proxyUrl, { max: 1 }),
      notify: (channel, payload) => admin`SELECT pg_notify(${channel}, ${payload})`,
    }));
});
