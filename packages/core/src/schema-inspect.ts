/** Reads the catalog to tell what of a pgqueue installation is there, and at which version. */
import type { Queryable } from './driver.js';
import { PgQueueError, toPgQueueError } from './errors.js';
import type { Names } from './names.js';
import { SCHEDULE_COLUMNS } from './sql/schedules.js';
import { JOB_COLUMNS, STATISTICS_COLUMNS } from './sql/schema.js';
import { schemaMarker, type SchemaStep } from './sql/upgrades.js';
import { verifyParams, verifySql } from './sql/verify.js';

export interface SchemaReport {
  /** Every object of the current version is present with the expected columns, and the marker says so. */
  installed: boolean;
  /** The installed schema version, when the marker is there. */
  version: number | undefined;
  /** The version this library installs and upgrades to (SCHEMA_VERSION). */
  currentVersion: number;
  /** What upgradeSchema would run, in order; empty when the schema is current or not installed. */
  pendingSteps: { version: number; description: string }[];
  /** What is missing or different, in words. Empty when installed. */
  problems: string[];
}

interface VerifyRow {
  status: boolean;
  jobs: boolean;
  statistics: boolean;
  entrypoints: boolean;
  dequeue: boolean;
  maintenance: boolean;
  schedules: boolean;
  marker: string | null;
  jobcolumns: string | null;
  statisticscolumns: string | null;
  schedulecolumns: string | null;
}

export interface Inspection {
  report: SchemaReport;
  /** How many of the version-1 objects exist: 0 means nothing is installed at all. */
  baseObjectsPresent: number;
}

function parseNameArray(text: string | null): string[] {
  return text === null ? [] : text.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
}

function parseMarker(marker: string | null): number | undefined {
  const match = /^pgqueue schema (\d+)$/.exec(marker ?? '');
  return match === null ? undefined : Number(match[1]);
}

/** `steps` is the version history to judge against (SCHEMA_STEPS outside the upgrade tests). */
export async function inspectSchema(db: Queryable, n: Names, steps: readonly SchemaStep[], currentVersion: number): Promise<Inspection> {
  let row: VerifyRow | undefined;
  try {
    ({ rows: [row] } = await db.query<VerifyRow>(verifySql(), verifyParams(n)));
  } catch (error) {
    throw toPgQueueError(error, { operation: 'verifySchema' });
  }
  if (row === undefined) throw new PgQueueError('DATABASE_ERROR', 'verifySchema: the catalog query returned no row');
  const version = parseMarker(row.marker);
  const problems: string[] = [];
  if (!row.status) problems.push(`type ${n.status} is missing`);
  if (!row.jobs) problems.push(`table ${n.jobs} is missing`);
  if (!row.statistics) problems.push(`table ${n.statistics} is missing`);
  if (!row.entrypoints) problems.push(`table ${n.entrypoints} is missing`);
  if (!row.dequeue) problems.push(`function ${n.dequeueFunction} is missing`);
  // Added by version 2: only a problem of its own on a schema that claims to have it.
  if (!row.maintenance && (version === undefined || version >= 2)) problems.push(`table ${n.maintenance} is missing`);
  // Added by version 3, likewise.
  if (!row.schedules && (version === undefined || version >= 3)) problems.push(`table ${n.schedules} is missing`);
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
  if (row.jobs && version === undefined) {
    problems.push(`table ${n.jobs} has no "${schemaMarker(currentVersion)}" marker (its comment was changed or it is not pgqueue's)`);
  }
  const pendingSteps =
    version === undefined || version >= currentVersion
      ? []
      : steps.filter((step) => step.version > version).map(({ version, description }) => ({ version, description }));
  if (version !== undefined && version < currentVersion) {
    problems.push(`schema version ${version} is older than this library's ${currentVersion}: run upgradeSchema (pgq upgrade)`);
  }
  if (version !== undefined && version > currentVersion) {
    problems.push(
      `schema version ${version} is newer than this library's ${currentVersion}: upgrade @pgqueue/core (a schema is never downgraded)`,
    );
  }
  const baseObjectsPresent = [row.status, row.jobs, row.statistics, row.entrypoints, row.dequeue].filter(Boolean).length;
  return {
    report: { installed: problems.length === 0, version, currentVersion, pendingSteps, problems },
    baseObjectsPresent,
  };
}
