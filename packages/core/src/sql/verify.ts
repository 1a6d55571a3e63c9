import type { Names } from '../names.js';

/** One catalog read telling which pgqueue objects exist. $1..$7 are the quoted qualified names. */
export function verifySql(): string {
  return `SELECT
  to_regtype($1) IS NOT NULL AS status,
  to_regclass($2) IS NOT NULL AS jobs,
  to_regclass($3) IS NOT NULL AS statistics,
  to_regclass($4) IS NOT NULL AS entrypoints,
  to_regprocedure($5 || '(integer,text[],integer[],uuid,interval)') IS NOT NULL AS dequeue,
  to_regclass($6) IS NOT NULL AS maintenance,
  to_regclass($7) IS NOT NULL AS schedules,
  obj_description(to_regclass($2), 'pg_class') AS marker,
  (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
    WHERE attrelid = to_regclass($2) AND attnum > 0 AND NOT attisdropped)::text AS jobcolumns,
  (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
    WHERE attrelid = to_regclass($3) AND attnum > 0 AND NOT attisdropped)::text AS statisticscolumns,
  (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
    WHERE attrelid = to_regclass($7) AND attnum > 0 AND NOT attisdropped)::text AS schedulecolumns`;
}

export function verifyParams(n: Names): string[] {
  return [n.status, n.jobs, n.statistics, n.entrypoints, n.dequeueFunction, n.maintenance, n.schedules];
}
