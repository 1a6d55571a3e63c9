/**
 * Command-line options of `pnpm bench`, with every default in one place. Parsing is pure (argv and
 * environment in, options out) so it can be tested without starting anything.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const DRIVERS = ['pg', 'postgres-js', 'pglite', 'kysely'] as const;
export type DriverName = (typeof DRIVERS)[number];

/**
 * How finished jobs are completed. `before` is the pre-batch code: per job a DELETE, then a
 * statistics upsert, each its own statement. `before-lock` is the same loop inside one
 * transaction per batch with `pg_advisory_xact_lock` per job, as the Go port had it before its
 * batch rewrite. `after` is the core's batch statement.
 */
export const STRATEGIES = ['before', 'before-lock', 'after'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/**
 * What is enqueued. `single` is one no-op entrypoint at priority 0. `mixed` spreads the jobs over
 * four entrypoints and priorities 0–3, so completions touch many statistics rows in an order
 * that differs from worker to worker, as a real queue's do (see workload.ts).
 */
export const WORKLOADS = ['single', 'mixed'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface BenchOptions {
  /** Worker counts, one table row each. */
  workers: number[];
  /** Measured seconds per run (duration mode). */
  durationSeconds: number;
  /** Seconds run before measuring starts, so connection setup and JIT warm-up are not counted. */
  warmupSeconds: number;
  /**
   * Drain runs instead of duration runs: each size is prefilled and drained in turn, per worker
   * count and strategy (a backlog sweep when there are several). Ascending, no duplicates.
   */
  jobs: number[] | undefined;
  /** Duration runs: the window of each point of the throughput series. */
  sampleSeconds: number;
  workload: WorkloadName;
  /** Also drive the core's statements with pgbench (on a server driver with pgbench on PATH). */
  ceiling: boolean;
  /** Also run the raw loop (the same SQL with no runtime) for every worker count. */
  raw: boolean;
  driver: DriverName;
  databaseUrl: string | undefined;
  /** Jobs per fetch and per completion statement, for the queue runtime and the raw loop alike. */
  batchSize: number;
  strategies: Strategy[];
  /** Jobs per enqueue statement, for the producers and the enqueue measurement. */
  enqueueBatch: number;
  /** Node processes the workers are spread over. */
  processes: number;
  /** Enqueue-to-start samples for the latency measurement. */
  latencySamples: number;
  /** Where to write the JSON results; the SVG chart goes next to it unless `svg` says otherwise. */
  json: string;
  svg: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `pnpm bench [options]

  --workers LIST       worker counts, e.g. 8 or 2,4,8 (default 2,4,8)
  --duration SECONDS   measured seconds per run (default 5; 2 on PGlite)
  --warmup SECONDS     unmeasured seconds before each run (default: a fifth of the duration, at most 1)
  --jobs LIST          drain N jobs per run instead of running for a duration; a list such as
                       20000,100000,500000 drains each size in turn (a backlog sweep)
  --sample-seconds S   duration runs: one throughput-series point per S seconds (default 10)
  --workload NAME      single (one entrypoint, priority 0; default) | mixed (4 entrypoints,
                       priorities 0-3)
  --no-ceiling         skip the pgbench ceiling row (it also skips itself on PGlite and
                       when pgbench is not on PATH)
  --no-raw             skip the raw-SQL loop (e.g. for a long soak of the runtime alone)
  --driver NAME        pg | postgres-js | pglite | kysely (Kysely's PostgresDialect over pg) (default: pg when
                       DATABASE_URL is set, else pglite)
  --batch-size N       jobs per fetch and per completion (default 100)
  --strategy NAME      before | after | both, or a list of before,before-lock,after (default both:
                       the per-job loop, the per-job loop with advisory locks, and the batch SQL)
  --enqueue-batch N    jobs per enqueue statement (default 1000)
  --processes N        spread the workers over N Node processes (default 1; not with PGlite)
  --latency-samples N  enqueue-to-start samples (default 100; 40 on PGlite)
  --json FILE          results as JSON (default bench-results/bench-<driver>-<time>.json)
  --svg FILE           charts: jobs/s by workers, by backlog, over time (default: the JSON path with .svg)
  --help               this text

Environment: DATABASE_URL (postgres://…) selects a server; CI=true prints plain progress lines.`;

const MAX_WORKERS = 256;

function positiveInt(value: string, flag: string, max = 1_000_000_000): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} expects a whole number from 1 to ${max}, got "${value}".`);
  return n;
}

function positiveSeconds(value: string, flag: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero) || n > 86_400) {
    throw new UsageError(`${flag} expects seconds${allowZero ? '' : ' above 0'}, up to 86400, got "${value}".`);
  }
  return n;
}

export function parseWorkers(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw new UsageError(`--workers expects a number or a list such as 2,4,8, got "${value}".`);
  const counts = parts.map((part) => positiveInt(part, '--workers', MAX_WORKERS));
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** `--jobs 20000,100000` → [20000, 100000]: drain sizes, ascending. */
export function parseJobs(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw new UsageError(`--jobs expects a number or a list such as 20000,100000, got "${value}".`);
  const sizes = parts.map((part) => positiveInt(part, '--jobs'));
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function parseWorkload(value: string | undefined): WorkloadName {
  if (value === undefined) return 'single';
  if (!(WORKLOADS as readonly string[]).includes(value)) throw new UsageError(`--workload expects ${WORKLOADS.join(' or ')}; got "${value}".`);
  return value as WorkloadName;
}

export function parseStrategies(value: string): Strategy[] {
  const chosen = new Set<Strategy>();
  for (const part of value.split(',').map((p) => p.trim())) {
    if (part === 'both') STRATEGIES.forEach((s) => chosen.add(s));
    else if (part === 'before') (['before', 'before-lock'] as const).forEach((s) => chosen.add(s));
    else if ((STRATEGIES as readonly string[]).includes(part)) chosen.add(part as Strategy);
    else throw new UsageError(`--strategy expects before, after, both or a list of ${STRATEGIES.join(', ')}; got "${part}".`);
  }
  return STRATEGIES.filter((s) => chosen.has(s));
}

function parseDriver(value: string | undefined, databaseUrl: string | undefined): DriverName {
  if (value === undefined) return databaseUrl ? 'pg' : 'pglite';
  if (!(DRIVERS as readonly string[]).includes(value)) throw new UsageError(`--driver expects ${DRIVERS.join(', ')}; got "${value}".`);
  if (value !== 'pglite' && !databaseUrl) {
    throw new UsageError(`--driver ${value} needs a server: set DATABASE_URL=postgres://user@host:5432/database.`);
  }
  return value as DriverName;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');
}

export interface ParseContext {
  env: Record<string, string | undefined>;
  /** Relative output paths resolve against this (pnpm runs the script in tools/bench; INIT_CWD is where it was typed). */
  cwd: string;
  now: Date;
}

/** Returns the options, or `'help'` when --help was asked for. Throws UsageError on bad input. */
export function parseOptions(argv: readonly string[], context: ParseContext): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv].filter((arg) => arg !== '--'),
      strict: true,
      allowPositionals: false,
      options: {
        workers: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        jobs: { type: 'string' },
        'sample-seconds': { type: 'string' },
        workload: { type: 'string' },
        'no-ceiling': { type: 'boolean' },
        'no-raw': { type: 'boolean' },
        driver: { type: 'string' },
        'batch-size': { type: 'string' },
        strategy: { type: 'string' },
        'enqueue-batch': { type: 'string' },
        processes: { type: 'string' },
        'latency-samples': { type: 'string' },
        json: { type: 'string' },
        svg: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';

  const databaseUrl = context.env.DATABASE_URL || undefined;
  const driver = parseDriver(values.driver, databaseUrl);
  const embedded = driver === 'pglite';
  const durationSeconds = values.duration === undefined ? (embedded ? 2 : 5) : positiveSeconds(values.duration, '--duration');
  const warmupSeconds =
    values.warmup === undefined ? Math.min(1, durationSeconds / 5) : positiveSeconds(values.warmup, '--warmup', true);
  const processes = values.processes === undefined ? 1 : positiveInt(values.processes, '--processes', 64);
  if (embedded && processes > 1) {
    throw new UsageError('--processes needs a server: PGlite runs inside one Node process. Set DATABASE_URL, or drop --processes.');
  }
  const workers = values.workers === undefined ? [2, 4, 8] : parseWorkers(values.workers);

  const outputPath = (path: string) => (isAbsolute(path) ? path : resolve(context.cwd, path));
  const json = outputPath(values.json ?? `bench-results/bench-${driver}-${timestamp(context.now)}.json`);
  const svg = values.svg === undefined ? json.replace(/(\.json)?$/, '.svg') : outputPath(values.svg);

  return {
    workers,
    durationSeconds,
    warmupSeconds,
    jobs: values.jobs === undefined ? undefined : parseJobs(values.jobs),
    sampleSeconds: values['sample-seconds'] === undefined ? 10 : positiveSeconds(values['sample-seconds'], '--sample-seconds'),
    workload: parseWorkload(values.workload),
    ceiling: values['no-ceiling'] !== true,
    raw: values['no-raw'] !== true,
    driver,
    databaseUrl: embedded ? undefined : databaseUrl,
    batchSize: values['batch-size'] === undefined ? 100 : positiveInt(values['batch-size'], '--batch-size', 100_000),
    strategies: values.strategy === undefined ? [...STRATEGIES] : parseStrategies(values.strategy),
    enqueueBatch: values['enqueue-batch'] === undefined ? 1000 : positiveInt(values['enqueue-batch'], '--enqueue-batch', 100_000),
    processes,
    latencySamples:
      values['latency-samples'] === undefined ? (embedded ? 40 : 100) : positiveInt(values['latency-samples'], '--latency-samples', 100_000),
    json,
    svg,
  };
}
