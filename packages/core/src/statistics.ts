/**
 * Retention of the statistics table. Completion adds a row per second per (entrypoint, status,
 * priority, time in queue): a busy fleet adds millions a month, and nothing removes them but this.
 */
import type { Queryable } from './driver.js';
import { invalidArgument, toPgQueueError } from './errors.js';
import { resolveNames, type SchemaOptions } from './names.js';
import { parseNumber } from './params.js';
import { pruneStatisticsSql, serverNowSql } from './sql/statistics.js';
import { checkPositiveInt } from './validate.js';

export interface PruneStatisticsOptions extends SchemaOptions {
  /**
   * Delete rows older than this: an age in milliseconds (on the server's clock, which stamped
   * the rows), or a fixed instant.
   */
  olderThan: number | Date;
  /** Rows deleted per statement (each its own short transaction). Default 10,000. */
  batchSize?: number;
}

export interface PruneStatisticsResult {
  /** Rows deleted. */
  deleted: number;
  /** The cutoff used: rows created before it were deleted. */
  cutoff: Date;
}

export const DEFAULT_PRUNE_BATCH = 10_000;

/**
 * Deletes statistics rows older than `olderThan`, a batch per statement until none is left, so
 * a first prune of a large table never holds one long transaction. Safe with workers running.
 */
export async function pruneStatistics(db: Queryable, options: PruneStatisticsOptions): Promise<PruneStatisticsResult> {
  const { olderThan } = options ?? {};
  const batchSize = checkPositiveInt(options?.batchSize ?? DEFAULT_PRUNE_BATCH, 'pruneStatistics: batchSize', 1_000_000);
  const validAge = typeof olderThan === 'number' && Number.isFinite(olderThan) && olderThan >= 0;
  const validDate = olderThan instanceof Date && !Number.isNaN(olderThan.getTime());
  if (!validAge && !validDate) {
    throw invalidArgument(
      `pruneStatistics: olderThan must be an age in milliseconds (e.g. 7 * 24 * 3600 * 1000) or a Date, got ${String(olderThan)}.`,
    );
  }
  const n = resolveNames(options);
  try {
    let cutoffMs: number;
    if (validDate) cutoffMs = olderThan.getTime();
    else cutoffMs = parseNumber((await db.query<{ nowms: number }>(serverNowSql())).rows[0]!.nowms) - (olderThan as number);
    let deleted = 0;
    // The text of a timestamptz round-trips exactly, where epoch milliseconds would lose microseconds.
    let from: string | null = null;
    for (;;) {
      const { rows }: { rows: { count: number; last: string | null }[] } = await db.query(pruneStatisticsSql(n), [
        String(cutoffMs),
        String(batchSize),
        from,
      ]);
      const count = parseNumber(rows[0]?.count ?? 0);
      deleted += count;
      if (count < batchSize) break;
      from = rows[0]!.last;
    }
    return { deleted, cutoff: new Date(cutoffMs) };
  } catch (error) {
    throw toPgQueueError(error, { operation: 'pruneStatistics' });
  }
}
