/**
 * Connections and the benchmark schema. Every worker gets a driver of its own (its own
 * connection on a server); on PGlite there is one in-process database, so all drivers share it.
 */
import { installSchema, type Driver } from '@pgqueue/core';
import type { DriverName } from './options.js';
import { BENCH_APPLICATION_NAME } from './server/probe.js';

/** Every run installs pgqueue afresh into this PostgreSQL schema and drops it afterwards. */
export const BENCH_SCHEMA = 'pgq_bench';
/** The one entrypoint the benchmark enqueues and serves. */
export const ENTRYPOINT = 'noop';

export interface Connector {
  readonly driverName: DriverName;
  /** True on PGlite: every driver runs on the same single-connection database. */
  readonly sharedDatabase: boolean;
  /** A new driver with its own connection (pool of one), or a handle on the shared PGlite. */
  open(): Promise<Driver>;
  /** Closes what the connector itself holds (the PGlite database). */
  close(): Promise<void>;
}

/**
 * One connection per driver: a worker must not share its connection with another worker, which
 * would hide races and cap throughput at one connection's round trips.
 */
const CONNECTIONS_PER_DRIVER = 1;

export async function createConnector(driverName: DriverName, databaseUrl: string | undefined): Promise<Connector> {
  if (driverName === 'pglite') {
    const [{ PGlite }, { createPGliteDriver }] = await Promise.all([import('@electric-sql/pglite'), import('@pgqueue/pglite')]);
    const db = await PGlite.create();
    return {
      driverName,
      sharedDatabase: true,
      open: async () => createPGliteDriver(db),
      close: () => db.close(),
    };
  }
  if (databaseUrl === undefined) throw new Error(`the ${driverName} driver needs DATABASE_URL`);
  if (driverName === 'pg') {
    const { createPgDriver } = await import('@pgqueue/pg');
    return {
      driverName,
      sharedDatabase: false,
      open: async () => createPgDriver(databaseUrl, { max: CONNECTIONS_PER_DRIVER, applicationName: BENCH_APPLICATION_NAME }),
      close: async () => undefined,
    };
  }
  if (driverName === 'kysely') return kyselyConnector(databaseUrl);
  const { createPostgresJsDriver } = await import('@pgqueue/postgres-js');
  // postgres.js takes connection parameters from the URL: the server probe finds the run's backends by this name.
  const named = new URL(databaseUrl);
  if (!named.searchParams.has('application_name')) named.searchParams.set('application_name', BENCH_APPLICATION_NAME);
  return {
    driverName,
    sharedDatabase: false,
    open: async () => createPostgresJsDriver(named.toString(), { max: CONNECTIONS_PER_DRIVER }),
    close: async () => undefined,
  };
}

/**
 * Kysely's PostgresDialect over a pg pool of one connection per driver, LISTEN through a pg driver
 * on the same pool, as an application would set it up. The adapter owns neither the Kysely instance
 * nor the pool, so the driver handed out ends both on close().
 */
async function kyselyConnector(databaseUrl: string): Promise<Connector> {
  const [{ Kysely, PostgresDialect }, pg, { createKyselyDriver }, { createPgDriver }] = await Promise.all([
    import('kysely'),
    import('pg'),
    import('@pgqueue/kysely'),
    import('@pgqueue/pg'),
  ]);
  return {
    driverName: 'kysely',
    sharedDatabase: false,
    async open() {
      const pool = new pg.default.Pool({
        connectionString: databaseUrl,
        max: CONNECTIONS_PER_DRIVER,
        application_name: BENCH_APPLICATION_NAME,
      });
      // An idle client's error is emitted here; unhandled, it would end the benchmark.
      pool.on('error', () => {});
      const listen = createPgDriver(pool);
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      const driver = createKyselyDriver(db, { listen });
      return {
        ...driver,
        async close() {
          await driver.close();
          await listen.close();
          await db.destroy();
        },
      };
    },
    close: async () => undefined,
  };
}

/** Drops the benchmark schema with everything in it and installs pgqueue there again. */
export async function resetSchema(driver: Driver, schema = BENCH_SCHEMA): Promise<void> {
  await dropSchema(driver, schema);
  await installSchema(driver, { schema });
}

export async function dropSchema(driver: Driver, schema = BENCH_SCHEMA): Promise<void> {
  await driver.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export interface ServerInfo {
  version: string;
  synchronousCommit: string;
  fsync: string;
  maxConnections: number;
}

/** The settings that decide what a commit costs, recorded with the results. */
export async function serverInfo(driver: Driver): Promise<ServerInfo> {
  const { rows } = await driver.query<{ version: string; synchronous_commit: string; fsync: string; max_connections: string }>(
    `SELECT current_setting('server_version') AS version,
       current_setting('synchronous_commit') AS synchronous_commit,
       current_setting('fsync') AS fsync,
       current_setting('max_connections') AS max_connections`,
  );
  const row = rows[0];
  if (row === undefined) throw new Error('the server settings query returned no row');
  return {
    version: row.version,
    synchronousCommit: row.synchronous_commit,
    fsync: row.fsync,
    maxConnections: Number(row.max_connections),
  };
}
