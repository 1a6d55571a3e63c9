import type { Names } from '../names.js';
import { NOTIFY_ENQUEUED, notifySql } from './notify.js';

/**
 * Enqueue a whole batch in one statement: parallel arrays unnested WITH ORDINALITY, inserted in
 * input order (ids come from the sequence in that order), execute_after on the server clock.
 * The same statement notifies the channel once with the distinct entrypoints that got work, so
 * a rolled-back enqueue wakes nobody. With `skipDuplicates`, rows whose dedupe key is already
 * queued or running are dropped instead of failing the whole batch with 23505, and each row comes
 * back with its dedupe key so ids can be matched to input positions.
 *
 * $1 priority int[], $2 entrypoint text[], $3 payload hex text[], $4 delay ms float8[],
 * $5 dedupe_key text[], $6 headers json text[], $7 channel text.
 */
export function enqueueSql(n: Names, skipDuplicates: boolean): string {
  const onConflict = skipDuplicates
    ? `ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'picked') DO NOTHING`
    : '';
  return `WITH input AS (
  SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[])
    WITH ORDINALITY AS t(priority, entrypoint, payload, delay_ms, dedupe_key, headers, ord)
),
inserted AS (
  INSERT INTO ${n.jobs} (priority, entrypoint, payload, execute_after, dedupe_key, headers)
  SELECT priority, entrypoint, decode(payload, 'hex'), now() + delay_ms * interval '1 millisecond',
         dedupe_key, headers::jsonb
  FROM input
  ORDER BY ord
  ${onConflict}
  RETURNING id, entrypoint, dedupe_key
),
notified AS (
  ${notifySql('$7', NOTIFY_ENQUEUED, 'entrypoints', 'entrypoint', 'inserted')}
)
${
    skipDuplicates
      ? `SELECT inserted.id::text AS id, inserted.dedupe_key AS dedupekey
FROM inserted LEFT JOIN notified ON true
ORDER BY inserted.id`
      : // One row holding every id: parsing 1,000 one-column rows cost the client ~2 ms a batch.
        `SELECT array_agg(inserted.id ORDER BY inserted.id)::text AS ids
FROM inserted LEFT JOIN notified ON true`
  }`;
}
