import type { Names } from '../names.js';
import { jobColumns } from './dequeue.js';

/**
 * Renews the leases of running jobs in one statement, never waiting on a row lock: a row someone
 * else has locked (an application's `SELECT … FOR UPDATE`, a completion of ours in flight) is
 * skipped this time. The audit saw one locked row hold a plain `UPDATE` of 20 ids until all 20
 * leases went stale and another worker took 19 of them from their live owner.
 *
 * One row per id this owner still holds, as of the statement's snapshot: `renewed` says whether
 * its heartbeat was renewed or its row was locked right now. An id without a row is no longer
 * this owner's (re-picked by another worker, or deleted). A row re-picked by another worker
 * between the snapshot and the lock is found by the locking re-check, so it is reported as
 * skipped here and as lost by the next renewal: never lost while it is still ours.
 * Each row carries its cancel flag, so a cancel whose notification was missed still reaches the
 * handler.
 *
 * $1 id bigint[], $2 owner uuid.
 */
export function heartbeatSql(n: Names): string {
  return `WITH lockable AS (
  SELECT id FROM ${n.jobs}
  WHERE id = ANY ($1::bigint[]) AND status = 'picked' AND queue_manager_id = $2::uuid
  FOR UPDATE SKIP LOCKED
),
renewed AS (
  UPDATE ${n.jobs} j SET heartbeat = now() FROM lockable WHERE j.id = lockable.id RETURNING j.id
)
SELECT h.id::text AS id, h.cancel_requested AS cancelrequested, (renewed.id IS NOT NULL) AS renewed
FROM ${n.jobs} h LEFT JOIN renewed ON renewed.id = h.id
WHERE h.id = ANY ($1::bigint[]) AND h.status = 'picked' AND h.queue_manager_id = $2::uuid
ORDER BY h.id`;
}

/** Jobs per entrypoint, status and priority. */
export function queueSizeSql(n: Names): string {
  // Ordered by the enum (queued, picked, …), not by the text alias of the same name.
  return `SELECT j.entrypoint, j.status::text AS status, j.priority, count(*)::integer AS count
FROM ${n.jobs} j
GROUP BY j.entrypoint, j.status, j.priority
ORDER BY j.entrypoint, j.status, j.priority DESC`;
}

/** Deletes jobs of the given entrypoints, or all when $1 is NULL. Returns the number deleted. */
export function clearQueueSql(n: Names): string {
  return `WITH deleted AS (
  DELETE FROM ${n.jobs} WHERE $1::text[] IS NULL OR entrypoint = ANY ($1::text[]) RETURNING 1
)
SELECT count(*)::integer AS count FROM deleted`;
}

/** Reads jobs by id (for inspection and tests). $1 id bigint[]. */
export function jobsByIdSql(n: Names): string {
  return `SELECT ${jobColumns('j')} FROM ${n.jobs} j WHERE j.id = ANY ($1::bigint[]) ORDER BY j.id`;
}
