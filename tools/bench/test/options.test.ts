import { describe, expect, it } from 'vitest';
import { UsageError, parseJobs, parseOptions, parseStrategies, parseWorkers, type BenchOptions } from '../src/options.js';

const now = new Date('2025-06-01T12:34:56.789Z');
const parse = (argv: string[], env: Record<string, string | undefined> = {}) =>
  parseOptions(argv, { env, cwd: '/repo', now }) as BenchOptions;
const url = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' };

describe('bench options', () => {
  it('runs on PGlite with quick defaults when DATABASE_URL is not set', () => {
    const options = parse([]);
    expect(options).toMatchObject({
      driver: 'pglite',
      databaseUrl: undefined,
      workers: [2, 4, 8],
      durationSeconds: 2,
      batchSize: 100,
      enqueueBatch: 1000,
      strategies: ['before', 'before-lock', 'after'],
      processes: 1,
      jobs: undefined,
      sampleSeconds: 10,
      workload: 'single',
      ceiling: true,
    });
    expect(options.json).toBe('/repo/bench-results/bench-pglite-20250601-123456.json');
    expect(options.svg).toBe('/repo/bench-results/bench-pglite-20250601-123456.svg');
  });

  it('uses pg when DATABASE_URL is set, and takes what `pnpm bench --workers 8` passes through', () => {
    const options = parse(['--', '--workers', '8', '--duration', '10', '--json', 'out/run.json'], url);
    expect(options).toMatchObject({ driver: 'pg', databaseUrl: url.DATABASE_URL, workers: [8], durationSeconds: 10, warmupSeconds: 1 });
    expect(options.json).toBe('/repo/out/run.json');
    expect(options.svg).toBe('/repo/out/run.svg');
  });

  it('reads worker lists, strategies, drain counts and processes', () => {
    expect(parseWorkers('8,2, 4,2')).toEqual([2, 4, 8]);
    expect(parseStrategies('both')).toEqual(['before', 'before-lock', 'after']);
    expect(parseStrategies('before')).toEqual(['before', 'before-lock']);
    expect(parseStrategies('after,before')).toEqual(['before', 'before-lock', 'after']);
    expect(parseStrategies('before-lock')).toEqual(['before-lock']);
    const options = parse(['--jobs', '5000', '--processes', '2', '--driver', 'postgres-js', '--batch-size', '10'], url);
    expect(options).toMatchObject({ jobs: [5000], processes: 2, driver: 'postgres-js', batchSize: 10 });
    expect(parse(['--driver', 'kysely'], url)).toMatchObject({ driver: 'kysely' });
  });

  it('reads a backlog sweep, the series window, the workload and --no-ceiling', () => {
    expect(parseJobs('500000, 20000,100000,20000')).toEqual([20_000, 100_000, 500_000]);
    const options = parse(['--jobs', '20000,100000,500000', '--workload', 'mixed', '--sample-seconds', '2.5', '--no-ceiling'], url);
    expect(options).toMatchObject({ jobs: [20_000, 100_000, 500_000], workload: 'mixed', sampleSeconds: 2.5, ceiling: false });
    expect(options).toMatchObject({ raw: true });
    expect(parse(['--no-raw'], url)).toMatchObject({ raw: false });
    expect(parse(['--duration', '600'], url)).toMatchObject({ durationSeconds: 600, sampleSeconds: 10, jobs: undefined });
  });

  it('rejects what it cannot run, saying why', () => {
    expect(() => parse(['--workers', '0'])).toThrow(UsageError);
    expect(() => parse(['--workers', '2,,4'])).toThrow(/list such as 2,4,8/);
    expect(() => parse(['--strategy', 'fast'])).toThrow(/--strategy/);
    expect(() => parse(['--driver', 'pg'])).toThrow(/DATABASE_URL/);
    expect(() => parse(['--driver', 'kysely'])).toThrow(/DATABASE_URL/);
    expect(() => parse(['--driver', 'mysql'], url)).toThrow(/pg, postgres-js, pglite, kysely/);
    expect(() => parse(['--processes', '2'])).toThrow(/PGlite runs inside one Node process/);
    expect(() => parse(['--duration', '-1'])).toThrow(/--duration/);
    expect(() => parse(['--bogus'])).toThrow(UsageError);
    expect(() => parse(['--jobs', '20000,,5'])).toThrow(/list such as 20000,100000/);
    expect(() => parse(['--jobs', '100,2.5'])).toThrow(/--jobs expects a whole number/);
    expect(() => parse(['--workload', 'heavy'])).toThrow(/--workload expects single or mixed/);
    expect(() => parse(['--sample-seconds', '0'])).toThrow(/--sample-seconds/);
    expect(parseOptions(['--help'], { env: {}, cwd: '/', now })).toBe('help');
  });
});
