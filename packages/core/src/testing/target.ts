/** What an adapter hands the conformance suite, and the per-suite database fixture. */
import { randomBytes } from 'node:crypto';
import type { Driver, Queryable } from '../driver.js';
import { Queries } from '../queries.js';
import { installSchema } from '../schema.js';

export interface ConformanceTarget {
  /** The adapter's name, used in test titles. */
  name: string;
  /** True when the target talks to the server in DATABASE_URL; the suite skips without it. */
  requiresServer: boolean;
  /**
   * A new, independent driver with its own connection(s). Concurrency tests call it once per
   * simulated worker, so workers never share a connection.
   */
  createDriver(): Promise<Driver> | Driver;
  /**
   * A new driver on another connection string: the outage proxy in front of DATABASE_URL, for
   * the worker's fault cases (outages, stalled connections). Those cases are skipped without it.
   */
  createDriverAt?(url: string): Promise<Driver> | Driver;
  /**
   * Runs `fn` in a transaction opened with the client's own API (BEGIN on a pg PoolClient,
   * `sql.begin`, PGlite's or Kysely's `transaction`), handing it the adapter's Queryable on that
   * transaction (pgQueryable(client), ...); rolls back when `fn` throws. `driver` is one that
   * `createDriver` returned. Enables the "enqueue in the application's own transaction" cases.
   */
  inClientTransaction?<T>(driver: Driver, fn: (executor: Queryable) => Promise<T>): Promise<T>;
  /**
   * A driver over a client the test opened itself (a Pool, an `sql`, a PGlite, a Kysely instance),
   * to check that the driver's close() leaves that client open. `clientQuery` runs a statement on
   * the client directly; `end` closes the client.
   */
  borrow?(): Promise<BorrowedClient> | BorrowedClient;
}

export interface BorrowedClient {
  driver: Driver;
  clientQuery(text: string): Promise<unknown>;
  end(): Promise<void>;
}

/** Why a suite cannot run here, or undefined when it can. */
export function skipReason(target: ConformanceTarget): string | undefined {
  if (target.requiresServer && !process.env.DATABASE_URL) {
    return `${target.name}: DATABASE_URL is not set, so the real-server suite is skipped (set DATABASE_URL=postgres://… to run it)`;
  }
  return undefined;
}

export interface Fixture {
  driver: Driver;
  queries: Queries;
  schema: string;
  /** A fresh entrypoint name, so tests sharing the schema never see each other's jobs. */
  entrypoint(label?: string): string;
  /** Extra drivers (own connections) on the same schema; closed with the fixture. */
  extraDriver(): Promise<{ driver: Driver; queries: Queries }>;
  close(): Promise<void>;
}

export async function openFixture(target: ConformanceTarget): Promise<Fixture> {
  const schema = `pgq_test_${target.name.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  const driver = await target.createDriver();
  await installSchema(driver, { schema });
  const queries = new Queries(driver, { schema });
  const extras: Driver[] = [];
  let counter = 0;
  return {
    driver,
    queries,
    schema,
    entrypoint: (label = 'job') => `${label}_${++counter}`,
    async extraDriver() {
      const extra = await target.createDriver();
      extras.push(extra);
      return { driver: extra, queries: new Queries(extra, { schema }) };
    },
    async close() {
      await Promise.all(extras.map((extra) => extra.close()));
      await driver.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await driver.close();
    },
  };
}
