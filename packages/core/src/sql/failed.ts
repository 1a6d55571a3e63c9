import type { Names } from '../names.js';
import { jobColumns } from './dequeue.js';
import { NOTIFY_ENQUEUED, notifySql } from './notify.js';

/**
 * Jobs held as `failed`, in id order, a page at a time.
 * $1 entrypoint text[] (NULL = all), $2 after id bigint (exclusive), $3 limit integer.
 */
export function listFailedSql(n: Names): string {
  return `SELECT ${jobColumns('j')} FROM ${n.jobs} j
WHERE j.status = 'failed' AND j.id > $2::bigint AND ($1::text[] IS NULL OR j.entrypoint = ANY ($1::text[]))
ORDER BY j.id
LIMIT $3::integer`;
}

/**
 * Requeues held failures in one statement, as new: attempts back to 0, the cancel flag cleared,
 * the last error kept for reference. A held job left the dedupe index, so its key may have been
 * taken by a newer job since; such a job stays held rather than failing the whole batch, and of
 * several held jobs sharing a key only the oldest is requeued.
 *
 * $1 id bigint[], $2 delay ms float8, $3 channel text. Returns the ids requeued.
 */
export function requeueFailedSql(n: Names): string {
  return `WITH candidate AS (
  SELECT j.id, j.dedupe_key,
         row_number() OVER (PARTITION BY j.dedupe_key ORDER BY j.id) AS rank_in_key
  FROM ${n.jobs} j
  WHERE j.id = ANY ($1::bigint[]) AND j.status = 'failed'
    AND (j.dedupe_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${n.jobs} other
      WHERE other.dedupe_key = j.dedupe_key AND other.status IN ('queued', 'picked')
    ))
),
requeued AS (
  UPDATE ${n.jobs} j
  SET status = 'queued', queue_manager_id = NULL, attempts = 0, cancel_requested = false, updated = now(),
      execute_after = now() + $2::float8 * interval '1 millisecond'
  FROM candidate
  WHERE j.id = candidate.id AND (candidate.dedupe_key IS NULL OR candidate.rank_in_key = 1)
    AND j.status = 'failed'
  RETURNING j.id, j.entrypoint
),
notified AS (
  ${notifySql('$3', NOTIFY_ENQUEUED, 'entrypoints', 'entrypoint', `requeued WHERE $2::float8 <= 0`)}
)
SELECT requeued.id::text AS id FROM requeued LEFT JOIN notified ON true ORDER BY requeued.id`;
}
