import { describe, expect, it } from 'vitest';
import { toJson } from '../src/report/json.js';
import { niceScale } from '../src/report/chart.js';
import { renderSvg } from '../src/report/svg.js';
import { markdownTable, renderReport } from '../src/report/table.js';
import { checkTargets, summarize, sweepSeries, type BenchResult, type RunResult } from '../src/results.js';
import type { ServerFigures } from '../src/server/probe.js';

const memory = { rssBytes: 100 * 2 ** 20, heapUsedBytes: 40 * 2 ** 20, activeResources: 12 };

const figures: ServerFigures = {
  xactsPerSecond: 812.4,
  xactsPerJob: 0.0213,
  walBytesPerJob: 1536,
  deadTuples: 41_250,
  tableBytes: 12.5 * 2 ** 20,
  indexBytes: 3 * 2 ** 20,
  cpuMsPerJob: 0.042,
};

function run(workers: number, strategy: RunResult['strategy'], jobsPerSecond: number, deadlocks = 0, backlog = 20 * workers * 100): RunResult {
  return {
    workers,
    strategy,
    backlog,
    jobs: jobsPerSecond * 5,
    seconds: 5,
    jobsPerSecond,
    deadlocks,
    errors: 0,
    errorSamples: deadlocks > 0 ? ['40P01: deadlock detected'] : [],
    left: { queued: 5000, picked: 0 },
    queueRanDry: false,
    server: strategy === 'ceiling' ? { ...figures, cpuMsPerJob: null, cpuNote: 'not local' } : figures,
    series: [
      { seconds: 2.5, jobsPerSecond: jobsPerSecond * 0.9, deadTuples: 1000, tableBytes: 2 ** 20, ...memory },
      { seconds: 5, jobsPerSecond: jobsPerSecond * 1.1, deadTuples: 3000, tableBytes: 2 * 2 ** 20, ...memory },
    ],
  };
}

function fixture(): BenchResult {
  const workers = [2, 4, 8];
  const runs = workers.flatMap((w) => [run(w, 'before', 900 + w), run(w, 'before-lock', 700, w === 8 ? 3 : 0), run(w, 'after', 4000 * w)]);
  const raw = workers.map((w) => run(w, 'raw', 4500 * w));
  const ceiling = workers.map((w) => run(w, 'ceiling', 5000 * w));
  const summary = summarize(workers, undefined, runs, raw, ceiling);
  const enqueue = { batch: 1000, jobs: 480_000, seconds: 3, jobsPerSecond: 160_000 };
  return {
    tool: 'pgqueue-bench',
    formatVersion: 2,
    date: '2025-06-01T12:00:00.000Z',
    driver: 'pg',
    sharedDatabase: false,
    batchSize: 100,
    enqueueBatch: 1000,
    durationSeconds: 5,
    warmupSeconds: 1,
    jobsPerRun: undefined,
    sampleSeconds: 2.5,
    workload: 'single',
    entrypoints: ['noop'],
    processes: 1,
    workers,
    machine: { cpus: 2, cpuModel: 'test', memoryGiB: 24, node: 'v20', platform: 'linux x64' },
    server: { version: '15.0', synchronousCommit: 'on', fsync: 'on', maxConnections: 100 },
    runs,
    raw,
    ceiling,
    ceilingNote: 'pgbench /usr/bin/pgbench',
    summary,
    sweep: [],
    enqueue,
    latencyMs: { samples: 100, p50: 2.4, p99: 7.9, max: 9, wake: 'notify' },
    targets: checkTargets({ driver: 'pg', summary, runs, enqueue }),
  };
}

describe('report', () => {
  it('pads a Markdown table', () => {
    expect(markdownTable(['a', 'number'], [['x', '1'], ['yy', '1,000']], [false, true])).toBe(
      ['| a   | number |', '|-----|-------:|', '| x   |      1 |', '| yy  |  1,000 |'].join('\n'),
    );
  });

  it('prints per worker count before, after, improvement, efficiency, deadlocks and jobs left', () => {
    const text = renderReport(fixture());
    const eight = text.split('\n').find((line) => line.startsWith('| 8 ') || line.startsWith('|       8 '));
    expect(eight).toBeDefined();
    expect(eight).toContain('908');
    expect(eight).toContain('32,000');
    expect(eight).toContain('36,000');
    expect(eight).toContain('35×');
    expect(eight).toContain('89%');
    expect(eight).toContain('0 / 3 / 0');
    expect(text).toContain('efficiency = after / raw: 2 workers 89%, 4 workers 89%, 8 workers 89%');
    expect(text).toContain('batch enqueue: 160,000 jobs/s (batches of 1,000');
    expect(text).toContain('p50 2.4 ms, p99 7.9 ms');
    expect(text).toContain('8 workers, before+lock: 40P01: deadlock detected');
    expect(text).toMatch(/met {4}after ≥ 5× before at 8 workers/);
  });

  it('puts the pgbench ceiling next to raw, with after / ceiling in the table and under it', () => {
    const text = renderReport(fixture());
    const header = text.split('\n').find((line) => line.startsWith('| workers |'))!;
    expect(header).toMatch(/\| +raw \| ceiling \| improvement \| efficiency \| vs ceiling \|/);
    const eight = text.split('\n').find((line) => line.startsWith('|       8 '))!;
    expect(eight).toMatch(/36,000 \| +40,000 \| +35× \| +89% \| +80% \|/);
    expect(text).toContain('after / ceiling: 2 workers 80%, 4 workers 80%, 8 workers 80%');
    expect(text).toMatch(/\| +8 \| ceiling +\| +16,000 \| +200,000 \|/);
    expect(fixture().targets.map((t) => t.name)).toContain('after ≥ 70% of the pgbench ceiling at 8 workers');
  });

  it('says why the ceiling is missing and leaves its columns out', () => {
    const result = { ...fixture(), ceiling: [], ceilingNote: 'skipped: pgbench is not on PATH' };
    result.summary = summarize(result.workers, undefined, result.runs, result.raw, []);
    const text = renderReport(result);
    expect(text).toContain('ceiling: skipped: pgbench is not on PATH');
    expect(text).not.toContain('vs ceiling');
    expect(renderSvg(result)).toContain('ceiling: skipped: pgbench is not on PATH');
  });

  it('prints the server figures of every run, n/a where the server could not give them', () => {
    const text = renderReport(fixture());
    const server = text.slice(text.indexOf('server, per run'));
    expect(server.split('\n')[2]).toMatch(/\| workers \| strategy +\| backlog \| xacts\/s \| xacts\/job \| WAL\/job \| CPU ms\/job \| dead tuples \| +table \| indexes \|/);
    const after = server.split('\n').find((line) => /^\| +8 \| after /.test(line))!;
    expect(after).toMatch(/16,000 \| +812 \| +0\.021 \| 1\.5 KiB \| +0\.042 \| +41,250 \| 12\.5 MiB \| 3\.0 MiB \|/);
    const ceiling = server.split('\n').find((line) => /^\| +8 \| ceiling /.test(line))!;
    expect(ceiling).toMatch(/\| +n\/a \| +41,250 \|/);
  });

  it('adds a backlog column, a sweep series and a jobs/s-by-backlog chart for a drain sweep', () => {
    const base = fixture();
    const backlogs = [20_000, 100_000];
    const runs = backlogs.flatMap((b, i) => [run(2, 'after', 9000 - i * 2000, 0, b)]).map((r) => ({ ...r, series: [] }));
    const raw = backlogs.map((b, i) => ({ ...run(2, 'raw', 10_000 - i * 2000, 0, b), series: [] }));
    const ceiling = backlogs.map((b, i) => ({ ...run(2, 'ceiling', 12_000 - i * 2000, 0, b), series: [] }));
    const sweep = sweepSeries([...runs, ...raw, ...ceiling]);
    expect(sweep).toContainEqual({ strategy: 'after', workers: 2, points: [{ backlog: 20_000, jobsPerSecond: 9000 }, { backlog: 100_000, jobsPerSecond: 7000 }] });
    const result: BenchResult = {
      ...base,
      workers: [2],
      jobsPerRun: backlogs,
      durationSeconds: undefined,
      sampleSeconds: undefined,
      runs,
      raw,
      ceiling,
      sweep,
      summary: summarize([2], backlogs, runs, raw, ceiling),
    };
    const text = renderReport(result);
    expect(text).toMatch(/\| workers \| backlog \| +after \|/);
    expect(text).toMatch(/\| +2 \| 100,000 \| +7,000 \| +8,000 \| +10,000 \|/);
    expect(text).toContain('after / ceiling: 2 workers (20,000 jobs) 75%, 2 workers (100,000 jobs) 70%');
    const svg = renderSvg(result);
    expect(svg).toContain('jobs/s by backlog');
    expect(svg).toContain('after, 2 workers, 100,000 jobs: 7,000 jobs/s');
    expect(svg).not.toContain('per 2.5 s window');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('checks the targets on what was measured', () => {
    const targets = fixture().targets;
    expect(targets.every((t) => t.ok)).toBe(true);
    expect(targets.map((t) => t.name)).toContain('batch enqueue ≥ 150,000 jobs/s (batches of 1,000)');
    expect(targets.filter((t) => t.name.startsWith('zero deadlock'))).toHaveLength(3);
  });

  it('draws a line per strategy, raw SQL and the ceiling, then the series of every duration run', () => {
    const svg = renderSvg(fixture());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // By workers: 5 lines of 3 points; over time: 15 runs × 3 charts (jobs/s, dead tuples, size) of 2 points.
    expect(svg.match(/<polyline /g)).toHaveLength(5 + 15 * 3);
    expect(svg.match(/<circle /g)).toHaveLength(15 + 15 * 3 * 2);
    expect(svg).toContain('before+lock');
    expect(svg).toContain('after / ceiling: 2 workers 80%, 4 workers 80%, 8 workers 80%');
    expect(svg).toContain('jobs/s per 2.5 s window');
    expect(svg).toContain('after, 8 workers at 5.0 s: 35,200 jobs/s');
    expect(svg).toContain('dead tuples in the jobs table');
    expect(svg).toContain('2.0 MiB');
    expect(svg).not.toContain('jobs/s by backlog');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('labels a 10-minute soak with round times, not one label per point', () => {
    const result = fixture();
    const soak = Array.from({ length: 60 }, (_, i) => ({
      seconds: (i + 1) * 10.003,
      jobsPerSecond: 9000 + i,
      deadTuples: i * 100,
      tableBytes: 2 ** 20 + i,
      ...memory,
    }));
    result.runs = [{ ...result.runs[8]!, series: soak }];
    result.raw = [];
    result.ceiling = [];
    const svg = renderSvg(result);
    const chart = svg.slice(svg.indexOf('jobs/s per 2.5 s window'), svg.indexOf('dead tuples in the jobs table'));
    const labels = [...chart.matchAll(/text-anchor="middle">(\d+)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['0', '200', '400', '600', '800']);
    expect(chart.match(/<circle /g)).toHaveLength(60);
  });

  it('picks round axis steps', () => {
    expect(niceScale(36_000)).toEqual({ max: 40_000, step: 10_000 });
    expect(niceScale(0)).toEqual({ max: 1, step: 0.2 });
  });

  it('writes JSON with the fields the issue asks for, and no NaN', () => {
    const result = fixture();
    result.latencyMs.p99 = Number.NaN;
    const json = JSON.parse(toJson(result)) as Record<string, unknown>;
    expect(json).toMatchObject({
      driver: 'pg',
      batchSize: 100,
      enqueue: { batch: 1000, jobsPerSecond: 160_000 },
      latencyMs: { p50: 2.4, p99: null },
    });
    expect((json.runs as unknown[])[0]).toMatchObject({ workers: 2, strategy: 'before', jobs: 4510, seconds: 5, jobsPerSecond: 902, deadlocks: 0 });
    expect((json.raw as unknown[])[2]).toMatchObject({ workers: 8, jobsPerSecond: 36_000 });
    expect((json.ceiling as unknown[])[2]).toMatchObject({
      workers: 8,
      strategy: 'ceiling',
      jobsPerSecond: 40_000,
      server: { walBytesPerJob: 1536, cpuMsPerJob: null, cpuNote: 'not local' },
    });
    expect((json.summary as unknown[])[2]).toMatchObject({ workers: 8, ceiling: 40_000, ceilingEfficiency: 0.8 });
    expect((json.runs as unknown[])[0]).toMatchObject({
      server: { xactsPerSecond: 812.4, deadTuples: 41_250, tableBytes: 12.5 * 2 ** 20, indexBytes: 3 * 2 ** 20 },
      series: [{ seconds: 2.5, deadTuples: 1000 }, { seconds: 5, tableBytes: 2 ** 20 * 2 }],
    });
    expect(json).toMatchObject({ workload: 'single', sampleSeconds: 2.5, sweep: [] });
  });
});

describe('bench:ops table', () => {
  it('puts the adapters side by side, mean ms and jobs/s per operation', async () => {
    const { renderOpsTable } = await import('../src/ops/timing.js');
    const table = renderOpsTable([
      { driver: 'pg', operation: 'enqueue 1,000', jobs: 1000, meanMs: 6.25, p99Ms: 9, callsPerSecond: 160, jobsPerSecond: 160_000, samples: 80 },
      { driver: 'pglite', operation: 'enqueue 1,000', jobs: 1000, meanMs: 12.5, p99Ms: 20, callsPerSecond: 80, jobsPerSecond: 80_000, samples: 40 },
    ]);
    expect(table.split('\n')[0]).toMatch(/\| operation +\| pg ms \(jobs\/s\) \| pglite ms \(jobs\/s\) \|/);
    expect(table).toContain('6.25 (160,000)');
    expect(table).toContain('12.5 (80,000)');
    expect(table).toMatch(/\| complete 100 +\| +– \| +– \|/);
  });
});
