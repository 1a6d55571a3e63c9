import type { Names } from '../names.js';
import { NOTIFY_ENQUEUED, notifySql } from './notify.js';

/**
 * Puts a batch of running jobs back in the queue in one statement: the worker's retries (with
 * their backoff as a delay on the server clock) and the jobs it releases on shutdown. Only rows
 * still picked by this owner move, so a worker that lost a lease cannot requeue the new owner's
 * job. A run that should not count against the retry limit (retry-later, shutdown) gives its
 * attempt back. Jobs due at once are announced like an enqueue; delayed ones are found by polling.
 *
 * $1 id bigint[], $2 delay ms float8[], $3 error json text[] (NULL keeps the stored error),
 * $4 attempts to give back integer[] (0 or 1), $5 owner uuid, $6 channel text.
 * Returns the ids requeued.
 */
export function retryJobsSql(n: Names): string {
  return `WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::float8[], $3::text[], $4::integer[]) AS t(id, delay_ms, error, refund)
),
retried AS (
  UPDATE ${n.jobs} j
  SET status = 'queued', queue_manager_id = NULL, updated = now(),
      execute_after = now() + input.delay_ms * interval '1 millisecond',
      attempts = greatest(0, j.attempts - input.refund),
      last_error = coalesce(input.error::jsonb, j.last_error)
  FROM input
  WHERE j.id = input.id AND j.status = 'picked' AND j.queue_manager_id = $5::uuid
  RETURNING j.id, j.entrypoint, input.delay_ms
),
notified AS (
  ${notifySql('$6', NOTIFY_ENQUEUED, 'entrypoints', 'entrypoint', 'retried WHERE delay_ms <= 0')}
)
SELECT retried.id::text AS id FROM retried LEFT JOIN notified ON true`;
}

/**
 * Holds a batch of running jobs as `failed` (their final failure) with their errors, in one
 * statement and only where this owner still holds them. Held jobs leave the queued/picked
 * indexes, so they cost the dequeue nothing; requeueFailed brings them back.
 *
 * $1 id bigint[], $2 error json text[] (parallel to $1), $3 owner uuid. Returns the ids held.
 */
export function holdJobsSql(n: Names): string {
  return `UPDATE ${n.jobs} j
SET status = 'failed', queue_manager_id = NULL, updated = now(), last_error = input.error::jsonb
FROM unnest($1::bigint[], $2::text[]) AS input(id, error)
WHERE j.id = input.id AND j.status = 'picked' AND j.queue_manager_id = $3::uuid
RETURNING j.id::text AS id`;
}
