/**
 * The soak, `pnpm test:faults:soak [--minutes 10] [--workers 16] [--rate 1000]`, not run in CI:
 * worker processes serve a steady producer for a long stretch, each reporting its RSS and heap
 * every 10 s. Memory that grows with the jobs served shows as a slope here long before it shows
 * in production, so the run compares the last minute with the minute after the warm-up, then
 * checks that every job was completed and counted once.
 */
import { parseArgs } from 'node:util';
import { Scenario } from './scenario.js';

const SAMPLE_EVERY_MS = 10_000;
const WARM_UP_MS = 60_000;
const PRODUCE_EVERY_MS = 100;

interface Sample {
  atMs: number;
  completed: number;
  backlog: number;
  rssMb: number;
  heapMb: number;
  /** Active handles and requests, all processes. */
  resources: number;
}

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    workers: { type: 'string', default: '16' },
    rate: { type: 'string', default: '1000' },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const workerCount = Number(values.workers);
const rate = Number(values.rate);

const mb = (bytes: number) => bytes / 1024 / 1024;
const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const scenario = await Scenario.open('soak');
  try {
    const workers = await Promise.all(
      Array.from({ length: workerCount }, (_, i) => scenario.worker(`w${i}`, { memoryEveryMs: SAMPLE_EVERY_MS })),
    );
    const started = Date.now();
    let producing = true;
    const producer = (async () => {
      for (let tick = 1; producing; tick++) {
        await scenario.enqueue((rate * PRODUCE_EVERY_MS) / 1000);
        const wait = started + tick * PRODUCE_EVERY_MS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();

    const samples: Sample[] = [];
    console.log(`soak: ${workerCount} worker processes, producer at ${rate} jobs/s, ${durationMs / 60_000} min`);
    console.log('   t  completed  backlog  RSS total MB  RSS max MB  heap total MB  heap max MB  handles');
    while (Date.now() - started < durationMs) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
      const { rows } = await scenario.db.admin.query<{ completed: number; backlog: number }>(
        `SELECT (SELECT coalesce(sum(count), 0) FROM pgqueuer_statistics)::integer AS completed,
                (SELECT count(*) FROM pgqueuer)::integer AS backlog`,
      );
      const reports = workers.flatMap((worker) => (worker.memory === undefined ? [] : [worker.memory]));
      const sample: Sample = {
        atMs: Date.now() - started,
        completed: rows[0]!.completed,
        backlog: rows[0]!.backlog,
        rssMb: mb(reports.reduce((sum, r) => sum + r.rss, 0)),
        heapMb: mb(reports.reduce((sum, r) => sum + r.heapUsed, 0)),
        resources: reports.reduce((sum, r) => sum + r.resources, 0),
      };
      samples.push(sample);
      const rssMax = mb(Math.max(0, ...reports.map((r) => r.rss)));
      const heapMax = mb(Math.max(0, ...reports.map((r) => r.heapUsed)));
      console.log(
        `${String(Math.round(sample.atMs / 1000)).padStart(4)}  ${String(sample.completed).padStart(9)}  ${String(sample.backlog).padStart(7)}` +
          `  ${sample.rssMb.toFixed(0).padStart(12)}  ${rssMax.toFixed(1).padStart(10)}  ${sample.heapMb.toFixed(0).padStart(13)}  ${heapMax.toFixed(1).padStart(11)}  ${String(sample.resources).padStart(7)}`,
      );
    }
    producing = false;
    await producer;
    await scenario.drained(300_000);
    await scenario.stopAll();

    const afterWarmUp = samples.filter((s) => s.atMs > WARM_UP_MS && s.atMs <= WARM_UP_MS + 60_000);
    const lastMinute = samples.filter((s) => s.atMs > durationMs - 60_000);
    const growth = (pick: (s: Sample) => number, unit = ' MB') =>
      `${mean(afterWarmUp.map(pick)).toFixed(0)} → ${mean(lastMinute.map(pick)).toFixed(0)}${unit} ` +
      `(${((mean(lastMinute.map(pick)) / mean(afterWarmUp.map(pick)) - 1) * 100).toFixed(1)}%)`;
    const { rows } = await scenario.db.admin.query<{ counted: number; left: number }>(
      `SELECT (SELECT coalesce(sum(count), 0) FROM pgqueuer_statistics)::integer AS counted, (SELECT count(*) FROM pgqueuer)::integer AS left`,
    );
    console.log(
      `soak: ${scenario.jobs} jobs (${(scenario.jobs / (durationMs / 1000)).toFixed(0)}/s), counted ${rows[0]!.counted}, left ${rows[0]!.left}; ` +
        `minute after warm-up → last minute: RSS ${growth((s) => s.rssMb)}, heap ${growth((s) => s.heapMb)}, handles ${growth((s) => s.resources, '')}`,
    );
    if (rows[0]!.counted !== scenario.jobs || rows[0]!.left !== 0) process.exitCode = 1;
  } finally {
    await scenario.close();
  }
}

await main();
