/**
 * The schedules table and its statements. PostgreSQL cannot evaluate cron expressions, so every
 * next_run is computed in JS (croner, see schedule/cron.ts) and passed in; the SQL claims rows,
 * advances them and enqueues their ticks' jobs.
 *
 * Column names follow PgQueuer's `pgqueuer_schedules` (expression, entrypoint, next_run,
 * last_run, heartbeat, status); pgqueue adds a name (the identity a schedule is registered,
 * paused and removed by), the time zone, the job's payload and priority, the missed-tick policy
 * and skip-while-running. Status is text here, not PgQueuer's job status enum: a schedule is
 * active, paused (by an operator) or disabled (no longer registered by the code).
 */
import type { Names } from '../names.js';
import { NOTIFY_ENQUEUED, notifySql } from './notify.js';

export const SCHEDULE_STATUSES = ['active', 'paused', 'disabled'] as const;
export const MISSED_POLICIES = ['run_once', 'skip'] as const;

/** Columns verifySchema expects on the schedules table. */
export const SCHEDULE_COLUMNS = [
  'id',
  'name',
  'expression',
  'timezone',
  'entrypoint',
  'payload',
  'priority',
  'missed',
  'missed_after_ms',
  'skip_while_running',
  'status',
  'next_run',
  'last_run',
  'heartbeat',
  'created',
  'updated',
] as const;

/**
 * The schedules table, idempotent (IF NOT EXISTS throughout): the step to schema version 3
 * (sql/upgrades.ts), which a fresh install runs too.
 */
export function schedulesTableSql(n: Names): string {
  const p = n.prefix;
  const list = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${n.schedules} (
  id                 bigserial PRIMARY KEY,
  name               text NOT NULL UNIQUE,
  expression         text NOT NULL,
  timezone           text NOT NULL DEFAULT 'UTC',
  entrypoint         text NOT NULL,
  payload            bytea,
  priority           integer NOT NULL DEFAULT 0,
  -- Ticks that came due while no scheduler ran: one job for all of them, or none.
  missed             text NOT NULL DEFAULT 'run_once' CHECK (missed IN (${list(MISSED_POLICIES)})),
  -- A tick this late (server clock) counts as missed rather than late.
  missed_after_ms    integer NOT NULL DEFAULT 30000 CHECK (missed_after_ms >= 0),
  -- The tick's job carries the dedupe key 'pgqueue:schedule:<name>': no new one while one is queued or running.
  skip_while_running boolean NOT NULL DEFAULT false,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN (${list(SCHEDULE_STATUSES)})),
  -- The next tick to enqueue; 'infinity' when the expression has no further tick.
  next_run           timestamptz NOT NULL,
  -- The tick of the latest job a claim enqueued (or found already queued or running, skipping while running).
  last_run           timestamptz,
  -- When a scheduler last registered or claimed the row.
  heartbeat          timestamptz NOT NULL DEFAULT now(),
  created            timestamptz NOT NULL DEFAULT now(),
  updated            timestamptz NOT NULL DEFAULT now()
);
-- due: active schedules by next_run, the only scan a polling scheduler makes.
CREATE INDEX IF NOT EXISTS "${p}pgqueuer_schedules_due_idx" ON ${n.schedules} (next_run) WHERE status = 'active';
`;
}


/** The dedupe key of a schedule's jobs when it skips ticks while one is queued or running. */
export function scheduleDedupeKeySql(nameColumn: string): string {
  return `'pgqueue:schedule:' || ${nameColumn}`;
}

/** Epoch milliseconds (float8 parameter, NULL for none) as timestamptz; NULL becomes 'infinity'. */
const fromEpochMs = (param: string) => `coalesce('epoch'::timestamptz + ${param} * interval '1 millisecond', 'infinity')`;

const scheduleColumns = `s.id::text AS id, s.name, s.expression, s.timezone, s.entrypoint, s.priority, s.missed,
       s.missed_after_ms AS missedafterms, s.skip_while_running AS skipwhilerunning, s.status,
       extract(epoch FROM s.next_run)::text AS nextrunepoch,
       (extract(epoch FROM s.last_run) * 1000)::float8 AS lastrunms,
       (extract(epoch FROM s.heartbeat) * 1000)::float8 AS heartbeatms,
       (extract(epoch FROM s.created) * 1000)::float8 AS createdms,
       (extract(epoch FROM s.updated) * 1000)::float8 AS updatedms`;

/**
 * Registers the schedules in code and disables the ones the code no longer has, in one
 * statement. A registered row is updated only when something changed; its next_run is replaced
 * (by the one computed from now, $10) only when its expression or time zone changed or it comes
 * back from disabled, so a fleet starting together never moves a tick another process already
 * claimed. A paused row stays paused. Rows of the entrypoints in $11 whose name is not in $1 are
 * disabled.
 *
 * $1 name text[] (sorted, so concurrent registrations lock rows in one order), $2 expression
 * text[], $3 timezone text[], $4 entrypoint text[], $5 payload hex text[], $6 priority int[],
 * $7 missed text[], $8 missed_after_ms int[], $9 skip_while_running boolean[], $10 next_run
 * epoch ms float8[], $11 owned entrypoints text[].
 */
export function syncSchedulesSql(n: Names): string {
  return `WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[],
                       $8::integer[], $9::boolean[], $10::float8[])
    AS t(name, expression, timezone, entrypoint, payload, priority, missed, missed_after_ms, skip_while_running, next_ms)
),
upserted AS (
  INSERT INTO ${n.schedules} AS s (name, expression, timezone, entrypoint, payload, priority, missed, missed_after_ms,
                                   skip_while_running, next_run)
  SELECT name, expression, timezone, entrypoint, decode(payload, 'hex'), priority, missed, missed_after_ms,
         skip_while_running, ${fromEpochMs('next_ms')}
  FROM input
  ORDER BY name
  ON CONFLICT (name) DO UPDATE SET
    expression = EXCLUDED.expression, timezone = EXCLUDED.timezone, entrypoint = EXCLUDED.entrypoint,
    payload = EXCLUDED.payload, priority = EXCLUDED.priority, missed = EXCLUDED.missed,
    missed_after_ms = EXCLUDED.missed_after_ms, skip_while_running = EXCLUDED.skip_while_running,
    next_run = CASE WHEN s.status = 'disabled' OR s.expression <> EXCLUDED.expression OR s.timezone <> EXCLUDED.timezone
                    THEN EXCLUDED.next_run ELSE s.next_run END,
    status = CASE WHEN s.status = 'disabled' THEN 'active' ELSE s.status END,
    heartbeat = now(), updated = now()
  WHERE s.status = 'disabled'
     OR (s.expression, s.timezone, s.entrypoint, s.payload, s.priority, s.missed, s.missed_after_ms, s.skip_while_running)
        IS DISTINCT FROM (EXCLUDED.expression, EXCLUDED.timezone, EXCLUDED.entrypoint, EXCLUDED.payload, EXCLUDED.priority,
                          EXCLUDED.missed, EXCLUDED.missed_after_ms, EXCLUDED.skip_while_running)
  RETURNING s.name, (s.xmax = 0) AS created
),
disabled AS (
  UPDATE ${n.schedules} s SET status = 'disabled', updated = now()
  WHERE s.entrypoint = ANY ($11::text[]) AND s.status <> 'disabled' AND s.name <> ALL ($1::text[])
  RETURNING s.name
)
SELECT (SELECT coalesce(json_agg(name ORDER BY name) FILTER (WHERE created), '[]') FROM upserted)::text AS created,
       (SELECT coalesce(json_agg(name ORDER BY name) FILTER (WHERE NOT created), '[]') FROM upserted)::text AS updated,
       (SELECT coalesce(json_agg(name ORDER BY name), '[]') FROM disabled)::text AS disabled`;
}

/**
 * What a scheduler reads before claiming, without locking anything: the server clock, the
 * earliest active next_run of the entrypoints it serves (so it sleeps until then), and up to
 * $2 of their schedules that are due. next_run comes back as exact epoch text: the claim
 * passes it back as its guard, and a millisecond-rounded value would never match a next_run
 * set by hand.
 *
 * $1 entrypoints text[], $2 limit int.
 */
export function dueSchedulesSql(n: Names): string {
  return `SELECT (extract(epoch FROM now()) * 1000)::float8 AS nowms,
  (SELECT extract(epoch FROM min(next_run)) * 1000 FROM ${n.schedules}
    WHERE status = 'active' AND entrypoint = ANY ($1::text[]))::float8 AS earliestms,
  (SELECT json_agg(d ORDER BY d.nextrun) FROM (
    SELECT s.id::text AS id, s.name, s.expression, s.timezone, s.missed, s.missed_after_ms AS missedafterms,
           extract(epoch FROM s.next_run)::text AS nextrunepoch, s.next_run AS nextrun
    FROM ${n.schedules} s
    WHERE s.status = 'active' AND s.entrypoint = ANY ($1::text[]) AND s.next_run <= now()
    ORDER BY s.next_run
    LIMIT $2::integer
  ) d)::text AS due`;
}

/**
 * Claims due schedules and enqueues their ticks' jobs, in one statement. A schedule is claimed
 * only while it is still active and its next_run is still the one the scheduler read ($2),
 * under FOR UPDATE SKIP LOCKED: of any number of schedulers planning the same tick, exactly one
 * advances the row (next_run to $3) and inserts the tick's jobs, the others claim nothing.
 * The jobs are ordinary jobs (retries, limits, statistics, cancellation); a schedule that skips
 * while running gives them its dedupe key, and a tick whose key is still queued or running
 * inserts nothing. Workers are notified like an enqueue.
 *
 * $1 schedule id bigint[], $2 next_run read, epoch text[], $3 new next_run epoch ms float8[]
 * (NULL: no further tick), $4 latest tick handled epoch ms float8[]; the jobs: $5 schedule id
 * bigint[], $6 headers json text[]; $7 channel text.
 */
export function claimTicksSql(n: Names): string {
  return `WITH plan AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::float8[]) AS p(id, expected, next_ms, last_ms)
),
claimed AS (
  SELECT s.id, s.name, s.entrypoint, s.payload, s.priority, s.skip_while_running, plan.next_ms, plan.last_ms
  FROM ${n.schedules} s JOIN plan ON plan.id = s.id
  WHERE s.status = 'active' AND extract(epoch FROM s.next_run) = plan.expected::numeric
  ORDER BY s.id
  FOR UPDATE OF s SKIP LOCKED
),
advanced AS (
  UPDATE ${n.schedules} s
  SET next_run = ${fromEpochMs('c.next_ms')},
      last_run = coalesce('epoch'::timestamptz + c.last_ms * interval '1 millisecond', s.last_run),
      heartbeat = now(), updated = now()
  FROM claimed c
  WHERE s.id = c.id
  RETURNING s.id
),
inserted AS (
  INSERT INTO ${n.jobs} (priority, entrypoint, payload, dedupe_key, headers)
  SELECT c.priority, c.entrypoint, c.payload,
         CASE WHEN c.skip_while_running THEN ${scheduleDedupeKeySql('c.name')} END, t.headers::jsonb
  FROM unnest($5::bigint[], $6::text[]) WITH ORDINALITY AS t(schedule_id, headers, ord)
  JOIN claimed c ON c.id = t.schedule_id
  ORDER BY t.ord
  ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'picked') DO NOTHING
  RETURNING id, entrypoint, headers
),
notified AS (
  ${notifySql('$7', NOTIFY_ENQUEUED, 'entrypoints', 'entrypoint', 'inserted')}
)
SELECT (SELECT array_agg(id ORDER BY id) FROM advanced)::text AS claimed,
       (SELECT json_agg(json_build_object('id', id::text, 'headers', headers) ORDER BY id) FROM inserted)::text AS jobs
FROM (SELECT 1) one LEFT JOIN notified ON true`;
}

/** Every schedule, by name. */
export function listSchedulesSql(n: Names): string {
  return `SELECT ${scheduleColumns} FROM ${n.schedules} s ORDER BY s.name`;
}

/** The schedules named in $1 (text[]), with what resume needs to compute their next tick. */
export function schedulesByNameSql(n: Names): string {
  return `SELECT ${scheduleColumns} FROM ${n.schedules} s WHERE s.name = ANY ($1::text[]) ORDER BY s.name`;
}

/** Pauses the active schedules named in $1 (text[]); returns the names paused. */
export function pauseSchedulesSql(n: Names): string {
  return `UPDATE ${n.schedules} SET status = 'paused', updated = now()
WHERE name = ANY ($1::text[]) AND status = 'active'
RETURNING name`;
}

/**
 * Resumes paused schedules, each from the next tick after now ($3, computed in JS): ticks that
 * passed while it was paused are not missed ones. The expression read ($2) guards against a
 * registration that changed it meanwhile. $1 name text[], $2 expression text[], $3 next_run
 * epoch ms float8[]. Returns the names resumed.
 */
export function resumeSchedulesSql(n: Names): string {
  return `UPDATE ${n.schedules} s SET status = 'active', next_run = ${fromEpochMs('r.next_ms')}, updated = now()
FROM unnest($1::text[], $2::text[], $3::float8[]) AS r(name, expression, next_ms)
WHERE s.name = r.name AND s.expression = r.expression AND s.status = 'paused'
RETURNING s.name`;
}

/** Deletes the schedules named in $1 (text[]); returns the names deleted. Their jobs stay. */
export function removeSchedulesSql(n: Names): string {
  return `DELETE FROM ${n.schedules} WHERE name = ANY ($1::text[]) RETURNING name`;
}

/**
 * Enqueues one job of the schedule named $1 now, outside its ticks; next_run is left as it is.
 * A schedule that skips while running inserts nothing while its job is queued or running.
 * $1 name text, $2 headers json text, $3 channel text. Returns the schedule (found) and the job id.
 */
export function runScheduleNowSql(n: Names): string {
  return `WITH target AS (
  SELECT s.name, s.entrypoint, s.payload, s.priority, s.skip_while_running FROM ${n.schedules} s WHERE s.name = $1::text
),
inserted AS (
  INSERT INTO ${n.jobs} (priority, entrypoint, payload, dedupe_key, headers)
  SELECT priority, entrypoint, payload, CASE WHEN skip_while_running THEN ${scheduleDedupeKeySql('name')} END, $2::text::jsonb
  FROM target
  ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'picked') DO NOTHING
  RETURNING id, entrypoint
),
notified AS (
  ${notifySql('$3', NOTIFY_ENQUEUED, 'entrypoints', 'entrypoint', 'inserted')}
)
SELECT (SELECT count(*) FROM target)::integer AS found, (SELECT id::text FROM inserted) AS id
FROM (SELECT 1) one LEFT JOIN notified ON true`;
}
