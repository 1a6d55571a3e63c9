import type { Names } from '../names.js';
import { NOTIFY_CANCELED, notifySql } from './notify.js';

/**
 * Cancels jobs in one statement. Queued and held (`failed`) jobs are deleted and counted as
 * `canceled` in the statistics, so they never run. Running jobs cannot be taken from their
 * worker: they get `cancel_requested`, and one notification names them so their workers abort
 * the handlers at once (the heartbeat carries the flag too, for a worker that missed it).
 *
 * The rows are locked first, in id order, and the branch is chosen by the status the lock
 * returns: in READ COMMITTED a locking read waits for a concurrent dequeue and sees its claim,
 * whereas the statement's own snapshot would still show the job queued and neither branch would
 * catch it. Statistics are upserted in key order, as in complete, so cancels and completions
 * never lock the same statistics rows in opposite orders.
 *
 * $1 id bigint[], $2 channel text. Returns each id found with `canceled` or `canceling`.
 */
export function cancelJobsSql(n: Names): string {
  return `WITH locked AS (
  SELECT j.id, j.status FROM ${n.jobs} j WHERE j.id = ANY ($1::bigint[]) ORDER BY j.id FOR UPDATE
),
deleted AS (
  DELETE FROM ${n.jobs} j USING locked
  WHERE j.id = locked.id AND locked.status IN ('queued', 'failed')
  RETURNING j.id, j.priority, j.entrypoint, date_trunc('second', j.updated - j.created) AS time_in_queue
),
counted AS (
  INSERT INTO ${n.statistics} AS s (priority, entrypoint, time_in_queue, status, created, count)
  SELECT priority, entrypoint, time_in_queue, 'canceled'::${n.status}, date_trunc('second', now()), count(*)
  FROM deleted
  GROUP BY priority, entrypoint, time_in_queue
  ORDER BY priority, entrypoint, time_in_queue
  ON CONFLICT (priority, entrypoint, time_in_queue, status, created)
  DO UPDATE SET count = s.count + EXCLUDED.count
),
flagged AS (
  UPDATE ${n.jobs} j SET cancel_requested = true
  FROM locked
  WHERE j.id = locked.id AND locked.status = 'picked'
  RETURNING j.id
),
notified AS (
  ${notifySql('$2', NOTIFY_CANCELED, 'ids', 'id', 'flagged')}
)
SELECT deleted.id::text AS id, 'canceled' AS state FROM deleted
UNION ALL
SELECT flagged.id::text, 'canceling' FROM flagged LEFT JOIN notified ON true`;
}
