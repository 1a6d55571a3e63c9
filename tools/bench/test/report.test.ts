import { describe, expect, it } from 'vitest';
import { toJson } from '../src/report/json.js';
import { niceScale, renderSvg } from '../src/report/svg.js';
import { markdownTable, renderReport } from '../src/report/table.js';
import { checkTargets, summarize, type BenchResult, type RunResult } from '../src/results.js';

function run(workers: number, strategy: RunResult['strategy'], jobsPerSecond: number, deadlocks = 0): RunResult {
  return {
    workers,
    strategy,
    jobs: jobsPerSecond * 5,
    seconds: 5,
    jobsPerSecond,
    deadlocks,
    errors: 0,
    errorSamples: deadlocks > 0 ? ['40P01: deadlock detected'] : [],
    left: { queued: 5000, picked: 0 },
    queueRanDry: false,
  };
}

function fixture(): BenchResult {
  const workers = [2, 4, 8];
  const runs = workers.flatMap((w) => [run(w, 'before', 900 + w), run(w, 'before-lock', 700, w === 8 ? 3 : 0), run(w, 'after', 4000 * w)]);
  const raw = workers.map((w) => run(w, 'raw', 4500 * w));
  const summary = summarize(workers, runs, raw);
  const enqueue = { batch: 1000, jobs: 480_000, seconds: 3, jobsPerSecond: 160_000 };
  return {
    tool: 'pgqueue-bench',
    formatVersion: 1,
    date: '2025-06-01T12:00:00.000Z',
    driver: 'pg',
    sharedDatabase: false,
    batchSize: 100,
    enqueueBatch: 1000,
    durationSeconds: 5,
    warmupSeconds: 1,
    jobsPerRun: undefined,
    processes: 1,
    workers,
    machine: { cpus: 2, cpuModel: 'test', memoryGiB: 24, node: 'v20', platform: 'linux x64' },
    server: { version: '15.0', synchronousCommit: 'on', fsync: 'on', maxConnections: 100 },
    runs,
    raw,
    summary,
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

  it('checks the targets on what was measured', () => {
    const targets = fixture().targets;
    expect(targets.every((t) => t.ok)).toBe(true);
    expect(targets.map((t) => t.name)).toContain('batch enqueue ≥ 150,000 jobs/s (batches of 1,000)');
    expect(targets.filter((t) => t.name.startsWith('zero deadlock'))).toHaveLength(3);
  });

  it('draws one line per strategy and one for raw SQL', () => {
    const svg = renderSvg(fixture());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg.match(/<circle /g)).toHaveLength(12);
    expect(svg).toContain('before+lock');
    expect(svg).not.toMatch(/NaN|undefined/);
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
