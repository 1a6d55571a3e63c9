import { describe, expect, it } from 'vitest';
import { UsageError, parseOptions, parseStrategies, parseWorkers, type BenchOptions } from '../src/options.js';

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
    expect(options).toMatchObject({ jobs: 5000, processes: 2, driver: 'postgres-js', batchSize: 10 });
  });

  it('rejects what it cannot run, saying why', () => {
    expect(() => parse(['--workers', '0'])).toThrow(UsageError);
    expect(() => parse(['--workers', '2,,4'])).toThrow(/list such as 2,4,8/);
    expect(() => parse(['--strategy', 'fast'])).toThrow(/--strategy/);
    expect(() => parse(['--driver', 'pg'])).toThrow(/DATABASE_URL/);
    expect(() => parse(['--processes', '2'])).toThrow(/PGlite runs inside one Node process/);
    expect(() => parse(['--duration', '-1'])).toThrow(/--duration/);
    expect(() => parse(['--bogus'])).toThrow(UsageError);
    expect(parseOptions(['--help'], { env: {}, cwd: '/', now })).toBe('help');
  });
});
