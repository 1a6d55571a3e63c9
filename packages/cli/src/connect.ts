/**
 * Where pgq connects: `--url` or DATABASE_URL, a postgres:// URL through @pgqueue/pg, or a
 * `pglite:<directory>` URL for a PGlite data directory (needs @pgqueue/pglite and
 * @electric-sql/pglite installed). `--schema` and `--prefix` pick the installation.
 */
import { PgQueueError, Queries, verifySchema, type Driver, type SchemaOptions } from '@pgqueue/core';
import { redactConnectionString } from '@pgqueue/core/adapter';
import { createPgDriver } from '@pgqueue/pg';
import { CliError, EXIT, usageError } from './exit-codes.js';

export interface GlobalOptions {
  url?: string;
  schema?: string;
  prefix?: string;
}

export interface Connection {
  driver: Driver;
  queries: Queries;
  schemaOptions: SchemaOptions;
  /** The flags that name this installation, for hints: ` --schema app --prefix x_`. */
  flags: string;
  /** The database, password removed, for messages. */
  target: string;
  close(): Promise<void>;
}

export function schemaOptionsOf(options: GlobalOptions): SchemaOptions {
  return {
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  };
}

export function flagsOf(options: GlobalOptions): string {
  return `${options.schema === undefined ? '' : ` --schema ${options.schema}`}${options.prefix === undefined ? '' : ` --prefix ${options.prefix}`}`;
}

const PGLITE = 'pglite:';

async function openDriver(url: string): Promise<Driver> {
  if (url.startsWith(PGLITE)) {
    const dataDir = url.slice(PGLITE.length).replace(/^\/\//, '');
    if (dataDir === '') throw usageError(`--url ${url}: name the PGlite data directory, e.g. pglite:./data/queue.`);
    let pglite: typeof import('@pgqueue/pglite');
    try {
      pglite = await import('@pgqueue/pglite');
    } catch {
      throw new CliError(
        `--url ${url}: a pglite: URL needs @pgqueue/pglite and @electric-sql/pglite installed next to @pgqueue/cli.`,
        EXIT.usage,
      );
    }
    return pglite.createPGliteDriver(undefined, { dataDir });
  }
  return createPgDriver(url, { max: 3, applicationName: 'pgq' });
}

/** Opens the database and checks that it answers, so a wrong URL fails here with one clear line. */
export async function connect(options: GlobalOptions): Promise<Connection> {
  const url = options.url ?? process.env.DATABASE_URL;
  if (url === undefined || url === '') {
    throw usageError('no database given: pass --url postgres://user@host:5432/db or set DATABASE_URL.');
  }
  const schemaOptions = schemaOptionsOf(options);
  const target = url.startsWith(PGLITE) ? url : redactConnectionString(url);
  const driver = await openDriver(url);
  let queries: Queries;
  try {
    // Refuses bad --schema/--prefix names; nothing has connected yet.
    queries = new Queries(driver, schemaOptions);
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  try {
    await driver.query('SELECT 1');
  } catch (error) {
    await driver.close().catch(() => undefined);
    const detail = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot connect to ${target}: ${detail}`, EXIT.connection);
  }
  return {
    driver,
    queries,
    schemaOptions,
    flags: flagsOf(options),
    target,
    close: () => driver.close(),
  };
}

/** The schema version a command cannot work below (the one that added its table), and why. */
export interface MinimumVersion {
  version: number;
  /** Says what needs it, e.g. "pgq schedules needs its schedules table". */
  purpose: string;
}

/**
 * Fails (exit 4) unless pgqueue is installed here, and (exit 5) when it is older than the
 * command's `minimum`; otherwise warns on stderr when its version is older than this pgq's,
 * since the reads still work but the workers' next release may not.
 */
export async function requireSchema(connection: Connection, minimum?: MinimumVersion): Promise<void> {
  const report = await verifySchema(connection.driver, connection.schemaOptions);
  if (report.version === undefined) {
    throw new CliError(
      `pgqueue is not installed at ${connection.queries.names.jobs} in ${connection.target} (${report.problems[0]}): ` +
        `run pgq install${connection.flags}, or pass the --schema/--prefix it was installed with.`,
      EXIT.notInstalled,
    );
  }
  if (minimum !== undefined && report.version < minimum.version) {
    throw new CliError(
      `${connection.queries.names.jobs} in ${connection.target} is at schema version ${report.version}, and ` +
        `${minimum.purpose} (version ${minimum.version}): run pgq upgrade${connection.flags}.`,
      EXIT.upgradePending,
    );
  }
  if (report.version < report.currentVersion) {
    process.stderr.write(
      `pgq: warning: the schema is at version ${report.version}, this pgq expects ${report.currentVersion}: run pgq upgrade${connection.flags}\n`,
    );
  }
}

/** The exit code of an error pgq did not raise itself. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (PgQueueError.isInstance(error)) {
    switch (error.code) {
      case 'CONNECTION_FAILED':
        return EXIT.connection;
      case 'SCHEMA_NOT_INSTALLED':
        return EXIT.notInstalled;
      case 'INVALID_ARGUMENT':
        return EXIT.usage;
      default:
        return EXIT.error;
    }
  }
  return EXIT.error;
}
