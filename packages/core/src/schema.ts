/** Install, uninstall and verify the pgqueue schema; the SQL is also available without connecting. */
import type { Queryable } from './driver.js';
import { PgQueueError, toPgQueueError } from './errors.js';
import { resolveNames, type SchemaOptions } from './names.js';
import { JOB_COLUMNS, SCHEMA_MARKER, SCHEMA_VERSION, STATISTICS_COLUMNS, installSql, uninstallSql } from './sql/schema.js';
import { SCHEDULE_COLUMNS, schedulesUpgradeSql } from './sql/schedules.js';
import { verifyParams, verifySql } from './sql/verify.js';

export { SCHEMA_VERSION };

/** The DDL that installSchema runs, for review or for a migration tool. */
export function getInstallSql(options: SchemaOptions = {}): string {
  return installSql(resolveNames(options));
}

/**
 * The DDL that brings an installed version-1 schema to version 2 (the schedules table), safe to
 * run again. The version marker is left to the upgrade that runs it.
 */
export function getSchedulesUpgradeSql(options: SchemaOptions = {}): string {
  return schedulesUpgradeSql(resolveNames(options));
}

/** The DDL that uninstallSchema runs. It drops every job and statistic. */
export function getUninstallSql(options: SchemaOptions = {}): string {
  return uninstallSql(resolveNames(options));
}

export interface SchemaReport {
  /** Every object is present with the expected columns. */
  installed: boolean;
  /** The installed schema version, when the marker is there. */
  version: number | undefined;
  /** What is missing or different, in words. Empty when installed. */
  problems: string[];
}

interface VerifyRow {
  status: boolean;
  jobs: boolean;
  statistics: boolean;
  entrypoints: boolean;
  dequeue: boolean;
  schedules: boolean;
  marker: string | null;
  jobcolumns: string | null;
  statisticscolumns: string | null;
  schedulecolumns: string | null;
}

function parseNameArray(text: string | null): string[] {
  return text === null ? [] : text.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
}

/** Reads the catalog and reports which pgqueue objects are missing. Changes nothing. */
export async function verifySchema(db: Queryable, options: SchemaOptions = {}): Promise<SchemaReport> {
  return (await inspect(db, options)).report;
}

async function inspect(
  db: Queryable,
  options: SchemaOptions,
): Promise<{ report: SchemaReport; objectsPresent: number }> {
  const n = resolveNames(options);
  let row: VerifyRow | undefined;
  try {
    ({ rows: [row] } = await db.query<VerifyRow>(verifySql(), verifyParams(n)));
  } catch (error) {
    throw toPgQueueError(error, { operation: 'verifySchema' });
  }
  if (row === undefined) throw new PgQueueError('DATABASE_ERROR', 'verifySchema: the catalog query returned no row');
  const problems: string[] = [];
  if (!row.status) problems.push(`type ${n.status} is missing`);
  if (!row.jobs) problems.push(`table ${n.jobs} is missing`);
  if (!row.statistics) problems.push(`table ${n.statistics} is missing`);
  if (!row.entrypoints) problems.push(`table ${n.entrypoints} is missing`);
  if (!row.dequeue) problems.push(`function ${n.dequeueFunction} is missing`);
  if (!row.schedules) {
    problems.push(
      `table ${n.schedules} is missing (added in schema version 2: run getSchedulesUpgradeSql() on a version-1 installation)`,
    );
  }
  if (row.jobs) {
    const have = new Set(parseNameArray(row.jobcolumns));
    for (const column of JOB_COLUMNS) if (!have.has(column)) problems.push(`column ${n.jobs}.${column} is missing`);
  }
  if (row.statistics) {
    const have = new Set(parseNameArray(row.statisticscolumns));
    for (const column of STATISTICS_COLUMNS) {
      if (!have.has(column)) problems.push(`column ${n.statistics}.${column} is missing`);
    }
  }
  if (row.schedules) {
    const have = new Set(parseNameArray(row.schedulecolumns));
    for (const column of SCHEDULE_COLUMNS) if (!have.has(column)) problems.push(`column ${n.schedules}.${column} is missing`);
  }
  const version = row.marker?.startsWith('pgqueue schema ') ? Number(row.marker.slice('pgqueue schema '.length)) : undefined;
  if (row.jobs && version === undefined) problems.push(`table ${n.jobs} has no "${SCHEMA_MARKER}" marker`);
  const objectsPresent = [row.status, row.jobs, row.statistics, row.entrypoints, row.dequeue, row.schedules].filter(Boolean).length;
  return { report: { installed: problems.length === 0, version, problems }, objectsPresent };
}

export interface InstallResult {
  /** False when the schema was already installed and nothing was run. */
  created: boolean;
}

/**
 * Creates the pgqueue objects (and the PostgreSQL schema, when one is named) in one transaction.
 * Safe to call on every start: an existing, complete installation is left as it is; a partial
 * one is reported rather than patched over.
 */
export async function installSchema(db: Queryable, options: SchemaOptions = {}): Promise<InstallResult> {
  const { report, objectsPresent } = await inspect(db, options);
  if (report.installed) return { created: false };
  if (report.version !== undefined && report.version < SCHEMA_VERSION) {
    throw new PgQueueError(
      'SCHEMA_NOT_INSTALLED',
      `pgqueue installSchema: schema version ${report.version} is installed and this pgqueue needs version ${SCHEMA_VERSION} ` +
        `(${report.problems.join('; ')}). Upgrade it in place, keeping its jobs: version 2 adds the schedules table ` +
        `(getSchedulesUpgradeSql() prints the DDL).`,
    );
  }
  if (objectsPresent > 0) {
    throw new PgQueueError(
      'SCHEMA_NOT_INSTALLED',
      `pgqueue installSchema: a partial pgqueue installation exists (${report.problems.join('; ')}). ` +
        `Remove it with uninstallSchema (this deletes its jobs) or repair it by hand, then install again.`,
    );
  }
  try {
    // One multi-statement exec runs as one implicit transaction on every client, and unlike an
    // explicit BEGIN/COMMIT it does not commit a transaction the caller passed in as `db`.
    await db.exec(getInstallSql(options));
  } catch (error) {
    throw toPgQueueError(error, { operation: 'installSchema' });
  }
  return { created: true };
}

/** Drops every pgqueue object of this schema/prefix, with all jobs and statistics. */
export async function uninstallSchema(db: Queryable, options: SchemaOptions = {}): Promise<void> {
  try {
    await db.exec(getUninstallSql(options));
  } catch (error) {
    throw toPgQueueError(error, { operation: 'uninstallSchema' });
  }
}
