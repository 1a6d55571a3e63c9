import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from '../src/bench.js';
import { parseOptions, type BenchOptions } from '../src/options.js';
import { writeResults } from '../src/report/json.js';
import { renderReport } from '../src/report/table.js';

const silent = { update: () => undefined, line: () => undefined };

describe('pnpm bench end to end', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('drains 200 jobs on PGlite with every strategy and the raw loop, then measures enqueue and latency', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgq-bench-'));
    const options = parseOptions(
      ['--driver', 'pglite', '--workers', '2', '--jobs', '200', '--batch-size', '10', '--duration', '0.5', '--latency-samples', '3', '--json', 'out.json'],
      { env: {}, cwd: dir, now: new Date() },
    ) as BenchOptions;
    const result = await runBench(options, silent);

    expect(result.runs.map((run) => run.strategy)).toEqual(['before', 'before-lock', 'after']);
    expect(result.raw.map((run) => run.workers)).toEqual([2]);
    for (const run of [...result.runs, ...result.raw]) {
      // Jobs completed before the clock started (while workers were still starting) are not counted.
      expect(run, run.strategy).toMatchObject({ deadlocks: 0, errors: 0, left: { queued: 0, picked: 0 } });
      expect(run.jobs).toBeGreaterThan(0);
      expect(run.jobs).toBeLessThanOrEqual(200);
      expect(run.jobsPerSecond).toBeGreaterThan(0);
    }
    expect(result.summary[0]?.efficiency).toBeGreaterThan(0);
    expect(result.enqueue.jobsPerSecond).toBeGreaterThan(0);
    expect(result.latencyMs).toMatchObject({ samples: 3, wake: 'notify' });
    expect(renderReport(result)).toContain('efficiency = after / raw: 2 workers');

    await writeResults(result, options);
    const json = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as { driver: string; runs: unknown[] };
    expect(json.driver).toBe('pglite');
    expect(json.runs).toHaveLength(3);
    expect(await readFile(join(dir, 'out.svg'), 'utf8')).toContain('<polyline');
    expect(result.ceiling).toEqual([]);
    expect(result.ceilingNote).toMatch(/PGlite runs inside this process/);
  });

  it('runs the mixed workload for a duration and samples a throughput series', async () => {
    const options = parseOptions(
      ['--driver', 'pglite', '--workers', '2', '--strategy', 'after', '--workload', 'mixed', '--duration', '1', '--warmup', '0.2',
        '--sample-seconds', '0.5', '--batch-size', '10', '--latency-samples', '2', '--json', join(tmpdir(), 'pgq-bench-mixed.json')],
      { env: {}, cwd: tmpdir(), now: new Date() },
    ) as BenchOptions;
    const result = await runBench(options, silent);
    const after = result.runs[0]!;
    expect(after).toMatchObject({ strategy: 'after', deadlocks: 0, errors: 0 });
    expect(after.series.length).toBeGreaterThanOrEqual(2);
    expect(after.series.at(-1)!.seconds).toBeCloseTo(after.seconds, 1);
    // The series adds up to the run: its windows cover the measured window.
    const fromSeries = after.series.reduce((sum, p, i) => sum + p.jobsPerSecond * (p.seconds - (after.series[i - 1]?.seconds ?? 0)), 0);
    expect(fromSeries).toBeCloseTo(after.jobs, -1);
    expect(after.series.every((p) => p.tableBytes !== null && p.tableBytes > 0)).toBe(true);
    expect(after.server.walBytesPerJob).toBeGreaterThan(0);
    expect(after.server.cpuMsPerJob).toBeNull();
    expect(result.entrypoints).toEqual(['email', 'resize', 'webhook', 'report']);
  });
});

const databaseUrl = process.env.DATABASE_URL;

describe.skipIf(!databaseUrl)('pnpm bench end to end on the server in DATABASE_URL', () => {
  it('drains 300 jobs per strategy with workers spread over two processes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgq-bench-'));
    try {
      const options = parseOptions(
        ['--workers', '4', '--processes', '2', '--jobs', '300,600', '--batch-size', '10', '--duration', '0.5', '--latency-samples', '3', '--json', 'out.json'],
        { env: { DATABASE_URL: databaseUrl }, cwd: dir, now: new Date() },
      ) as BenchOptions;
      expect(options.driver).toBe('pg');
      const result = await runBench(options, silent);
      const withPgbench = result.ceiling.length > 0;
      expect(result.ceilingNote).toMatch(withPgbench ? /^pgbench / : /not on PATH/);
      for (const run of [...result.runs, ...result.raw, ...result.ceiling]) {
        expect(run, run.strategy).toMatchObject({ errors: 0, left: { queued: 0, picked: 0 } });
        expect(run.jobs).toBeGreaterThan(0);
        expect(run.jobs).toBeLessThanOrEqual(run.backlog);
        expect(run.server.xactsPerSecond, run.strategy).toBeGreaterThan(0);
        expect(run.server.walBytesPerJob, run.strategy).toBeGreaterThan(0);
        expect(run.server.tableBytes, run.strategy).toBeGreaterThan(0);
      }
      expect(result.runs.filter((run) => run.strategy === 'after').map((run) => run.deadlocks)).toEqual([0, 0]);
      expect(result.sweep.find((s) => s.strategy === 'after')?.points.map((p) => p.backlog)).toEqual([300, 600]);
      if (withPgbench) expect(result.summary.map((row) => row.ceilingEfficiency)).toEqual([expect.any(Number), expect.any(Number)]);
      expect(result.latencyMs.samples).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
