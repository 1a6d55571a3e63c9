/**
 * Schema DDL. Object names follow PgQueuer; `names` carries the optional schema and prefix.
 * The indexes match the statements in this folder one to one (see each statement's comment).
 */
import type { Names } from '../names.js';
import { BASE_SCHEMA_VERSION, SCHEMA_STEPS, checkSteps, markerSql, targetVersion } from './upgrades.js';

/**
 * The version this library installs and upgrades to: version 1 (below) and then every step of
 * sql/upgrades.ts. Written into the jobs table comment, which is how verify and upgrade read it.
 */
export const SCHEMA_VERSION = targetVersion(checkSteps(SCHEMA_STEPS));

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

/**
 * The whole DDL of the current version: version 1, then every upgrade step, then the marker.
 * Every part is guarded (IF NOT EXISTS, CREATE OR REPLACE), so an installer that waited on the
 * lock behind another changes nothing.
 */
export function installSql(n: Names): string {
  const steps = SCHEMA_STEPS.map((step) => `-- version ${step.version}: ${step.description}\n${step.sql(n)}\n`).join('\n');
  return `${baseSql(n)}\n${steps}\n${markerSql(n, SCHEMA_VERSION)}\n`;
}

/**
 * The advisory lock installers and upgraders of one installation take turns on (transaction-scoped),
 * then a read of a catalog table. A backend that waited for the lock still holds the catalog cache
 * of before the wait: "no such schema" or "no such type", cached by verifySchema's lookups, and
 * CREATE SCHEMA IF NOT EXISTS believed it (34 of 80 installs failed with a unique violation on
 * pg_namespace, 8 processes at once). Opening a catalog table takes a relation lock, and taking a
 * lock makes the backend apply the invalidations other sessions committed meanwhile.
 */
export function installLockSql(n: Names): string {
  return `SELECT pg_advisory_xact_lock(hashtext('pgqueue install ' || '${n.jobs}'));
SELECT FROM pg_catalog.pg_namespace WHERE false`;
}

/** Version 1 as it shipped (test/fixtures/schema-v1.sql is its frozen text). Never edit: add a step. */
function baseSql(n: Names): string {
  const p = n.prefix;
  const statuses = JOB_STATUSES.map((s) => `'${s}'`).join(', ');
  // Installers starting at once (every worker of a fleet calling installSchema on its first start)
  // take turns on this lock, so the guards below make the later ones change nothing instead of
  // failing on CREATE TYPE.
  return `${installLockSql(n)};
${n.schema === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS "${n.schema}";\n`}
DO $install$ BEGIN
  IF to_regtype('${n.status}') IS NULL THEN
    CREATE TYPE ${n.status} AS ENUM (${statuses});
  END IF;
END $install$;

CREATE TABLE IF NOT EXISTS ${n.jobs} (
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
) WITH (
  -- Every job leaves two dead row versions (its claim and its deletion), and every dequeue walks
  -- past the dead index entries at the head of the queue until vacuum removes them. The default
  -- trigger (20% of the rows the table had at its last vacuum) lets a table drained after a burst
  -- of 500k jobs collect 100k dead rows before a vacuum, and the default cost delay throttles that
  -- vacuum. A queue table is small when healthy: vacuum it early and at full speed.
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_insert_scale_factor = 0.01,
  autovacuum_vacuum_cost_delay = 0
);
${markerSql(n, BASE_SCHEMA_VERSION)}

-- dequeue: queued rows of an entrypoint, highest priority first, then the earliest due; within a
-- priority the jobs not due yet come last, so a due scan stops before them.
CREATE INDEX IF NOT EXISTS "${p}pgqueuer_queued_idx" ON ${n.jobs} (entrypoint, priority DESC, execute_after, id) WHERE status = 'queued';
-- dequeue: running rows per entrypoint (concurrency limits) and by heartbeat (stale re-pick).
CREATE INDEX IF NOT EXISTS "${p}pgqueuer_picked_idx" ON ${n.jobs} (entrypoint, heartbeat) WHERE status = 'picked';
-- listFailed: held failures in id order (few rows; the rest of the table is never scanned).
CREATE INDEX IF NOT EXISTS "${p}pgqueuer_failed_idx" ON ${n.jobs} (id) WHERE status = 'failed';
-- enqueue: at most one queued or running job per dedupe key.
CREATE UNIQUE INDEX IF NOT EXISTS "${p}pgqueuer_dedupe_idx" ON ${n.jobs} (dedupe_key)
  WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'picked');

CREATE TABLE IF NOT EXISTS ${n.statistics} (
  id            bigserial PRIMARY KEY,
  created       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
  count         bigint NOT NULL,
  priority      integer NOT NULL,
  time_in_queue interval NOT NULL,
  status        ${n.status} NOT NULL,
  entrypoint    text NOT NULL
);
-- complete: the upsert key, one row per second per combination.
CREATE UNIQUE INDEX IF NOT EXISTS "${p}pgqueuer_stats_key" ON ${n.statistics} (priority, entrypoint, time_in_queue, status, created);

-- dequeue: one row per concurrency-limited entrypoint, locked while a limited batch is claimed.
CREATE TABLE IF NOT EXISTS ${n.entrypoints} (
  entrypoint text PRIMARY KEY
);

${dequeueFunctionSql(n)}
`;
}

/**
 * The dequeue statement lives in a PL/pgSQL function for two reasons.
 *
 * Concurrency limits need two steps with two snapshots: lock the limited entrypoints, then count
 * their running jobs. In one plain statement the count would come from a snapshot taken before
 * the lock was granted, and two workers could both see the same free slot. In a VOLATILE
 * function each statement takes a fresh snapshot, so the count sees every claim committed by the
 * previous lock holder, and the whole dequeue is still one round trip. Entrypoints without a
 * limit take no lock at all.
 *
 * And its cost must not depend on the backlog. Every read walks an index in order and stops after
 * the rows it needs:
 * - due jobs are read one priority level at a time, through the queued index (entrypoint,
 *   priority DESC, execute_after, id) with the level fixed, so `execute_after <= now()` bounds the
 *   scan: jobs that are not due yet sit at the end of their level and are never visited. Levels
 *   are found by a descent each (the next lower priority), so a dequeue costs a few descents per
 *   level holding only future jobs, never a walk past those jobs. One statement ordered by
 *   priority across levels walked all 200k delayed jobs of a higher priority on every call
 *   (18-20 ms for 100 due jobs, docs/benchmarks.md).
 * - the function plans with sorts and sequential scans disabled. Its statements run with
 *   parameters, and PostgreSQL plans them from the table's statistics, which on a fresh install
 *   say "empty" until autovacuum analyses the table, possibly long after a burst. On such
 *   statistics the planner sorted the whole backlog for every dequeue (a bitmap scan of 200k rows
 *   and an external sort, ~37-80 ms for 100 jobs instead of ~1 ms). With both disabled the only
 *   cheap plans left are the index walks the SQL is written for, whatever the statistics say.
 *   JIT is off too: the disabled paths' penalty costs pass jit_above_cost, and compiling the
 *   final statement took ~150 ms of a call that otherwise takes one.
 */
function dequeueFunctionSql(n: Names): string {
  return `CREATE OR REPLACE FUNCTION ${n.dequeueFunction}(
  p_batch_size integer,
  p_entrypoints text[],
  p_limits integer[],
  p_owner uuid,
  p_stale_after interval
) RETURNS SETOF ${n.jobs}
LANGUAGE plpgsql VOLATILE
SET enable_sort = off
SET enable_seqscan = off
SET jit = off
AS $pgqueue$
DECLARE
  v_limited text[];
  -- A picked job whose heartbeat is older than this belongs to a worker presumed dead.
  v_live_since timestamptz := CASE WHEN p_stale_after IS NULL THEN '-infinity' ELSE now() - p_stale_after END;
  v_entrypoint text;
  v_room integer;
  v_need integer;
  v_priority integer;
  -- Levels below this priority are left to read; above every int4 priority at first.
  v_below bigint;
  v_ids bigint[];
  v_due timestamptz[];
  v_stale integer;
  -- Set when an entrypoint has more candidates (due and stale) than room.
  v_over boolean := false;
  -- Candidates of every entrypoint, locked: parallel arrays of id, entrypoint position, priority, due time.
  c_ids bigint[] := '{}';
  c_slots integer[] := '{}';
  c_priorities integer[] := '{}';
  c_due timestamptz[] := '{}';
  c_rooms integer[] := '{}';
BEGIN
  -- A plain expression, not a query: a dequeue without limits takes no lock and runs no statement here.
  IF cardinality(array_remove(p_limits, NULL)) > 0 THEN
    SELECT array_agg(r.entrypoint ORDER BY r.entrypoint) INTO v_limited
    FROM unnest(p_entrypoints, p_limits) AS r(entrypoint, max_running)
    WHERE r.max_running IS NOT NULL;
    INSERT INTO ${n.entrypoints} (entrypoint) SELECT unnest(v_limited) ON CONFLICT DO NOTHING;
    -- Sorted, so two workers asking for overlapping sets never wait on each other in a cycle.
    PERFORM 1 FROM ${n.entrypoints} WHERE entrypoint = ANY (v_limited) ORDER BY entrypoint FOR UPDATE;
  END IF;

  FOR slot IN 1 .. coalesce(array_length(p_entrypoints, 1), 0) LOOP
    v_entrypoint := p_entrypoints[slot];
    v_room := p_batch_size;
    IF p_limits[slot] IS NOT NULL THEN
      -- Running jobs whose lease expired free their slot: they are candidates below.
      SELECT greatest(0, least(p_batch_size, p_limits[slot] - count(*)))::integer INTO v_room
      FROM ${n.jobs} running
      WHERE running.entrypoint = v_entrypoint AND running.status = 'picked'
        AND running.heartbeat >= v_live_since;
    END IF;
    c_rooms := c_rooms || v_room;
    CONTINUE WHEN v_room = 0;

    -- Due jobs, level by level from the highest priority, the earliest due first within a level.
    -- One statement a level: find the next lower priority (one index descent) and claim its due
    -- jobs; a level of future or locked jobs yields none and the loop moves below it. The claim
    -- starts at the first live entry the descent found, not at the start of the level: entries of
    -- jobs claimed since the last vacuum lie there, and both scans walked them (2,700 buffers each
    -- after 30 s of churn without a vacuum).
    v_need := v_room;
    v_below := 2147483648;
    LOOP
      SELECT max(level.priority), coalesce(array_agg(due.id) FILTER (WHERE due.id IS NOT NULL), '{}'),
             coalesce(array_agg(due.execute_after) FILTER (WHERE due.id IS NOT NULL), '{}')
        INTO v_priority, v_ids, v_due
      FROM (
        SELECT j.priority, j.execute_after, j.id FROM ${n.jobs} j
        WHERE j.entrypoint = v_entrypoint AND j.status = 'queued' AND j.priority < v_below
        ORDER BY j.priority DESC, j.execute_after, j.id LIMIT 1
      ) level
      LEFT JOIN LATERAL (
        SELECT j.id, j.execute_after FROM ${n.jobs} j
        WHERE j.entrypoint = v_entrypoint AND j.status = 'queued' AND j.priority = level.priority
          AND (j.execute_after, j.id) >= (level.execute_after, level.id) AND j.execute_after <= now()
        ORDER BY j.execute_after, j.id
        LIMIT v_need
        FOR UPDATE SKIP LOCKED
      ) due ON true;
      EXIT WHEN v_priority IS NULL;
      c_ids := c_ids || v_ids;
      c_slots := c_slots || array_fill(slot, ARRAY[cardinality(v_ids)]);
      c_priorities := c_priorities || array_fill(v_priority, ARRAY[cardinality(v_ids)]);
      c_due := c_due || v_due;
      v_need := v_need - cardinality(v_ids);
      EXIT WHEN v_need = 0;
      v_below := v_priority;
    END LOOP;

    -- Jobs of workers presumed dead: picked, lease not renewed within p_stale_after.
    IF p_stale_after IS NOT NULL THEN
      SELECT c_ids || coalesce(array_agg(stale.id), '{}'),
             c_slots || array_fill(slot, ARRAY[count(*)::integer]),
             c_priorities || coalesce(array_agg(stale.priority), '{}'),
             c_due || coalesce(array_agg(stale.execute_after), '{}'),
             count(*)::integer
        INTO c_ids, c_slots, c_priorities, c_due, v_stale
      FROM (
        SELECT j.id, j.priority, j.execute_after FROM ${n.jobs} j
        WHERE j.entrypoint = v_entrypoint AND j.status = 'picked'
          AND j.heartbeat < v_live_since
        ORDER BY j.heartbeat
        LIMIT v_room
        FOR UPDATE SKIP LOCKED
      ) stale;
      v_over := v_over OR v_room - v_need + v_stale > v_room;
    END IF;
  END LOOP;

  -- Usually every candidate is claimed: one entrypoint, or several whose candidates fit the batch.
  IF cardinality(c_ids) <= p_batch_size AND NOT v_over THEN
    RETURN QUERY
    UPDATE ${n.jobs} j
    SET status = 'picked', queue_manager_id = p_owner, heartbeat = now(), updated = now(),
        attempts = j.attempts + 1
    WHERE j.id = ANY (c_ids)
    RETURNING j.*;
    RETURN;
  END IF;

  -- Otherwise the best of them by priority, then due time, within each entrypoint's room and the batch.
  RETURN QUERY
  WITH ranked AS (
    SELECT c.id, c.priority, c.due, c_rooms[c.slot] AS room,
      row_number() OVER (PARTITION BY c.slot ORDER BY c.priority DESC, c.due, c.id) AS rank_in_entrypoint
    FROM unnest(c_ids, c_slots, c_priorities, c_due) AS c(id, slot, priority, due)
  ),
  chosen AS (
    SELECT ranked.id FROM ranked
    WHERE ranked.rank_in_entrypoint <= ranked.room
    ORDER BY ranked.priority DESC, ranked.due, ranked.id
    LIMIT p_batch_size
  )
  UPDATE ${n.jobs} j
  SET status = 'picked', queue_manager_id = p_owner, heartbeat = now(), updated = now(),
      attempts = j.attempts + 1
  FROM chosen
  WHERE j.id = chosen.id
  RETURNING j.*;
END
$pgqueue$;`;
}

export function uninstallSql(n: Names): string {
  return `DROP FUNCTION IF EXISTS ${n.dequeueFunction}(integer, text[], integer[], uuid, interval);
DROP TABLE IF EXISTS ${n.maintenance};
DROP TABLE IF EXISTS ${n.schedules};
DROP TABLE IF EXISTS ${n.entrypoints};
DROP TABLE IF EXISTS ${n.statistics};
DROP TABLE IF EXISTS ${n.jobs};
DROP TYPE IF EXISTS ${n.status};
`;
}
