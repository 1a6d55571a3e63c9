import type { Names } from '../names.js';

/**
 * Completes a batch in one statement: the Go port's batch completion (delete by an id array,
 * join a parallel status array, group, upsert per-second statistics with the counts summed by
 * PostgreSQL) plus two guards it lacked:
 * - only rows still `picked` by this owner are deleted, so a worker whose lease expired and whose
 *   job was re-picked cannot complete the new owner's job;
 * - the upsert is fed in a fixed key order, so concurrent completers sharing statistics keys
 *   take the row locks in the same order and cannot deadlock.
 * `id = ANY(array)` lets the delete walk the primary key in id order as well.
 *
 * $1 id bigint[], $2 status text[] (parallel to $1), $3 owner uuid.
 * Returns the ids actually completed.
 */
export function completeSql(n: Names): string {
  return `WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::text[]::${n.status}[]) AS t(id, status)
),
deleted AS (
  DELETE FROM ${n.jobs} j
  WHERE j.id = ANY ($1::bigint[]) AND j.status = 'picked' AND j.queue_manager_id = $3::uuid
  RETURNING j.id, j.priority, j.entrypoint, date_trunc('second', j.updated - j.created) AS time_in_queue
),
grouped AS (
  SELECT deleted.priority, deleted.entrypoint, deleted.time_in_queue, input.status,
         date_trunc('second', now()) AS created, count(*) AS count
  FROM deleted JOIN input ON input.id = deleted.id
  GROUP BY deleted.priority, deleted.entrypoint, deleted.time_in_queue, input.status
),
upserted AS (
  INSERT INTO ${n.statistics} AS s (priority, entrypoint, time_in_queue, status, created, count)
  SELECT priority, entrypoint, time_in_queue, status, created, count FROM grouped
  ORDER BY priority, entrypoint, time_in_queue, status, created
  ON CONFLICT (priority, entrypoint, time_in_queue, status, created)
  DO UPDATE SET count = s.count + EXCLUDED.count
)
SELECT id::text AS id FROM deleted`;
}
