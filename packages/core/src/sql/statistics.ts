import type { Names } from '../names.js';

/**
 * Statistics rows, newest first. $1 since epoch ms (NULL = all), $2 entrypoint text[] (NULL = all),
 * $3 limit.
 */
export function statisticsSql(n: Names): string {
  return `SELECT (extract(epoch FROM created) * 1000)::float8 AS createdms, count::text AS count, priority,
  (extract(epoch FROM time_in_queue) * 1000)::float8 AS timeinqueuems, status::text AS status, entrypoint
FROM ${n.statistics} s
WHERE ($1::float8 IS NULL OR s.created >= to_timestamp($1::float8 / 1000))
  AND ($2::text[] IS NULL OR s.entrypoint = ANY ($2::text[]))
ORDER BY s.created DESC, s.entrypoint, s.status, s.priority DESC
LIMIT $3::integer`;
}

/** Completed-job totals per entrypoint and status, summed by PostgreSQL. $1 since epoch ms or NULL. */
export function statisticsTotalsSql(n: Names): string {
  return `SELECT s.entrypoint, s.status::text AS status, sum(s.count)::text AS count
FROM ${n.statistics} s
WHERE $1::float8 IS NULL OR s.created >= to_timestamp($1::float8 / 1000)
GROUP BY s.entrypoint, s.status
ORDER BY s.entrypoint, s.status`;
}

/**
 * Deletes up to $2 statistics rows older than $1 (epoch ms), oldest first, through the index on
 * created (schema version 2), starting at $3 (a timestamptz as text, NULL for the start): returns
 * how many and the `created` of the last one, where the next batch starts. pruneStatistics
 * repeats it until a batch comes back short, so each transaction stays short whatever the backlog.
 * Starting each batch where the previous ended matters: the rows just deleted stay in the index
 * until a vacuum, and batches that all started at the beginning walked them again every time
 * (1 M rows of 10 M: 9.2 s in batches restarting from the start, against 1.7 s in one DELETE;
 * docs/operations.md). Completions only upsert the current second's rows, so a prune of old rows
 * never waits on them, nor they on it.
 */
export function pruneStatisticsSql(n: Names): string {
  return `WITH doomed AS (
  SELECT s.id, s.created FROM ${n.statistics} s
  WHERE s.created < to_timestamp($1::float8 / 1000) AND ($3::timestamptz IS NULL OR s.created >= $3::timestamptz)
  ORDER BY s.created LIMIT $2::integer
),
deleted AS (
  DELETE FROM ${n.statistics} s USING doomed WHERE s.id = doomed.id RETURNING doomed.created
)
SELECT count(*)::integer AS count, max(created)::text AS last FROM deleted`;
}

/** The server's clock, epoch ms: cutoffs are taken on the clock that stamps the rows. */
export function serverNowSql(): string {
  return `SELECT (extract(epoch FROM now()) * 1000)::float8 AS nowms`;
}
