import type { Names } from '../names.js';
import { NOTIFY_ENQUEUED, notifySql } from './notify.js';

/**
 * Enqueue a whole batch in one statement: parallel arrays unnested WITH ORDINALITY, inserted in
 * input order (ids come from the sequence in that order), execute_after on the server clock.
 * The same statement notifies the channel once with the distinct entrypoints that got work, so
 * a rolled-back enqueue wakes nobody.
 *
 * $1 priority int[], $2 entrypoint text[], $3 payload hex text[], $4 delay ms float8[],
 * $5 dedupe_key text[], $6 headers json text[], $7 channel text. Every array but the entrypoints
 * may be NULL when no job of the batch sets that column: unnest pads it with NULLs, and the
 * defaults are applied here (priority 0, due now).
 *
 * Without `skipDuplicates` every row is inserted or the statement fails, so the event is built by
 * the caller from the input (`enqueuedEvent`) and sent as $8, and the ids come back as one array.
 * With `skipDuplicates`, rows whose dedupe key is already queued or running are dropped instead of
 * failing the whole batch with 23505: the event names only the entrypoints of inserted rows, and
 * each row comes back with its dedupe key so ids can be matched to input positions.
 */
export function enqueueSql(n: Names, skipDuplicates: boolean): string {
  const insert = `WITH input AS (
  SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[])
    WITH ORDINALITY AS t(priority, entrypoint, payload, delay_ms, dedupe_key, headers, ord)
),
inserted AS (
  INSERT INTO ${n.jobs} (priority, entrypoint, payload, execute_after, dedupe_key, headers)
  SELECT coalesce(priority, 0), entrypoint, decode(payload, 'hex'),
         coalesce(now() + delay_ms * interval '1 millisecond', now()), dedupe_key, headers::jsonb
  FROM input
  ORDER BY ord`;
  if (!skipDuplicates) {
    // One row holding every id: parsing 1,000 one-column rows cost the client ~2 ms a batch.
    return `${insert}
  RETURNING id
),
notified AS (
  SELECT pg_notify($7::text, $8::text)
)
SELECT array_agg(inserted.id ORDER BY inserted.id)::text AS ids
FROM inserted LEFT JOIN notified ON true`;
  }
  return `${insert}
  ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'picked') DO NOTHING
  RETURNING id, entrypoint, dedupe_key
),
notified AS (
  ${notifySql('$7', NOTIFY_ENQUEUED, 'entrypoints', 'entrypoint', 'inserted')}
)
SELECT inserted.id::text AS id, inserted.dedupe_key AS dedupekey
FROM inserted LEFT JOIN notified ON true
ORDER BY inserted.id`;
}
