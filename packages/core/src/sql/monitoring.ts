import type { Names } from '../names.js';
import { jobColumns } from './dequeue.js';

/**
 * The queue at a glance: per entrypoint, status and priority, how many jobs, how old the oldest
 * is, and of the queued ones how many are due and how long the longest-waiting due job has waited
 * (the figure that says workers are not keeping up). One pass over the jobs table, which is
 * small when the queue is healthy; on a backlog of a million rows it takes a fraction of a second.
 */
export function queueOverviewSql(n: Names): string {
  return `SELECT j.entrypoint, j.status::text AS status, j.priority, count(*)::integer AS count,
  extract(epoch FROM now() - min(j.created))::float8 AS oldestageseconds,
  (count(*) FILTER (WHERE j.status = 'queued' AND j.execute_after <= now()))::integer AS due,
  coalesce(extract(epoch FROM now() - min(j.execute_after) FILTER (WHERE j.status = 'queued' AND j.execute_after <= now())), 0)::float8
    AS oldestduewaitseconds
FROM ${n.jobs} j
GROUP BY j.entrypoint, j.status, j.priority
ORDER BY j.entrypoint, j.status, j.priority DESC`;
}

/**
 * Completed jobs per entrypoint and status over the last $1 milliseconds (server clock), from
 * the statistics table through its index on created, and the seconds the window really covers.
 */
export function throughputSql(n: Names): string {
  return `SELECT s.entrypoint, s.status::text AS status, sum(s.count)::text AS count
FROM ${n.statistics} s
WHERE s.created >= now() - $1::float8 * interval '1 millisecond'
GROUP BY s.entrypoint, s.status
ORDER BY s.entrypoint, s.status`;
}

/**
 * Jobs in id order, a page at a time, filtered by entrypoint and status.
 * $1 entrypoint text[] (NULL = all), $2 status text[] (NULL = all), $3 after id bigint, $4 limit.
 */
export function listJobsSql(n: Names): string {
  return `SELECT ${jobColumns('j')} FROM ${n.jobs} j
WHERE j.id > $3::bigint
  AND ($1::text[] IS NULL OR j.entrypoint = ANY ($1::text[]))
  AND ($2::text[] IS NULL OR j.status = ANY ($2::text[]::${n.status}[]))
ORDER BY j.id
LIMIT $4::integer`;
}
