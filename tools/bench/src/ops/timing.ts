/**
 * Times each queue operation on its own with tinybench, on one connection and without the
 * runtime; setup (filling the queue, claiming the jobs to complete) happens outside the timing.
 */
import { randomUUID } from 'node:crypto';
import { Queries, type Driver, type JobId } from '@pgqueue/core';
import { Bench } from 'tinybench';
import type { DriverName } from '../options.js';
import { jobBatch } from '../producer.js';
import { formatInt, markdownTable } from '../report/table.js';
import { ENTRYPOINT, createConnector, dropSchema, resetSchema } from '../setup.js';

const OPS_SCHEMA = 'pgq_bench_ops';
/** Jobs added at once whenever a dequeue or complete task needs more queued jobs. */
const REFILL = 10_000;

interface Operation {
  name: string;
  /** Jobs per call, to turn calls/s into jobs/s. */
  jobs: number;
}

export const OPERATIONS: Operation[] = [
  { name: 'enqueue 1', jobs: 1 },
  { name: 'enqueue 100', jobs: 100 },
  { name: 'enqueue 1,000', jobs: 1000 },
  { name: 'dequeue 10', jobs: 10 },
  { name: 'dequeue 100', jobs: 100 },
  { name: 'complete 10', jobs: 10 },
  { name: 'complete 100', jobs: 100 },
];

export interface OpTiming {
  driver: DriverName;
  operation: string;
  jobs: number;
  meanMs: number;
  p99Ms: number;
  callsPerSecond: number;
  jobsPerSecond: number;
  samples: number;
}

/** Keeps enough jobs queued for the next claim, refilling outside the timed calls. */
class Backlog {
  private queued = 0;
  constructor(private readonly queries: Queries) {}
  async ensure(count: number): Promise<void> {
    if (this.queued >= count) return;
    const batch = jobBatch(1000);
    for (let i = 0; i < REFILL / 1000; i++) await this.queries.enqueue(batch);
    this.queued += REFILL;
  }
  async claim(ownerId: string, count: number): Promise<JobId[]> {
    await this.ensure(count);
    const jobs = await this.queries.dequeue({ ownerId, batchSize: count, entrypoints: [ENTRYPOINT] });
    this.taken(jobs.length);
    return jobs.map((job) => job.id);
  }
  taken(count: number): void {
    this.queued -= count;
  }
  reset(): void {
    this.queued = 0;
  }
}

export async function timeAdapter(driverName: DriverName, databaseUrl: string | undefined, timeMs: number): Promise<OpTiming[]> {
  const connector = await createConnector(driverName, databaseUrl);
  const driver: Driver = await connector.open();
  try {
    await resetSchema(driver, OPS_SCHEMA);
    const queries = new Queries(driver, { schema: OPS_SCHEMA });
    const backlog = new Backlog(queries);
    const ownerId = randomUUID();
    const statuses = (n: number) => Array.from({ length: n }, () => 'successful' as const);
    let claimed: JobId[] = [];
    const completeClaimed = async () => {
      if (claimed.length > 0) await queries.completeJobs({ ownerId, ids: claimed, statuses: statuses(claimed.length) });
      claimed = [];
    };
    // Each task starts from an empty queue, so table size does not carry over between tasks.
    const fresh = async () => {
      await resetSchema(driver, OPS_SCHEMA);
      backlog.reset();
    };

    const bench = new Bench({ time: timeMs, iterations: 20, warmupTime: Math.min(200, timeMs), warmupIterations: 5, throws: true });
    for (const size of [1, 100, 1000]) {
      const batch = jobBatch(size);
      const single = batch[0]!;
      bench.add(`enqueue ${size === 1000 ? '1,000' : size}`, () => (size === 1 ? queries.enqueue(single) : queries.enqueue(batch)), {
        beforeAll: fresh,
      });
    }
    for (const size of [10, 100]) {
      bench.add(
        `dequeue ${size}`,
        async () => {
          const jobs = await queries.dequeue({ ownerId, batchSize: size, entrypoints: [ENTRYPOINT] });
          backlog.taken(jobs.length);
          claimed = jobs.map((job) => job.id);
        },
        { beforeAll: fresh, beforeEach: () => backlog.ensure(size), afterEach: completeClaimed },
      );
    }
    for (const size of [10, 100]) {
      bench.add(`complete ${size}`, () => completeClaimed(), {
        beforeAll: fresh,
        beforeEach: async () => {
          claimed = await backlog.claim(ownerId, size);
        },
      });
    }
    await bench.run();

    return bench.tasks.map((task) => {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`${driverName} ${task.name}: ${result.state}`);
      const jobs = OPERATIONS.find((op) => op.name === task.name)?.jobs ?? 1;
      const callsPerSecond = 1000 / result.latency.mean;
      return {
        driver: driverName,
        operation: task.name,
        jobs,
        meanMs: result.latency.mean,
        p99Ms: result.latency.p99,
        callsPerSecond,
        jobsPerSecond: callsPerSecond * jobs,
        samples: result.latency.samplesCount,
      };
    });
  } finally {
    await dropSchema(driver, OPS_SCHEMA).catch(() => undefined);
    await driver.close();
    await connector.close();
  }
}

export function renderOpsTable(timings: OpTiming[]): string {
  const drivers = [...new Set(timings.map((t) => t.driver))];
  const header = ['operation', ...drivers.map((d) => `${d} ms (jobs/s)`)];
  const rows = OPERATIONS.map((op) => [
    op.name,
    ...drivers.map((d) => {
      const t = timings.find((x) => x.driver === d && x.operation === op.name);
      return t === undefined ? '–' : `${t.meanMs.toFixed(t.meanMs >= 10 ? 1 : 2)} (${formatInt(t.jobsPerSecond)})`;
    }),
  ]);
  return markdownTable(header, rows, header.map((_, i) => i > 0));
}

