/**
 * Read-only views of a queue for people and dashboards: the queue at a glance, recent
 * throughput, jobs by entrypoint and status. The CLI (`pgq queue`, `pgq stats`, `pgq jobs`,
 * `pgq top`) and the Prometheus metrics read through these, so they always agree.
 */
import type { Queryable } from './driver.js';
import { invalidArgument, toPgQueueError } from './errors.js';
import { parseJobRow, type CompletionStatus, type Job, type JobRow, type JobStatus } from './job.js';
import { resolveNames, type SchemaOptions } from './names.js';
import { parseNumber, textArray } from './params.js';
import { listJobsSql, queueOverviewSql, throughputSql } from './sql/monitoring.js';
import { JOB_STATUSES } from './sql/schema.js';
import { checkEntrypoint, checkPositiveInt } from './validate.js';

export interface QueueOverviewRow {
  entrypoint: string;
  status: JobStatus;
  priority: number;
  count: number;
  /** Seconds since the oldest of these jobs was enqueued. */
  oldestAgeSeconds: number;
  /** Queued jobs that are due (not delayed into the future); 0 for other statuses. */
  due: number;
  /** Seconds the longest-waiting due job has been due without being picked; 0 when none is. */
  oldestDueWaitSeconds: number;
}

export interface ThroughputRow {
  entrypoint: string;
  status: CompletionStatus;
  /** Jobs completed with this status within the window. */
  count: number;
  /** count divided by the window's seconds. */
  perSecond: number;
}

export interface ListJobsOptions extends SchemaOptions {
  entrypoints?: readonly string[];
  statuses?: readonly JobStatus[];
  /** Only jobs with a larger id: the last id of the previous page. */
  afterId?: number;
  /** Default 100. */
  limit?: number;
}

const hint = (options: SchemaOptions) => {
  const parts = [options.schema && `schema: '${options.schema}'`, options.prefix && `prefix: '${options.prefix}'`].filter(Boolean);
  return `installSchema(driver${parts.length === 0 ? '' : `, { ${parts.join(', ')} }`}) or pgq install`;
};

async function read<Row>(db: Queryable, operation: string, options: SchemaOptions, text: string, params: (string | null)[]) {
  try {
    return (await db.query<Row>(text, params)).rows;
  } catch (error) {
    throw toPgQueueError(error, { operation, installHint: hint(options) });
  }
}

/** Jobs per entrypoint, status and priority, with the age of the oldest and the wait of the longest-due. */
export async function queueOverview(db: Queryable, options: SchemaOptions = {}): Promise<QueueOverviewRow[]> {
  const rows = await read<Record<string, unknown>>(db, 'queueOverview', options, queueOverviewSql(resolveNames(options)), []);
  return rows.map((row) => ({
    entrypoint: String(row.entrypoint),
    status: row.status as JobStatus,
    priority: parseNumber(row.priority),
    count: parseNumber(row.count),
    oldestAgeSeconds: Math.max(0, parseNumber(row.oldestageseconds)),
    due: parseNumber(row.due),
    oldestDueWaitSeconds: Math.max(0, parseNumber(row.oldestduewaitseconds)),
  }));
}

export interface StatusSummary {
  entrypoint: string;
  status: JobStatus;
  count: number;
  oldestAgeSeconds: number;
  /** Due queued jobs, and how long the longest-waiting of them has waited (0 for other statuses). */
  due: number;
  oldestDueWaitSeconds: number;
}

/** The overview's rows folded over priority: one per entrypoint and status, in the overview's order. */
export function summarizeByStatus(rows: readonly QueueOverviewRow[]): StatusSummary[] {
  const summaries = new Map<string, StatusSummary>();
  for (const row of rows) {
    const key = `${row.entrypoint}\u0000${row.status}`;
    const summary = summaries.get(key) ?? { entrypoint: row.entrypoint, status: row.status, count: 0, oldestAgeSeconds: 0, due: 0, oldestDueWaitSeconds: 0 };
    summary.count += row.count;
    summary.oldestAgeSeconds = Math.max(summary.oldestAgeSeconds, row.oldestAgeSeconds);
    summary.due += row.due;
    summary.oldestDueWaitSeconds = Math.max(summary.oldestDueWaitSeconds, row.oldestDueWaitSeconds);
    summaries.set(key, summary);
  }
  return [...summaries.values()];
}

/** Jobs completed per entrypoint and status within the last `windowMs` (server clock), from the statistics. */
export async function throughput(db: Queryable, options: SchemaOptions & { windowMs: number }): Promise<ThroughputRow[]> {
  const windowMs = options?.windowMs;
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
    throw invalidArgument(`throughput: windowMs must be a positive number of milliseconds, got ${String(windowMs)}.`);
  }
  const rows = await read<{ entrypoint: string; status: CompletionStatus; count: string }>(
    db,
    'throughput',
    options,
    throughputSql(resolveNames(options)),
    [String(windowMs)],
  );
  return rows.map((row) => {
    const count = parseNumber(row.count);
    return { entrypoint: row.entrypoint, status: row.status, count, perSecond: count / (windowMs / 1000) };
  });
}

/** Jobs in id order, filtered by entrypoint and status, a page at a time. */
export async function listJobs(db: Queryable, options: ListJobsOptions = {}): Promise<Job[]> {
  const limit = checkPositiveInt(options.limit ?? 100, 'listJobs: limit', 100_000);
  options.entrypoints?.forEach((entrypoint) => checkEntrypoint(entrypoint, 'listJobs'));
  for (const status of options.statuses ?? []) {
    if (!(JOB_STATUSES as readonly string[]).includes(status)) {
      throw invalidArgument(`listJobs: status must be one of ${JOB_STATUSES.join(', ')}, got "${String(status)}".`);
    }
  }
  const afterId = options.afterId ?? 0;
  if (!Number.isSafeInteger(afterId) || afterId < 0) throw invalidArgument(`listJobs: afterId must be a job id, got ${String(afterId)}.`);
  const rows = await read<JobRow>(db, 'listJobs', options, listJobsSql(resolveNames(options)), [
    options.entrypoints === undefined ? null : textArray(options.entrypoints),
    options.statuses === undefined ? null : textArray(options.statuses),
    String(afterId),
    String(limit),
  ]);
  return rows.map(parseJobRow);
}
