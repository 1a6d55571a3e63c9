/**
 * Completion as the pre-batch code did it: a loop of one-job statements. These classes exist only
 * to be measured against the core's batch statement; the queue runtime takes them through its
 * `queries` option and otherwise runs unchanged (same fetch, same buffering, same connection;
 * the runtime stops fetching while its completions lag, so a slow completion cannot pile up
 * claimed jobs).
 */
import { Queries, type CompleteBatch, type Driver, type JobId, type Queryable } from '@pgqueue/core';

interface DeletedRow {
  id: string;
  priority: number;
  entrypoint: string;
  time_in_queue: string;
}

/** Per-job loop: DELETE one job, then upsert its statistics row, each its own autocommitted statement. */
export class PerJobCompletionQueries extends Queries {
  protected readonly deleteOneSql: string;
  protected readonly countOneSql: string;

  constructor(driver: Driver, options: { schema: string }) {
    super(driver, options);
    const n = this.names;
    // The owner guard is kept so that `before` and `after` complete exactly the same rows.
    this.deleteOneSql = `DELETE FROM ${n.jobs}
WHERE id = $1::bigint AND status = 'picked' AND queue_manager_id = $2::uuid
RETURNING id::text AS id, priority, entrypoint, date_trunc('second', updated - created)::text AS time_in_queue`;
    this.countOneSql = `INSERT INTO ${n.statistics} AS s (priority, entrypoint, time_in_queue, status, created, count)
VALUES ($1::integer, $2::text, $3::interval, $4::text::${n.status}, date_trunc('second', now()), 1)
ON CONFLICT (priority, entrypoint, time_in_queue, status, created) DO UPDATE SET count = s.count + 1`;
  }

  override async completeJobs(batch: CompleteBatch): Promise<JobId[]> {
    const completed: JobId[] = [];
    for (let i = 0; i < batch.ids.length; i++) {
      const id = batch.ids[i]!;
      if (await this.completeOne(this.driver, batch.ownerId, id, batch.statuses[i]!)) completed.push(id);
    }
    return completed;
  }

  protected async completeOne(on: Queryable, ownerId: string, id: JobId, status: string): Promise<boolean> {
    const { rows } = await on.query<DeletedRow>(this.deleteOneSql, [String(id), ownerId], { name: 'pgq_bench_delete_one' });
    const row = rows[0];
    if (row === undefined) return false;
    await on.query(this.countOneSql, [String(row.priority), row.entrypoint, row.time_in_queue, status], {
      name: 'pgq_bench_count_one',
    });
    return true;
  }
}

/**
 * The same loop inside one transaction per batch, taking `pg_advisory_xact_lock(id)` per job
 * before touching it: the Go port's code before its batch rewrite. The locks and the statistics
 * rows are taken one job at a time in batch order, so two workers can lock the same statistics
 * rows in opposite orders: PostgreSQL then aborts one of them with 40P01, which the runtime
 * reports and the benchmark counts.
 */
export class AdvisoryLockCompletionQueries extends PerJobCompletionQueries {
  override async completeJobs(batch: CompleteBatch): Promise<JobId[]> {
    return this.driver.transaction(async (tx) => {
      const done: JobId[] = [];
      for (let i = 0; i < batch.ids.length; i++) {
        const id = batch.ids[i]!;
        await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [String(id)], { name: 'pgq_bench_lock_one' });
        if (await this.completeOne(tx, batch.ownerId, id, batch.statuses[i]!)) done.push(id);
      }
      return done;
    });
  }
}
