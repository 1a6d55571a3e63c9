import type { Names } from '../names.js';

/** Columns of a job as the core reads them: ids as text, times as epoch milliseconds. */
export function jobColumns(alias: string): string {
  const a = alias;
  return `${a}.id::text AS id, ${a}.priority, ${a}.entrypoint, ${a}.status::text AS status,
  ${a}.payload, ${a}.headers::text AS headers, ${a}.dedupe_key AS dedupekey, ${a}.attempts,
  ${a}.queue_manager_id::text AS ownerid,
  (extract(epoch FROM ${a}.created) * 1000)::float8 AS createdms,
  (extract(epoch FROM ${a}.updated) * 1000)::float8 AS updatedms,
  (extract(epoch FROM ${a}.heartbeat) * 1000)::float8 AS heartbeatms,
  (extract(epoch FROM ${a}.execute_after) * 1000)::float8 AS executeafterms,
  ${a}.last_error::text AS lasterror, ${a}.cancel_requested AS cancelrequested`;
}

/**
 * Dequeue one batch in one statement through the function installed with the schema (see
 * schema.ts for why it is a function and how it keeps its cost independent of the backlog): per
 * entrypoint, due queued rows by priority, then the earliest due, then id, plus
 * picked rows whose heartbeat is older than the stale interval, FOR UPDATE SKIP LOCKED, capped by
 * the batch size and by each entrypoint's free concurrency, claimed for the owner.
 *
 * $1 batch size, $2 entrypoint text[], $3 limit int[] (NULL = unlimited), $4 owner uuid,
 * $5 stale interval in ms (NULL = never re-pick).
 */
export function dequeueSql(n: Names): string {
  return `SELECT ${jobColumns('d')}
FROM ${n.dequeueFunction}($1::integer, $2::text[], $3::integer[], $4::uuid,
  $5::float8 * interval '1 millisecond') d
ORDER BY d.priority DESC, d.execute_after, d.id`;
}
