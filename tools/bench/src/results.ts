/** The shape of a benchmark's results: what the table, the chart and the JSON file are made from. */
import type { EnqueueResult } from './enqueue.js';
import type { LatencyResult } from './latency.js';
import type { DriverName, Strategy, WorkloadName } from './options.js';
import type { ServerFigures } from './server/probe.js';
import type { ServerInfo } from './setup.js';

/** A queue-runtime strategy, the raw loop, or the pgbench ceiling. */
export type RunKind = Strategy | 'raw' | 'ceiling';

/** One window of a duration run's throughput series, with the jobs table as it stood at its end. */
export interface SeriesPoint {
  /** Seconds from the window's start to this point's end. */
  seconds: number;
  jobsPerSecond: number;
  deadTuples: number | null;
  tableBytes: number | null;
  /** The bench process at this point (its workers, when they run in it): resident set and V8 heap, in bytes. */
  rssBytes: number;
  heapUsedBytes: number;
  /** Handles and requests keeping its event loop alive (timers, sockets): a leak shows as growth. */
  activeResources: number;
}

export interface RunResult {
  workers: number;
  strategy: RunKind;
  /** Jobs in the queue when the workers started (the prefill). */
  backlog: number;
  /** Jobs whose completion was committed in the measured window (from the statistics table). */
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** SQLSTATE 40P01 errors over the whole run, warm-up and shutdown included. */
  deadlocks: number;
  /** Every other error over the whole run. */
  errors: number;
  errorSamples: string[];
  /** Rows left in the jobs table after the workers stopped: the producer's backlog, and picked rows nobody completed. */
  left: { queued: number; picked: number };
  /** True when the backlog fell below one batch per worker: the producer, not the workers, may have been the limit. */
  queueRanDry: boolean;
  /** What the server did over the run (null fields: not measurable here). */
  server: ServerFigures;
  /** Duration runs: jobs/s per --sample-seconds window; empty for drains. */
  series: SeriesPoint[];
}

export interface SummaryRow {
  workers: number;
  /** Drain runs: the prefill drained; undefined for duration runs. */
  backlog: number | undefined;
  before: number | undefined;
  beforeLock: number | undefined;
  after: number | undefined;
  raw: number | undefined;
  /** pgbench driving the same statements; undefined when the ceiling was skipped. */
  ceiling: number | undefined;
  /** after / before. */
  improvement: number | undefined;
  /** after / raw. */
  efficiency: number | undefined;
  /** after / ceiling. */
  ceilingEfficiency: number | undefined;
}

/** Drain runs over several backlogs: jobs/s against the backlog, one series per strategy and worker count. */
export interface SweepSeries {
  strategy: RunKind;
  workers: number;
  points: { backlog: number; jobsPerSecond: number }[];
}

export interface TargetCheck {
  name: string;
  value: number;
  target: number;
  ok: boolean;
}

export interface BenchResult {
  tool: 'pgqueue-bench';
  /** 2: jobsPerRun became a list (the sweep); ceiling, server figures, series and sweep were added. */
  formatVersion: 2;
  date: string;
  driver: DriverName;
  /** PGlite: every worker shares the one in-process database. */
  sharedDatabase: boolean;
  batchSize: number;
  enqueueBatch: number;
  durationSeconds: number | undefined;
  warmupSeconds: number | undefined;
  /** Drain runs: the backlog sizes drained in turn. */
  jobsPerRun: number[] | undefined;
  /** Duration runs: seconds per point of each run's throughput series. */
  sampleSeconds: number | undefined;
  workload: WorkloadName;
  /** The entrypoints enqueued and served. */
  entrypoints: readonly string[];
  processes: number;
  workers: number[];
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  server: ServerInfo;
  /** The queue runtime runs: before, before-lock, after. */
  runs: RunResult[];
  /** The same SQL without the runtime. */
  raw: RunResult[];
  /** The same SQL driven by pgbench; empty when skipped. */
  ceiling: RunResult[];
  /** Why there are no ceiling runs, or the pgbench that ran them. */
  ceilingNote: string;
  summary: SummaryRow[];
  /** Drain runs: jobs/s against the backlog. */
  sweep: SweepSeries[];
  enqueue: EnqueueResult;
  latencyMs: LatencyResult;
  targets: TargetCheck[];
}

function rate(runs: RunResult[], workers: number, strategy: RunKind, backlog: number | undefined): number | undefined {
  return runs.find((run) => run.workers === workers && run.strategy === strategy && (backlog === undefined || run.backlog === backlog))
    ?.jobsPerSecond;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** One row per worker count, and per backlog when drains were run (`backlogs` undefined for duration runs). */
export function summarize(
  workers: readonly number[],
  backlogs: readonly number[] | undefined,
  runs: RunResult[],
  raw: RunResult[],
  ceiling: RunResult[],
): SummaryRow[] {
  return workers.flatMap((count) =>
    (backlogs ?? [undefined]).map((backlog) => {
      const before = rate(runs, count, 'before', backlog);
      const after = rate(runs, count, 'after', backlog);
      const rawRate = rate(raw, count, 'raw', backlog);
      const ceilingRate = rate(ceiling, count, 'ceiling', backlog);
      return {
        workers: count,
        backlog,
        before,
        beforeLock: rate(runs, count, 'before-lock', backlog),
        after,
        raw: rawRate,
        ceiling: ceilingRate,
        improvement: ratio(after, before),
        efficiency: ratio(after, rawRate),
        ceilingEfficiency: ratio(after, ceilingRate),
      };
    }),
  );
}

/** Jobs/s against backlog for every strategy and worker count that drained more than one size. */
export function sweepSeries(all: RunResult[]): SweepSeries[] {
  const out: SweepSeries[] = [];
  for (const run of all) {
    let series = out.find((s) => s.strategy === run.strategy && s.workers === run.workers);
    if (series === undefined) out.push((series = { strategy: run.strategy, workers: run.workers, points: [] }));
    series.points.push({ backlog: run.backlog, jobsPerSecond: run.jobsPerSecond });
  }
  for (const series of out) series.points.sort((a, b) => a.backlog - b.backlog);
  return out.filter((series) => series.points.length > 1);
}

/** The issue's targets, checked on what this run measured (a target whose inputs were not run is left out). */
export function checkTargets(result: Pick<BenchResult, 'driver' | 'summary' | 'runs' | 'enqueue'> & { sweep?: SweepSeries[] }): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const onPglite = result.driver === 'pglite';
  for (const row of result.summary) {
    const where = `${row.workers} workers${row.backlog === undefined ? '' : `, ${row.backlog.toLocaleString('en-US')} jobs`}`;
    if (row.efficiency !== undefined) {
      checks.push({
        name: `after ≥ 70% of raw${onPglite ? ' PGlite' : ''} at ${where}`,
        value: row.efficiency,
        target: 0.7,
        ok: row.efficiency >= 0.7,
      });
    }
    if (row.ceilingEfficiency !== undefined) {
      checks.push({
        name: `after ≥ 70% of the pgbench ceiling at ${where}`,
        value: row.ceilingEfficiency,
        target: 0.7,
        ok: row.ceilingEfficiency >= 0.7,
      });
    }
  }
  const eight = result.summary.find((row) => row.workers === 8 && row.improvement !== undefined);
  if (eight?.improvement !== undefined) {
    checks.push({ name: 'after ≥ 5× before at 8 workers', value: eight.improvement, target: 5, ok: eight.improvement >= 5 });
  }
  if (!onPglite && result.enqueue.batch === 1000) {
    checks.push({
      name: 'batch enqueue ≥ 150,000 jobs/s (batches of 1,000)',
      value: result.enqueue.jobsPerSecond,
      target: 150_000,
      ok: result.enqueue.jobsPerSecond >= 150_000,
    });
  }
  for (const run of result.runs.filter((r) => r.strategy === 'after')) {
    const where = `${run.workers} workers${result.sweep === undefined || result.sweep.length === 0 ? '' : `, ${run.backlog.toLocaleString('en-US')} jobs`}`;
    checks.push({ name: `zero deadlock errors for after at ${where}`, value: run.deadlocks, target: 0, ok: run.deadlocks === 0 });
  }
  return checks;
}
