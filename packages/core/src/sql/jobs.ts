import type { Names } from '../names.js';
import { jobColumns } from './dequeue.js';

/**
 * Renews the lease of running jobs in one statement; only rows this owner still holds.
 * Returns the ids renewed, so a worker learns which leases it has lost, each with its cancel
 * flag, so a cancel whose notification was missed still reaches the handler.
 * $1 id bigint[], $2 owner uuid.
 */
export function heartbeatSql(n: Names): string {
  return `UPDATE ${n.jobs} SET heartbeat = now()
WHERE id = ANY ($1::bigint[]) AND status = 'picked' AND queue_manager_id = $2::uuid
RETURNING id::text AS id, cancel_requested AS cancelrequested`;
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
