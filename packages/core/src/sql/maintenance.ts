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

/**
 * Claims a periodic fleet task for this period: true for exactly one caller per period. The
 * first claim inserts the task's row; a later one moves `last_run` forward only when a period
 * has passed since. Two callers at once serialise on the row, and the second re-checks the
 * condition against the first one's committed `last_run`, so it gets nothing.
 *
 * $1 task text, $2 owner uuid, $3 period ms float8.
 */
export function claimTaskSql(n: Names): string {
  return `INSERT INTO ${n.maintenance} AS m (task, last_run, run_by) VALUES ($1::text, now(), $2::uuid)
ON CONFLICT (task) DO UPDATE SET last_run = now(), run_by = EXCLUDED.run_by
WHERE m.last_run <= now() - $3::float8 * interval '1 millisecond'
RETURNING m.task`;
}
