/**
 * One measured run: a fresh schema, a backlog, N workers of one strategy (or raw loops, or
 * pgbench clients for the ceiling), a producer keeping the queue full, and the jobs committed in
 * the window counted from the statistics table, so every row is measured by the same database
 * truth. Around it the server probe reads what the server did (server/probe.ts).
 */
import { Queries, type Driver } from '@pgqueue/core';
import { startPgbench, type CeilingPlan } from './ceiling/pgbench.js';
import { addCounters, type Counters } from './counters.js';
import { startFleet, type Fleet } from './fleet.js';
import type { BenchOptions } from './options.js';
import { backlogTarget, prefill, startProducer } from './producer.js';
import type { Progress } from './progress.js';
import type { RunKind, RunResult, SeriesPoint } from './results.js';
import { BENCH_SCHEMA, resetSchema, type Connector } from './setup.js';
import { formatInt } from './report/table.js';
import type { CountingDriver, ServerProbe } from './server/probe.js';
import { STRATEGY_LABELS } from './strategies/index.js';
import { workloadOf } from './workload.js';

export interface RunContext {
  options: BenchOptions;
  connector: Connector;
  /** Schema resets, counting and the server probe's readings. */
  admin: CountingDriver;
  /** The producer's own connection. */
  producerDriver: Driver;
  probe: ServerProbe;
  ceiling: CeilingPlan;
  progress: Progress;
}

/** Jobs whose completion committed between two readings of the statistics table, and the time between them. */
interface Measured {
  jobs: number;
  seconds: number;
  /** Duration runs: one point per --sample-seconds of the window. */
  series: SeriesPoint[];
}

const PROGRESS_EVERY_MS = 200;
/** A drain run that completes nothing for this long is stuck, not slow. */
const STALL_TIMEOUT_MS = 60_000;

export async function completedInDatabase(queries: Queries): Promise<number> {
  const totals = await queries.statisticsTotals();
  return totals.reduce((sum, total) => sum + total.count, 0);
}

export async function runOne(ctx: RunContext, kind: RunKind, workers: number, backlog: number | undefined): Promise<RunResult> {
  const { options, progress, probe } = ctx;
  const label = `${workers} workers, ${STRATEGY_LABELS[kind]}${backlog === undefined ? '' : `, ${formatInt(backlog)} jobs`}`;
  progress.update(`${label}: preparing`);
  await resetSchema(ctx.admin, BENCH_SCHEMA);
  const workload = workloadOf(options.workload);
  const adminQueries = new Queries(ctx.admin, { schema: BENCH_SCHEMA });
  const producerQueries = new Queries(ctx.producerDriver, { schema: BENCH_SCHEMA });
  const target = backlogTarget(workers, options.batchSize, options.enqueueBatch);
  const initial = backlog ?? target;
  progress.update(`${label}: enqueueing ${formatInt(initial)} jobs`);
  await prefill(producerQueries, initial, workload);

  const since = new Date();
  const startMark = await probe.mark();
  const fleet = await startRunFleet(ctx, kind, workers, () => completedInDatabase(adminQueries));
  let measured: Measured;
  let queueRanDry = false;
  let producerCounters: Counters | undefined;
  let counters: Counters;
  let pids: number[] = [];
  let cpu: { seconds: number | undefined; jobs: number } = { seconds: undefined, jobs: 0 };
  try {
    if (backlog === undefined) {
      const producer = startProducer({
        queries: producerQueries,
        workload,
        enqueueBatch: options.enqueueBatch,
        target,
        alreadyEnqueued: initial,
        completed: () => fleet.counters().completed,
      });
      try {
        measured = await measureWindow(ctx, fleet, adminQueries, label, () => producer.startWindow());
        queueRanDry = producer.lowestBacklog < workers * options.batchSize;
      } finally {
        await producer.stop();
      }
      producerCounters = producer.counters;
    } else {
      measured = await measureDrain(ctx, fleet, adminQueries, label, backlog);
    }
    // The backends' CPU is read while they still exist: they take their /proc entry with them.
    pids = await probe.runBackends(since);
    cpu = { seconds: await probe.cpuSeconds(pids), jobs: await completedInDatabase(adminQueries) };
  } finally {
    progress.update(`${label}: stopping`);
    counters = await fleet.stop();
  }
  if (producerCounters !== undefined) addCounters(counters, { ...producerCounters, completed: 0 });
  await probe.waitForExit(pids);
  const endMark = await probe.mark();
  const spanJobs = await completedInDatabase(adminQueries);
  const table = await probe.tableState(BENCH_SCHEMA, adminQueries.names.raw.jobs);
  const server = probe.figures(startMark, endMark, spanJobs, table, cpu);

  const left = { queued: 0, picked: 0 };
  for (const row of await adminQueries.queueSize()) {
    if (row.status === 'queued') left.queued += row.count;
    else if (row.status === 'picked') left.picked += row.count;
  }
  return {
    workers,
    strategy: kind,
    backlog: initial,
    jobs: measured.jobs,
    seconds: measured.seconds,
    jobsPerSecond: measured.jobs / measured.seconds,
    deadlocks: counters.deadlocks,
    errors: counters.errors,
    errorSamples: counters.samples,
    left,
    queueRanDry,
    server,
    series: measured.series,
  };
}

async function startRunFleet(ctx: RunContext, kind: RunKind, workers: number, completed: () => Promise<number>): Promise<Fleet> {
  const { options } = ctx;
  if (kind === 'ceiling') {
    if (!ctx.ceiling.run || options.databaseUrl === undefined) throw new Error('the ceiling row cannot run here');
    return startPgbench({
      pgbench: ctx.ceiling.pgbench,
      databaseUrl: options.databaseUrl,
      schema: BENCH_SCHEMA,
      clients: workers,
      batchSize: options.batchSize,
      workload: options.workload,
      windowEndsAfterSeconds: options.jobs === undefined ? options.warmupSeconds + options.durationSeconds : undefined,
      completed,
    });
  }
  return startFleet(
    {
      kind,
      workers,
      batchSize: options.batchSize,
      schema: BENCH_SCHEMA,
      driver: options.driver,
      databaseUrl: options.databaseUrl,
      workload: options.workload,
    },
    options.processes,
    ctx.connector,
  );
}

async function measureWindow(
  ctx: RunContext,
  fleet: Fleet,
  queries: Queries,
  label: string,
  onWindowStart: () => void,
): Promise<Measured> {
  const { warmupSeconds, durationSeconds, sampleSeconds } = ctx.options;
  const warmupEnds = performance.now() + warmupSeconds * 1000;
  while (performance.now() < warmupEnds) {
    ctx.progress.update(`${label}: warming up, ${formatInt(fleet.counters().completed)} jobs`);
    await sleep(Math.min(PROGRESS_EVERY_MS, Math.max(0, warmupEnds - performance.now())));
  }
  const startJobs = await completedInDatabase(queries);
  const started = performance.now();
  onWindowStart();
  const startCount = fleet.counters().completed;
  const ends = started + durationSeconds * 1000;
  const series: SeriesPoint[] = [];
  let sampled = { at: started, jobs: startJobs };
  const sample = async (): Promise<number> => {
    const jobs = await completedInDatabase(queries);
    const at = performance.now();
    const table = await ctx.probe.tableState(BENCH_SCHEMA, queries.names.raw.jobs);
    series.push({
      seconds: (at - started) / 1000,
      jobsPerSecond: (jobs - sampled.jobs) / ((at - sampled.at) / 1000),
      deadTuples: table.deadTuples,
      tableBytes: table.tableBytes,
      ...processState(),
    });
    sampled = { at, jobs };
    return jobs;
  };
  let nextSample = started + sampleSeconds * 1000;
  while (performance.now() < ends) {
    await sleep(Math.min(PROGRESS_EVERY_MS, Math.max(0, Math.min(ends, nextSample) - performance.now())));
    if (performance.now() >= nextSample && nextSample < ends) {
      await sample();
      nextSample += sampleSeconds * 1000;
    }
    const elapsed = (performance.now() - started) / 1000;
    const done = fleet.counters().completed - startCount;
    ctx.progress.update(
      `${label}: ${elapsed.toFixed(1)}/${durationSeconds} s, ${formatInt(done)} jobs, ~${formatInt(done / Math.max(elapsed, 0.001))} jobs/s`,
    );
  }
  // The last point closes the window (a shorter one when the duration is not a multiple of the sample).
  const endJobs = await sample();
  const seconds = (sampled.at - started) / 1000;
  return { jobs: endJobs - startJobs, seconds, series };
}

async function measureDrain(
  ctx: RunContext,
  fleet: Fleet,
  queries: Queries,
  label: string,
  total: number,
): Promise<Measured> {
  // The schema was reset before this run, so the statistics count only these `total` jobs; no
  // starting reading is taken, because a fleet that starts fast may finish them all before it.
  const started = performance.now();
  let lastCount = -1;
  let lastChange = started;
  for (;;) {
    const count = fleet.counters().completed;
    if (count >= total) break;
    const now = performance.now();
    if (count !== lastCount) {
      lastCount = count;
      lastChange = now;
    } else if (now - lastChange > STALL_TIMEOUT_MS) {
      throw new Error(`${label}: no job completed for ${STALL_TIMEOUT_MS / 1000} s with ${formatInt(total - count)} of ${formatInt(total)} left`);
    }
    ctx.progress.update(`${label}: ${formatInt(count)}/${formatInt(total)} jobs`);
    await sleep(5);
  }
  // The runtime may report a job before its completion commits; wait for the database.
  let endJobs = await completedInDatabase(queries);
  while (endJobs < total && performance.now() - started < STALL_TIMEOUT_MS) {
    await sleep(2);
    endJobs = await completedInDatabase(queries);
  }
  const seconds = (performance.now() - started) / 1000;
  return { jobs: endJobs, seconds, series: [] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function processState(): Pick<SeriesPoint, 'rssBytes' | 'heapUsedBytes' | 'activeResources'> {
  const memory = process.memoryUsage();
  return { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, activeResources: process.getActiveResourcesInfo().length };
}
