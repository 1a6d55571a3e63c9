/**
 * Prometheus metrics of a queue, read from the database at scrape time: every worker, producer
 * and process of the fleet shows up because the numbers come from the tables they share, not
 * from one process's memory. A scrape runs three reads (the queue overview, the throughput
 * window, the schema version); on a healthy queue they take a few milliseconds.
 *
 * Throughput is a gauge averaged over a window rather than a counter: the statistics table is
 * pruned, and a counter summed from it would go down on every prune, which Prometheus reads as
 * a reset and turns into a spike in `rate()`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Queryable } from '../driver.js';
import type { CompletionStatus } from '../job.js';
import { queueOverview, summarizeByStatus, throughput, type QueueOverviewRow, type ThroughputRow } from '../monitoring.js';
import type { SchemaOptions } from '../names.js';
import { verifySchema } from '../schema.js';

export interface MetricsOptions extends SchemaOptions {
  /** The window the throughput gauges average over, in milliseconds. Default 60,000. */
  windowMs?: number;
}

export interface QueueMetrics {
  overview: QueueOverviewRow[];
  throughput: ThroughputRow[];
  windowSeconds: number;
  /** The installed schema version (undefined when it is not installed) and the one this library expects. */
  schemaVersion: number | undefined;
  expectedSchemaVersion: number;
  /** How long the reads took. */
  scrapeSeconds: number;
}

export const DEFAULT_METRICS_WINDOW_MS = 60_000;

/** Reads everything the metrics show. Throws a PgQueueError when the database cannot be read. */
export async function collectQueueMetrics(db: Queryable, options: MetricsOptions = {}): Promise<QueueMetrics> {
  const started = performance.now();
  const windowMs = options.windowMs ?? DEFAULT_METRICS_WINDOW_MS;
  const report = await verifySchema(db, options);
  const [overview, recent] = await Promise.all([queueOverview(db, options), throughput(db, { ...options, windowMs })]);
  return {
    overview,
    throughput: recent,
    windowSeconds: windowMs / 1000,
    schemaVersion: report.version,
    expectedSchemaVersion: report.currentVersion,
    scrapeSeconds: (performance.now() - started) / 1000,
  };
}

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** The metrics in the Prometheus text exposition format (version 0.0.4). */
export function renderPrometheus(metrics: QueueMetrics): string {
  const groups = summarizeByStatus(metrics.overview);
  const queued = groups.filter((g) => g.status === 'queued');
  const families: Family[] = [
    {
      name: 'pgqueue_jobs',
      help: 'Jobs in the queue table, per entrypoint and status.',
      samples: groups.map((g) => ({ labels: { entrypoint: g.entrypoint, status: g.status }, value: g.count })),
    },
    {
      name: 'pgqueue_oldest_job_age_seconds',
      help: 'Seconds since the oldest job of this entrypoint and status was enqueued.',
      samples: groups.map((g) => ({ labels: { entrypoint: g.entrypoint, status: g.status }, value: g.oldestAgeSeconds })),
    },
    {
      name: 'pgqueue_due_jobs',
      help: 'Queued jobs that are due now (not delayed into the future), per entrypoint.',
      samples: queued.map((g) => ({ labels: { entrypoint: g.entrypoint }, value: g.due })),
    },
    {
      name: 'pgqueue_oldest_due_job_wait_seconds',
      help: 'Seconds the longest-waiting due job of this entrypoint has been due without being picked.',
      samples: queued.map((g) => ({ labels: { entrypoint: g.entrypoint }, value: g.oldestDueWaitSeconds })),
    },
    {
      name: 'pgqueue_completed_jobs_per_second',
      help: `Jobs completed per second over the last ${metrics.windowSeconds} s, per entrypoint and final status (from the statistics table).`,
      samples: metrics.throughput.map((t: ThroughputRow) => ({
        labels: { entrypoint: t.entrypoint, status: t.status satisfies CompletionStatus },
        value: t.perSecond,
      })),
    },
    {
      name: 'pgqueue_schema_version',
      help: 'The installed pgqueue schema version (0 when not installed).',
      samples: [{ labels: {}, value: metrics.schemaVersion ?? 0 }],
    },
    {
      name: 'pgqueue_schema_version_expected',
      help: 'The schema version this pgqueue release installs and upgrades to.',
      samples: [{ labels: {}, value: metrics.expectedSchemaVersion }],
    },
    {
      name: 'pgqueue_scrape_duration_seconds',
      help: 'How long reading these metrics from PostgreSQL took.',
      samples: [{ labels: {}, value: metrics.scrapeSeconds }],
    },
  ];
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels).map(([key, value]) => `${key}="${escapeLabel(value)}"`);
      lines.push(`${family.name}${labels.length === 0 ? '' : `{${labels.join(',')}}`} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export type MetricsHandlerOptions = MetricsOptions;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * A `(req, res)` handler for node:http (and frameworks on it, e.g. Express) that serves the
 * metrics; mount it at the path Prometheus scrapes. When the database cannot be read it answers
 * 503 with the reason in one line, so the scrape fails visibly (`up == 0`) instead of reporting
 * an empty queue.
 */
export function createMetricsHandler(
  db: Queryable,
  options: MetricsHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
      return;
    }
    try {
      const body = renderPrometheus(await collectQueueMetrics(db, options));
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`pgqueue metrics unavailable: ${message.split('\n')[0]}\n`);
    }
  };
}
