import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff, TRANSIENT_BACKOFF, backoffDelayMs } from '../src/backoff.js';
import { consoleLogger, checkLogger } from '../src/logger.js';
import { QueueManager, type Driver } from '../src/index.js';

describe('backoffDelayMs', () => {
  it('doubles from the first delay up to the cap, exact without jitter', () => {
    const policy = { firstMs: 100, maxMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 10].map((failures) => backoffDelayMs(policy, failures))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelayMs({ ...policy, factor: 3 }, 3)).toBe(900);
  });

  it('takes the jitter share off at random, never more', () => {
    expect(backoffDelayMs({ firstMs: 1_000, maxMs: 1_000, jitter: 0.5 }, 1, () => 0)).toBe(1_000);
    expect(backoffDelayMs({ firstMs: 1_000, maxMs: 1_000, jitter: 0.5 }, 1, () => 0.999_999)).toBe(500);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelayMs(TRANSIENT_BACKOFF, 1)));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...spread)).toBeLessThanOrEqual(100);
    expect(spread.size).toBeGreaterThan(1);
  });
});

describe('Backoff', () => {
  it('counts consecutive failures and starts over after a success', () => {
    const backoff = new Backoff({ firstMs: 10, maxMs: 40, jitter: 0 });
    expect(backoff.delayMs()).toBe(0);
    expect([backoff.failed(), backoff.failed(), backoff.failed(), backoff.failed()]).toEqual([10, 20, 40, 40]);
    expect(backoff.failures).toBe(4);
    backoff.succeeded();
    expect(backoff.failures).toBe(0);
    expect(backoff.failed()).toBe(10);
  });
});

describe('logger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('consoleLogger drops messages below its level', () => {
    const calls: string[] = [];
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, level).mockImplementation((message: string) => void calls.push(`${level}:${message}`));
    }
    const logger = consoleLogger('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    consoleLogger('silent').error('never');
    consoleLogger('debug').debug('all');
    expect(calls).toEqual(['warn:w', 'error:e', 'debug:all']);
    expect(() => consoleLogger('loud' as never)).toThrow(/level must be one of debug, info, warn, error, silent/);
  });

  it('takes its default level from PGQUEUE_LOG_LEVEL', () => {
    const calls: string[] = [];
    vi.spyOn(console, 'info').mockImplementation((message: string) => void calls.push(message));
    vi.stubEnv('PGQUEUE_LOG_LEVEL', 'info');
    try {
      consoleLogger().info('shown');
    } finally {
      vi.unstubAllEnvs();
    }
    consoleLogger().info('hidden at the default warn');
    expect(calls).toEqual(['shown']);
  });

  it('refuses a logger without the four methods, naming what is missing', () => {
    expect(checkLogger(console, 'x')).toBe(console);
    expect(() => checkLogger({ info() {}, warn() {} }, 'QueueManager')).toThrow(
      'QueueManager: logger must have debug, info, warn and error methods (console and pino fit); missing debug, error.',
    );
    const driver = { capabilities: { concurrentQueries: true, listen: false }, name: 'none' } as unknown as Driver;
    expect(() => new QueueManager(driver, { logger: 'console' as never })).toThrow(/logger must have debug, info, warn and error/);
  });
});
