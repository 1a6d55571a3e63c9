import type { Names } from '../names.js';

/**
 * Dead row versions in the jobs table, as the statistics system counts them (up to about a
 * second late), and whether the current role may vacuum it (VACUUM skips, with only a warning,
 * a table its role does not own).
 */
export function vacuumCheckSql(n: Names): string {
  return `SELECT coalesce(pg_stat_get_dead_tuples(c.oid), 0)::text AS dead, pg_has_role(c.relowner, 'USAGE') AS owner
FROM pg_class c WHERE c.oid = '${n.jobs}'::regclass`;
}

/**
 * Vacuums the jobs table. SKIP_LOCKED: when another worker (or autovacuum) is vacuuming it
 * already, this one returns at once instead of queueing behind it.
 */
export function vacuumJobsSql(n: Names): string {
  return `VACUUM (SKIP_LOCKED) ${n.jobs}`;
}
