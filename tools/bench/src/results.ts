/** The shape of a benchmark's results: what the table, the chart and the JSON file are made from. */
import type { EnqueueResult } from './enqueue.js';
import type { LatencyResult } from './latency.js';
import type { DriverName, Strategy } from './options.js';
import type { ServerInfo } from './setup.js';

export interface RunResult {
  workers: number;
  strategy: Strategy | 'raw';
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
}

export interface SummaryRow {
  workers: number;
  before: number | undefined;
  beforeLock: number | undefined;
  after: number | undefined;
  raw: number | undefined;
  /** after / before. */
  improvement: number | undefined;
  /** after / raw. */
  efficiency: number | undefined;
}

export interface TargetCheck {
  name: string;
  value: number;
  target: number;
  ok: boolean;
}

export interface BenchResult {
  tool: 'pgqueue-bench';
  formatVersion: 1;
  date: string;
  driver: DriverName;
  /** PGlite: every worker shares the one in-process database. */
  sharedDatabase: boolean;
  batchSize: number;
  enqueueBatch: number;
  durationSeconds: number | undefined;
  warmupSeconds: number | undefined;
  jobsPerRun: number | undefined;
  processes: number;
  workers: number[];
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  server: ServerInfo;
  /** The queue runtime runs: before, before-lock, after. */
  runs: RunResult[];
  /** The same SQL without the runtime. */
  raw: RunResult[];
  summary: SummaryRow[];
  enqueue: EnqueueResult;
  latencyMs: LatencyResult;
  targets: TargetCheck[];
}

function rate(runs: RunResult[], workers: number, strategy: RunResult['strategy']): number | undefined {
  return runs.find((run) => run.workers === workers && run.strategy === strategy)?.jobsPerSecond;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export function summarize(workers: readonly number[], runs: RunResult[], raw: RunResult[]): SummaryRow[] {
  return workers.map((count) => {
    const before = rate(runs, count, 'before');
    const after = rate(runs, count, 'after');
    const rawRate = rate(raw, count, 'raw');
    return {
      workers: count,
      before,
      beforeLock: rate(runs, count, 'before-lock'),
      after,
      raw: rawRate,
      improvement: ratio(after, before),
      efficiency: ratio(after, rawRate),
    };
  });
}

/** The targets, checked on what this run measured (a target whose inputs were not run is left out). */
export function checkTargets(result: Pick<BenchResult, 'driver' | 'summary' | 'runs' | 'enqueue'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const onPglite = result.driver === 'pglite';
  for (const row of result.summary) {
    if (row.efficiency !== undefined) {
      checks.push({
        name: `after ≥ 70% of raw${onPglite ? ' PGlite' : ''} at ${row.workers} workers`,
        value: row.efficiency,
        target: 0.7,
        ok: row.efficiency >= 0.7,
      });
    }
  }
  const eight = result.summary.find((row) => row.workers === 8);
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
    checks.push({ name: `zero deadlock errors for after at ${run.workers} workers`, value: run.deadlocks, target: 0, ok: run.deadlocks === 0 });
  }
  return checks;
}
