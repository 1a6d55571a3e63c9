/**
 * Schema DDL. Object names follow PgQueuer; `names` carries the optional schema and prefix.
 * The indexes match the statements in this folder one to one (see each statement's comment).
 */
import type { Names } from '../names.js';

/** Written into the jobs table comment so verify (and later upgrades) can tell what is installed. */
export const SCHEMA_VERSION = 1;
export const SCHEMA_MARKER = `pgqueue schema ${SCHEMA_VERSION}`;

export const JOB_STATUSES = ['queued', 'picked', 'successful', 'exception', 'canceled', 'deleted', 'failed'] as const;

/** Columns verifySchema expects on each table. */
export const JOB_COLUMNS = [
  'id',
  'priority',
  'queue_manager_id',
  'created',
  'updated',
  'heartbeat',
  'execute_after',
  'status',
  'entrypoint',
  'dedupe_key',
  'payload',
  'headers',
  'attempts',
  'last_error',
  'cancel_requested',
] as const;
export const STATISTICS_COLUMNS = ['id', 'created', 'count', 'priority', 'time_in_queue', 'status', 'entrypoint'] as const;

export function installSql(n: Names): string {
  const p = n.prefix;
  const statuses = JOB_STATUSES.map((s) => `'${s}'`).join(', ');
  const inSchema = (name: string) => (n.schema === undefined ? `"${name}"` : `"${n.schema}"."${name}"`);
  return `${n.schema === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS "${n.schema}";\n`}
CREATE TYPE ${n.status} AS ENUM (${statuses});

CREATE TABLE ${n.jobs} (
  id               bigserial PRIMARY KEY,
  priority         integer NOT NULL DEFAULT 0,
  queue_manager_id uuid,
  created          timestamptz NOT NULL DEFAULT now(),
  updated          timestamptz NOT NULL DEFAULT now(),
  heartbeat        timestamptz NOT NULL DEFAULT now(),
  execute_after    timestamptz NOT NULL DEFAULT now(),
  status           ${n.status} NOT NULL DEFAULT 'queued',
  entrypoint       text NOT NULL,
  dedupe_key       text,
  payload          bytea,
  headers          jsonb,
  attempts         integer NOT NULL DEFAULT 0,
  -- The error of the latest failed run ({name, message, stack, attempt}); kept through retries
  -- and on jobs held as failed.
  last_error       jsonb,
  -- Set by cancel on a running job: its worker aborts the handler, a later picker skips it.
  cancel_requested boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE ${n.jobs} IS '${SCHEMA_MARKER}';

-- dequeue: queued rows of an entrypoint, highest priority first, then oldest.
CREATE INDEX "${p}pgqueuer_queued_idx" ON ${n.jobs} (entrypoint, priority DESC, id) WHERE status = 'queued';
-- dequeue: running rows per entrypoint (concurrency limits) and by heartbeat (stale re-pick).
CREATE INDEX "${p}pgqueuer_picked_idx" ON ${n.jobs} (entrypoint, heartbeat) WHERE status = 'picked';
-- listFailed: held failures in id order (few rows; the rest of the table is never scanned).
CREATE INDEX "${p}pgqueuer_failed_idx" ON ${n.jobs} (id) WHERE status = 'failed';
-- enqueue: at most one queued or running job per dedupe key.
CREATE UNIQUE INDEX "${p}pgqueuer_dedupe_idx" ON ${n.jobs} (dedupe_key)
  WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'picked');

CREATE TABLE ${n.statistics} (
  id            bigserial PRIMARY KEY,
  created       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
  count         bigint NOT NULL,
  priority      integer NOT NULL,
  time_in_queue interval NOT NULL,
  status        ${n.status} NOT NULL,
  entrypoint    text NOT NULL
);
-- complete: the upsert key, one row per second per combination.
CREATE UNIQUE INDEX "${p}pgqueuer_stats_key" ON ${n.statistics} (priority, entrypoint, time_in_queue, status, created);

-- dequeue: one row per concurrency-limited entrypoint, locked while a limited batch is claimed.
CREATE TABLE ${n.entrypoints} (
  entrypoint text PRIMARY KEY
);

${dequeueFunctionSql(n)}
`;
}

/**
 * The dequeue statement lives in a function because concurrency limits need two steps with two
 * snapshots: lock the limited entrypoints, then count their running jobs. In one plain statement
 * the count would come from a snapshot taken before the lock was granted, and two workers could
 * both see the same free slot. In a VOLATILE PL/pgSQL function each statement takes a fresh
 * snapshot, so the count sees every claim committed by the previous lock holder, and the whole
 * dequeue is still one round trip. Entrypoints without a limit take no lock at all.
 */
function dequeueFunctionSql(n: Names): string {
  return `CREATE FUNCTION ${n.dequeueFunction}(
  p_batch_size integer,
  p_entrypoints text[],
  p_limits integer[],
  p_owner uuid,
  p_stale_after interval
) RETURNS SETOF ${n.jobs}
LANGUAGE plpgsql VOLATILE AS $pgqueue$
DECLARE
  v_limited text[];
BEGIN
  SELECT array_agg(r.entrypoint ORDER BY r.entrypoint) INTO v_limited
  FROM unnest(p_entrypoints, p_limits) AS r(entrypoint, max_running)
  WHERE r.max_running IS NOT NULL;

  IF v_limited IS NOT NULL THEN
    INSERT INTO ${n.entrypoints} (entrypoint) SELECT unnest(v_limited) ON CONFLICT DO NOTHING;
    -- Sorted, so two workers asking for overlapping sets never wait on each other in a cycle.
    PERFORM 1 FROM ${n.entrypoints} WHERE entrypoint = ANY (v_limited) ORDER BY entrypoint FOR UPDATE;
  END IF;

  RETURN QUERY
  WITH request AS (
    SELECT r.entrypoint,
      CASE WHEN r.max_running IS NULL THEN p_batch_size
      ELSE greatest(0, least(p_batch_size, r.max_running - (
        SELECT count(*) FROM ${n.jobs} running
        WHERE running.entrypoint = r.entrypoint AND running.status = 'picked'
          AND (p_stale_after IS NULL OR running.heartbeat >= now() - p_stale_after)
      )))::integer
      END AS room
    FROM unnest(p_entrypoints, p_limits) AS r(entrypoint, max_running)
  ),
  candidate AS (
    SELECT request.entrypoint, request.room, due.id, due.priority
    FROM request, LATERAL (
      SELECT j.id, j.priority FROM ${n.jobs} j
      WHERE j.entrypoint = request.entrypoint AND j.status = 'queued' AND j.execute_after <= now()
      ORDER BY j.priority DESC, j.id
      LIMIT request.room
      FOR UPDATE SKIP LOCKED
    ) due
    WHERE request.room > 0
    UNION ALL
    SELECT request.entrypoint, request.room, stale.id, stale.priority
    FROM request, LATERAL (
      SELECT j.id, j.priority FROM ${n.jobs} j
      WHERE j.entrypoint = request.entrypoint AND j.status = 'picked'
        AND j.heartbeat < now() - p_stale_after
      ORDER BY j.heartbeat
      LIMIT request.room
      FOR UPDATE SKIP LOCKED
    ) stale
    WHERE request.room > 0 AND p_stale_after IS NOT NULL
  ),
  chosen AS (
    SELECT ranked.id FROM (
      SELECT candidate.*, row_number() OVER (
        PARTITION BY candidate.entrypoint ORDER BY candidate.priority DESC, candidate.id
      ) AS rank_in_entrypoint
      FROM candidate
    ) ranked
    WHERE ranked.rank_in_entrypoint <= ranked.room
    ORDER BY ranked.priority DESC, ranked.id
    LIMIT p_batch_size
  ),
  claimed AS (
    UPDATE ${n.jobs} j
    SET status = 'picked', queue_manager_id = p_owner, heartbeat = now(), updated = now(),
        attempts = j.attempts + 1
    FROM chosen
    WHERE j.id = chosen.id
    RETURNING j.*
  )
  SELECT * FROM claimed;
END
$pgqueue$;`;
}

export function uninstallSql(n: Names): string {
  return `DROP FUNCTION IF EXISTS ${n.dequeueFunction}(integer, text[], integer[], uuid, interval);
DROP TABLE IF EXISTS ${n.entrypoints};
DROP TABLE IF EXISTS ${n.statistics};
DROP TABLE IF EXISTS ${n.jobs};
DROP TYPE IF EXISTS ${n.status};
`;
}
