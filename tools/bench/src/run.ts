/**
 * One measured run: a fresh schema, a backlog, N workers of one strategy (or raw loops), a
 * producer keeping the queue full, and the jobs committed in the window counted from the
 * statistics table, so every strategy is measured by the same database truth.
 */
import { Queries, type Driver } from '@pgqueue/core';
import { addCounters, type Counters } from './counters.js';
import { startFleet, type Fleet } from './fleet.js';
import type { BenchOptions } from './options.js';
import { backlogTarget, prefill, startProducer } from './producer.js';
import type { Progress } from './progress.js';
import type { RunResult } from './results.js';
import { BENCH_SCHEMA, resetSchema, type Connector } from './setup.js';
import { formatInt } from './report/table.js';
import { STRATEGY_LABELS } from './strategies/index.js';
import type { GroupKind } from './workers.js';

export interface RunContext {
  options: BenchOptions;
  connector: Connector;
  /** Schema resets and counting. */
  admin: Driver;
  /** The producer's own connection. */
  producerDriver: Driver;
  progress: Progress;
}

/** Jobs whose completion committed between two readings of the statistics table, and the time between them. */
interface Measured {
  jobs: number;
  seconds: number;
}

const PROGRESS_EVERY_MS = 200;
/** A drain run that completes nothing for this long is stuck, not slow. */
const STALL_TIMEOUT_MS = 60_000;

export async function completedInDatabase(queries: Queries): Promise<number> {
  const totals = await queries.statisticsTotals();
  return totals.reduce((sum, total) => sum + total.count, 0);
}

export async function runOne(ctx: RunContext, kind: GroupKind, workers: number): Promise<RunResult> {
  const { options, progress } = ctx;
  const label = `${workers} workers, ${STRATEGY_LABELS[kind]}`;
  progress.update(`${label}: preparing`);
  await resetSchema(ctx.admin, BENCH_SCHEMA);
  const adminQueries = new Queries(ctx.admin, { schema: BENCH_SCHEMA });
  const producerQueries = new Queries(ctx.producerDriver, { schema: BENCH_SCHEMA });
  const target = backlogTarget(workers, options.batchSize, options.enqueueBatch);
  const initial = options.jobs ?? target;
  await prefill(producerQueries, initial, options.enqueueBatch);

  const fleet = await startFleet(
    {
      kind,
      workers,
      batchSize: options.batchSize,
      schema: BENCH_SCHEMA,
      driver: options.driver,
      databaseUrl: options.databaseUrl,
    },
    options.processes,
    ctx.connector,
  );
  let measured: Measured;
  let queueRanDry = false;
  let producerCounters: Counters | undefined;
  let counters: Counters;
  try {
    if (options.jobs === undefined) {
      const producer = startProducer({
        queries: producerQueries,
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
      measured = await measureDrain(ctx, fleet, adminQueries, label, options.jobs);
    }
  } finally {
    progress.update(`${label}: stopping`);
    counters = await fleet.stop();
  }
  if (producerCounters !== undefined) addCounters(counters, { ...producerCounters, completed: 0 });

  const left = { queued: 0, picked: 0 };
  for (const row of await adminQueries.queueSize()) {
    if (row.status === 'queued') left.queued += row.count;
    else if (row.status === 'picked') left.picked += row.count;
  }
  return {
    workers,
    strategy: kind,
    jobs: measured.jobs,
    seconds: measured.seconds,
    jobsPerSecond: measured.jobs / measured.seconds,
    deadlocks: counters.deadlocks,
    errors: counters.errors,
    errorSamples: counters.samples,
    left,
    queueRanDry,
  };
}

async function measureWindow(
  ctx: RunContext,
  fleet: Fleet,
  queries: Queries,
  label: string,
  onWindowStart: () => void,
): Promise<Measured> {
  const { warmupSeconds, durationSeconds } = ctx.options;
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
  while (performance.now() < ends) {
    await sleep(Math.min(PROGRESS_EVERY_MS, Math.max(0, ends - performance.now())));
    const elapsed = (performance.now() - started) / 1000;
    const done = fleet.counters().completed - startCount;
    ctx.progress.update(
      `${label}: ${elapsed.toFixed(1)}/${durationSeconds} s, ${formatInt(done)} jobs, ~${formatInt(done / Math.max(elapsed, 0.001))} jobs/s`,
    );
  }
  const endJobs = await completedInDatabase(queries);
  const seconds = (performance.now() - started) / 1000;
  return { jobs: endJobs - startJobs, seconds };
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
  return { jobs: endJobs, seconds };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
