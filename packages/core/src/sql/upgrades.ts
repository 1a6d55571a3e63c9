/**
 * The schema's version history after version 1 (the DDL of sql/schema.ts as it first shipped,
 * frozen in test/fixtures/schema-v1.sql). Each entry brings the schema from the version before it
 * to its own; installSchema runs version 1 and then every entry, so a fresh install and an
 * upgraded one end up with the same objects (the upgrade test compares their catalogs).
 *
 * To change the schema, append one entry here and nothing else: never edit version 1 or an
 * entry that has shipped. An entry's SQL
 * - runs inside the upgrade's single transaction, after the upgrade lock: no CONCURRENTLY, no
 *   VACUUM, no COMMIT;
 * - must be safe to run twice (IF NOT EXISTS, CREATE OR REPLACE, guarded DO blocks), because two
 *   installers starting at once both run it, one after the other;
 * - must be safe with workers running the previous version's statements: add before you remove,
 *   and keep what the previous release's statements read until a later step.
 */
import type { Names } from '../names.js';
import { schedulesTableSql } from './schedules.js';

export interface SchemaStep {
  /** The version this step brings the schema to: the previous entry's plus one. */
  version: number;
  /** What the step changes, in a line: shown by verify, `pgq upgrade --dry-run` and the SQL. */
  description: string;
  /** The DDL, for the given schema and prefix. */
  sql(n: Names): string;
}

export const SCHEMA_STEPS: readonly SchemaStep[] = [
  {
    version: 2,
    description:
      'statistics: index on created, for reads and prunes by time; maintenance table, where one worker of a fleet claims each periodic task',
    sql: (n) => `-- pruneStatistics and the statistics reads by time (pgq stats --since, metrics) walk this
-- instead of the whole table; completions upsert a few rows a second, so it costs them little.
CREATE INDEX IF NOT EXISTS "${n.prefix}pgqueuer_stats_created_idx" ON ${n.statistics} (created);
-- One row per periodic fleet task: the worker whose claim moves last_run forward runs it.
CREATE TABLE IF NOT EXISTS ${n.maintenance} (
  task     text PRIMARY KEY,
  last_run timestamptz NOT NULL,
  run_by   uuid
);`,
  },
  {
    version: 3,
    description: 'schedules table: cron schedules whose ticks a worker of the fleet claims and enqueues as jobs',
    sql: schedulesTableSql,
  },
];

/** The first version, installed by sql/schema.ts's base DDL. */
export const BASE_SCHEMA_VERSION = 1;

/** The version a step list brings the schema to. */
export function targetVersion(steps: readonly SchemaStep[]): number {
  return steps.length === 0 ? BASE_SCHEMA_VERSION : steps[steps.length - 1]!.version;
}

/** Throws unless the versions run 2, 3, 4, … without gaps: a typo here must not skip a step on someone's database. */
export function checkSteps(steps: readonly SchemaStep[]): readonly SchemaStep[] {
  steps.forEach((step, i) => {
    if (step.version !== BASE_SCHEMA_VERSION + i + 1) {
      throw new Error(`pgqueue schema steps: entry ${i} has version ${step.version}, expected ${BASE_SCHEMA_VERSION + i + 1}`);
    }
  });
  return steps;
}

export function schemaMarker(version: number): string {
  return `pgqueue schema ${version}`;
}

/** The marker comment on the jobs table, which is how verify and upgrade read the installed version. */
export function markerSql(n: Names, version: number): string {
  return `COMMENT ON TABLE ${n.jobs} IS '${schemaMarker(version)}';`;
}
