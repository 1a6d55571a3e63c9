/**
 * Brings an installed schema from its version to this library's, step by step (sql/upgrades.ts).
 *
 * The whole upgrade is one multi-statement text run as one implicit transaction: the install
 * lock, a guard that re-reads the version under the lock, every pending step, the new marker.
 * So an upgrade either lands whole or not at all, two upgraders (or an upgrader and an installer)
 * take turns, and the second one's steps change nothing because every step is re-runnable. The
 * same text is what `getUpgradeSql` prints for a migration tool, so the file a team reviews is
 * the statement that runs.
 *
 * Workers may keep running: the steps only add (see sql/upgrades.ts), and PostgreSQL's own locks
 * order the DDL against their statements; a step that builds an index holds writes to that table
 * for the length of the build.
 */
import type { Queryable } from './driver.js';
import { PgQueueError, invalidArgument, toPgQueueError } from './errors.js';
import { resolveNames, type Names, type SchemaOptions } from './names.js';
import { inspectSchema, type SchemaReport } from './schema-inspect.js';
import { installLockSql } from './sql/schema.js';
import { BASE_SCHEMA_VERSION, SCHEMA_STEPS, checkSteps, markerSql, schemaMarker, targetVersion, type SchemaStep } from './sql/upgrades.js';

export interface UpgradeResult {
  /** The version found before the upgrade. */
  fromVersion: number;
  /** The version now installed (this library's SCHEMA_VERSION). */
  toVersion: number;
  /** The steps run, in order; empty when the schema was current already. */
  applied: { version: number; description: string }[];
}

export interface UpgradeSqlOptions extends SchemaOptions {
  /** The version the target database is at. Default 1. The SQL refuses to run on any other (older or newer) version. */
  fromVersion?: number;
}

/**
 * Upgrades the installed schema to SCHEMA_VERSION in one transaction (see the file comment).
 * Idempotent: on a current schema it changes nothing. Throws SCHEMA_NOT_INSTALLED when there is
 * nothing to upgrade (install it instead) and INVALID_ARGUMENT when the schema is newer than this
 * library.
 */
export function upgradeSchema(db: Queryable, options: SchemaOptions = {}): Promise<UpgradeResult> {
  return runUpgrade(db, options, SCHEMA_STEPS);
}

/**
 * The SQL that upgrades a schema at `fromVersion` (default 1) to SCHEMA_VERSION, for a migration
 * tool. It refuses, with an exception, to run on a schema at any version outside
 * fromVersion..SCHEMA_VERSION, and changes nothing on one already current.
 */
export function getUpgradeSql(options: UpgradeSqlOptions = {}): string {
  return upgradeSql(resolveNames(options), options.fromVersion ?? BASE_SCHEMA_VERSION, SCHEMA_STEPS);
}

/** upgradeSchema over any step list: the tests prove the machinery on synthetic steps. */
export async function runUpgrade(db: Queryable, options: SchemaOptions, stepList: readonly SchemaStep[]): Promise<UpgradeResult> {
  const steps = checkSteps(stepList);
  const target = targetVersion(steps);
  const n = resolveNames(options);
  const { report, baseObjectsPresent } = await inspectSchema(db, n, steps, target);
  const from = report.version;
  if (from === undefined) {
    throw new PgQueueError(
      'SCHEMA_NOT_INSTALLED',
      baseObjectsPresent === 0
        ? `pgqueue upgradeSchema: pgqueue is not installed at ${n.jobs}; install it (installSchema, pgq install) instead.`
        : `pgqueue upgradeSchema: ${n.jobs} carries no pgqueue version marker (${report.problems.join('; ')}), so which ` +
            `steps it needs is unknown. Repair it by hand or reinstall it.`,
    );
  }
  if (from > target) throw newerThanLibrary(n, from, target);
  if (from === target) return { fromVersion: from, toVersion: target, applied: [] };
  try {
    await db.exec(upgradeSql(n, from, steps));
  } catch (error) {
    throw toPgQueueError(error, { operation: 'upgradeSchema' });
  }
  return { fromVersion: from, toVersion: target, applied: report.pendingSteps };
}

/** What upgradeSchema would do, without doing it: the report of verifySchema. */
export async function planUpgrade(db: Queryable, options: SchemaOptions, steps: readonly SchemaStep[]): Promise<SchemaReport> {
  return (await inspectSchema(db, resolveNames(options), checkSteps(steps), targetVersion(steps))).report;
}

export function upgradeSql(n: Names, fromVersion: number, stepList: readonly SchemaStep[]): string {
  const steps = checkSteps(stepList);
  const target = targetVersion(steps);
  if (!Number.isInteger(fromVersion) || fromVersion < BASE_SCHEMA_VERSION || fromVersion > target) {
    throw invalidArgument(
      `getUpgradeSql: fromVersion must be a schema version from ${BASE_SCHEMA_VERSION} to ${target}, got ${String(fromVersion)}.`,
    );
  }
  const pending = steps.filter((step) => step.version > fromVersion);
  if (pending.length === 0) return `-- pgqueue schema version ${target}: nothing to upgrade.\n`;
  const accepted = Array.from({ length: target - fromVersion + 1 }, (_, i) => `'${schemaMarker(fromVersion + i)}'`).join(', ');
  // Read under the lock: what an upgrader that held it before us committed is visible here.
  const guard = `DO $guard$
DECLARE v_marker text := obj_description(to_regclass('${n.jobs}'), 'pg_class');
BEGIN
  IF v_marker IS NULL OR v_marker NOT IN (${accepted}) THEN
    RAISE EXCEPTION 'pgqueue upgrade from version ${fromVersion} to ${target}: ${n.jobs.replace(/'/g, "''")} is at "%", not at a version from ${fromVersion} to ${target}', coalesce(v_marker, 'no pgqueue version (not installed?)');
  END IF;
END $guard$;`;
  const body = pending.map((step) => `-- version ${step.version}: ${step.description}\n${step.sql(n)}`).join('\n\n');
  return `-- pgqueue schema upgrade from version ${fromVersion} to ${target}: run as one transaction.
${installLockSql(n)};
${guard}

${body}

${markerSql(n, target)}
`;
}

function newerThanLibrary(n: Names, version: number, target: number): PgQueueError {
  return invalidArgument(
    `pgqueue: ${n.jobs} is at schema version ${version}, newer than this library's ${target}. ` +
      `Upgrade @pgqueue/core (and @pgqueue/cli) to a release that knows version ${version}; a schema is never downgraded.`,
  );
}
