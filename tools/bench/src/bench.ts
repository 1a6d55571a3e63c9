/**
 * The whole benchmark: for each worker count every strategy and the raw loop, interleaved so
 * that drift on a shared machine hits them alike; then batch enqueue and wake-up latency.
 */
import { cpus, totalmem } from 'node:os';
import { Queries } from '@pgqueue/core';
import { planCeiling, type CeilingPlan } from './ceiling/pgbench.js';
import { emptyCounters } from './counters.js';
import { measureEnqueue } from './enqueue.js';
import { measureLatency } from './latency.js';
import type { BenchOptions } from './options.js';
import type { Progress } from './progress.js';
import { formatInt } from './report/table.js';
import { checkTargets, summarize, sweepSeries, type BenchResult, type RunKind, type RunResult } from './results.js';
import { runOne } from './run.js';
import { ServerProbe, countingDriver } from './server/probe.js';
import { BENCH_SCHEMA, createConnector, dropSchema, resetSchema, serverInfo } from './setup.js';
import { STRATEGY_LABELS } from './strategies/index.js';
import { workloadOf } from './workload.js';

/** Batch enqueue is measured for this long (or the run duration, when shorter). */
const ENQUEUE_SECONDS = 3;

export function describePlan(options: BenchOptions, ceiling: CeilingPlan): string {
  const mode =
    options.jobs === undefined
      ? `${options.durationSeconds} s per run after ${options.warmupSeconds} s warm-up, series every ${options.sampleSeconds} s`
      : `drain ${options.jobs.map((n) => formatInt(n)).join(', then ')} jobs per run`;
  const workload = workloadOf(options.workload);
  const lines = [
    `pgqueue bench: driver ${options.driver}, workers ${options.workers.join(',')}, batch ${options.batchSize}, ` +
      `${mode}, enqueue batches of ${formatInt(options.enqueueBatch)}, ${options.processes} process${options.processes > 1 ? 'es' : ''}`,
    `workload ${workload.name}: ${workload.entrypoints.length} entrypoint${workload.entrypoints.length > 1 ? 's' : ''} (${workload.entrypoints.join(', ')})` +
      (workload.name === 'mixed' ? ', priorities 0-3' : ', priority 0'),
    `strategies: ${options.strategies.map((s) => STRATEGY_LABELS[s]).join(', ')}, and raw SQL at the same batch size and connection count`,
    ceiling.run
      ? `ceiling: pgbench (${ceiling.pgbench}) driving the core's dequeue + completion, one client per worker, same batch and backlog`
      : `ceiling: ${ceiling.reason}`,
  ];
  if (options.driver === 'pglite') {
    lines.push(
      'PGlite is one in-process database with one connection: every worker shares it, so worker counts show runtime overhead, not parallelism.',
    );
  }
  return lines.join('\n');
}

/** `ceiling` is planned from the environment when not given (the CLI plans it first to print it). */
export async function runBench(options: BenchOptions, progress: Progress, plan?: CeilingPlan): Promise<BenchResult> {
  const ceiling = plan ?? (await planCeiling(options, process.env));
  const connector = await createConnector(options.driver, options.databaseUrl);
  const admin = countingDriver(await connector.open());
  const producerDriver = await connector.open();
  try {
    const server = await serverInfo(admin);
    const probe = await ServerProbe.open(admin, [producerDriver], !connector.sharedDatabase);
    const context = { options, connector, admin, producerDriver, probe, ceiling, progress };
    const runs: RunResult[] = [];
    const raw: RunResult[] = [];
    const ceilingRuns: RunResult[] = [];
    const kinds: RunKind[] = [...options.strategies, ...(options.raw ? (['raw'] as const) : []), ...(ceiling.run ? (['ceiling'] as const) : [])];
    for (const workers of options.workers) {
      for (const backlog of options.jobs ?? [undefined]) {
        for (const kind of kinds) {
          const result = await runOne(context, kind, workers, backlog);
          (kind === 'raw' ? raw : kind === 'ceiling' ? ceilingRuns : runs).push(result);
          progress.line(
            `${String(workers).padStart(3)} workers  ${STRATEGY_LABELS[kind].padEnd(11)} ${formatInt(result.jobsPerSecond).padStart(9)} jobs/s` +
              `  (${formatInt(result.jobs)} jobs in ${result.seconds.toFixed(2)} s, ${result.deadlocks} deadlocks, ${result.errors} other errors` +
              `${result.queueRanDry ? ', queue ran dry' : ''})`,
          );
        }
      }
    }

    progress.update('batch enqueue');
    await resetSchema(admin, BENCH_SCHEMA);
    const enqueue = await measureEnqueue(new Queries(producerDriver, { schema: BENCH_SCHEMA }), {
      batch: options.enqueueBatch,
      seconds: Math.min(ENQUEUE_SECONDS, options.durationSeconds),
      onProgress: (jobs, seconds) => progress.update(`batch enqueue: ${formatInt(jobs)} jobs in ${seconds.toFixed(1)} s`),
    });
    progress.line(`batch enqueue      ${formatInt(enqueue.jobsPerSecond).padStart(9)} jobs/s  (batches of ${formatInt(enqueue.batch)})`);

    progress.update('latency');
    await resetSchema(admin, BENCH_SCHEMA);
    const latencyErrors = emptyCounters();
    const workerDriver = await connector.open();
    let latencyMs;
    try {
      latencyMs = await measureLatency({
        workerDriver,
        producer: new Queries(producerDriver, { schema: BENCH_SCHEMA }),
        schema: BENCH_SCHEMA,
        samples: options.latencySamples,
        counters: latencyErrors,
        onProgress: (done) => progress.update(`latency: ${done}/${options.latencySamples} samples`),
      });
    } finally {
      await workerDriver.close();
    }
    if (latencyErrors.deadlocks + latencyErrors.errors > 0) {
      throw new Error(`latency: the worker reported errors: ${latencyErrors.samples.join('; ')}`);
    }
    progress.line(`latency            p50 ${latencyMs.p50.toFixed(1)} ms, p99 ${latencyMs.p99.toFixed(1)} ms`);
    await dropSchema(admin, BENCH_SCHEMA);

    const summary = summarize(options.workers, options.jobs, runs, raw, ceilingRuns);
    const sweep = sweepSeries([...runs, ...raw, ...ceilingRuns]);
    const partial = { driver: options.driver, summary, runs, enqueue, sweep };
    const cpuList = cpus();
    return {
      tool: 'pgqueue-bench',
      formatVersion: 2,
      date: new Date().toISOString(),
      driver: options.driver,
      sharedDatabase: connector.sharedDatabase,
      batchSize: options.batchSize,
      enqueueBatch: options.enqueueBatch,
      durationSeconds: options.jobs === undefined ? options.durationSeconds : undefined,
      warmupSeconds: options.jobs === undefined ? options.warmupSeconds : undefined,
      jobsPerRun: options.jobs,
      sampleSeconds: options.jobs === undefined ? options.sampleSeconds : undefined,
      workload: options.workload,
      entrypoints: workloadOf(options.workload).entrypoints,
      processes: options.processes,
      workers: options.workers,
      machine: {
        cpus: cpuList.length,
        cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      server,
      runs,
      raw,
      ceiling: ceilingRuns,
      ceilingNote: ceiling.run ? `pgbench ${ceiling.pgbench}` : ceiling.reason,
      summary,
      sweep,
      enqueue,
      latencyMs,
      targets: checkTargets(partial),
    };
  } finally {
    await Promise.allSettled([admin.close(), producerDriver.close()]);
    await connector.close();
  }
}
