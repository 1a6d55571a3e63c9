/** Install, uninstall, verify and upgrade the pgqueue schema; the SQL is also available without connecting. */
import type { Queryable } from './driver.js';
import { PgQueueError, toPgQueueError } from './errors.js';
import { resolveNames, type SchemaOptions } from './names.js';
import { inspectSchema, type SchemaReport } from './schema-inspect.js';
import { SCHEMA_VERSION, installSql, uninstallSql } from './sql/schema.js';
import { SCHEMA_STEPS } from './sql/upgrades.js';
import { runUpgrade } from './upgrade.js';

export { SCHEMA_VERSION, type SchemaReport };
export { getUpgradeSql, upgradeSchema, type UpgradeResult, type UpgradeSqlOptions } from './upgrade.js';

/** The DDL that installSchema runs, for review or for a migration tool. */
export function getInstallSql(options: SchemaOptions = {}): string {
  return installSql(resolveNames(options));
}

/** The DDL that uninstallSchema runs. It drops every job and statistic. */
export function getUninstallSql(options: SchemaOptions = {}): string {
  return uninstallSql(resolveNames(options));
}

/**
 * Reads the catalog and reports which pgqueue objects are missing, the installed version and
 * the steps upgradeSchema would run. Changes nothing.
 */
export async function verifySchema(db: Queryable, options: SchemaOptions = {}): Promise<SchemaReport> {
  return (await inspectSchema(db, resolveNames(options), SCHEMA_STEPS, SCHEMA_VERSION)).report;
}

export interface InstallResult {
  /** False when the schema was already installed and nothing was run. */
  created: boolean;
  /** The version an existing schema was upgraded from, when installSchema upgraded it. */
  upgradedFrom?: number;
}

/**
 * Creates the pgqueue objects (and the PostgreSQL schema, when one is named) in one transaction.
 * Safe to call on every start: an existing, complete installation is left as it is (also one a
 * newer release installed), one at an older version is upgraded (upgradeSchema), and a partial one
 * is reported rather than patched over.
 */
export async function installSchema(db: Queryable, options: SchemaOptions = {}): Promise<InstallResult> {
  const { report, baseObjectsPresent } = await inspectSchema(db, resolveNames(options), SCHEMA_STEPS, SCHEMA_VERSION);
  if (report.installed) return { created: false };
  // Installed by a newer release: steps only add, so this release runs on it as it is (a rollback
  // of the code must not fail on start). upgradeSchema and verify still say it is newer.
  if (report.version !== undefined && report.version > SCHEMA_VERSION && baseObjectsPresent === 5) return { created: false };
  if (report.version !== undefined) {
    // Older (upgraded here) or newer (upgradeSchema says so); a problem besides the version stays a problem.
    const { fromVersion } = await runUpgrade(db, options, SCHEMA_STEPS);
    const after = await verifySchema(db, options);
    if (!after.installed) {
      throw new PgQueueError(
        'SCHEMA_NOT_INSTALLED',
        `pgqueue installSchema: the pgqueue installation is incomplete (${after.problems.join('; ')}). ` +
          `Remove it with uninstallSchema (this deletes its jobs) or repair it by hand, then install again.`,
      );
    }
    return { created: false, upgradedFrom: fromVersion };
  }
  if (baseObjectsPresent > 0) {
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
