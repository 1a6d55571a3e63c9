import { describe, expect, it } from 'vitest';
import { Events } from '../src/worker/events.js';
import { parseQueueEvent } from '../src/worker/listener.js';
import { DEFAULT_RETRY_POLICY, RetryLater, resolveRetryPolicy, retryDelayMs, toJobError } from '../src/worker/retry.js';
import { stopOnSignals } from '../src/worker/shutdown.js';
import { Wakeup } from '../src/worker/wake.js';

describe('retry policy', () => {
  const policy = resolveRetryPolicy({ baseDelayMs: 1_000, factor: 2, maxDelayMs: 5_000, jitter: 0 }, 'test');

  it('backs off exponentially from the base delay up to the cap', () => {
    expect([1, 2, 3, 4, 10].map((attempt) => retryDelayMs(policy, attempt))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('draws the jittered share at random below the delay', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(retryDelayMs(jittered, 2, () => 0)).toBe(2_000);
    expect(retryDelayMs(jittered, 2, () => 0.999999)).toBe(1_000);
    expect(retryDelayMs({ ...policy, jitter: 1 }, 3, () => 0.5)).toBe(2_000);
  });

  it('fills in defaults and refuses nonsense', () => {
    expect(resolveRetryPolicy(undefined, 'test')).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({ maxAttempts: 7 }, 'test').maxAttempts).toBe(7);
    for (const bad of [{ maxAttempts: 0 }, { factor: 0.5 }, { jitter: -0.1 }, { baseDelayMs: Number.NaN }, { maxDelayMs: 1e300 }]) {
      expect(() => resolveRetryPolicy(bad, 'test')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('RetryLater and job errors', () => {
  it('is recognised across copies and keeps its delay', () => {
    const later = new RetryLater(250);
    expect(RetryLater.isInstance(later)).toBe(true);
    expect(RetryLater.isInstance(new Error('x'))).toBe(false);
    expect(later.delayMs).toBe(250);
    expect(() => new RetryLater(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new RetryLater(1e300)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('records errors, and whatever else was thrown', () => {
    const error = new RangeError('out of range');
    expect(toJobError(error, 2)).toEqual({ name: 'RangeError', message: 'out of range', stack: error.stack, attempt: 2 });
    expect(toJobError('plain text', 1)).toEqual({ name: 'NonError', message: 'plain text', stack: null, attempt: 1 });
    expect(toJobError({ reason: 42 }, 1).message).toBe('{"reason":42}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toJobError(cyclic, 1).message).toBe('[object Object]');
  });
});

describe('queue notifications', () => {
  it('parses the events workers act on and ignores everything else', () => {
    expect(parseQueueEvent('{"type":"job_enqueued","entrypoints":["a","b"]}')).toEqual({
      type: 'job_enqueued',
      entrypoints: ['a', 'b'],
    });
    expect(parseQueueEvent('{"type":"job_enqueued","entrypoints":null}')).toEqual({ type: 'job_enqueued', entrypoints: null });
    expect(parseQueueEvent('{"type":"job_canceled","ids":[3,4]}')).toEqual({ type: 'job_canceled', ids: [3, 4] });
    for (const other of ['', 'not json', '42', '{"type":"job_enqueued","entrypoints":[1]}', '{"type":"later_version"}']) {
      expect(parseQueueEvent(other)).toBeUndefined();
    }
  });
});

describe('Wakeup', () => {
  it('remembers a wake that came while nobody waited, once', async () => {
    const wakeup = new Wakeup();
    wakeup.wake();
    await wakeup.wait();
    let woken = false;
    const waiting = wakeup.wait().then(() => (woken = true));
    await Promise.resolve();
    expect(woken).toBe(false);
    wakeup.wake();
    await waiting;
    wakeup.wake();
    wakeup.clear();
    await wakeup.wait(1);
  });
});

describe('Events', () => {
  it('calls listeners with their arguments, survives a throwing one, and removes them', () => {
    const thrown: [unknown, string][] = [];
    const events = new Events<{ tick: [n: number]; other: [] }>((error, event) => thrown.push([error, event]));
    const seen: number[] = [];
    const off = events.on('tick', (n) => seen.push(n));
    events.on('tick', () => {
      throw new Error('bad listener');
    });
    expect(events.has('tick')).toBe(true);
    expect(events.has('other')).toBe(false);
    events.emit('tick', 1);
    off();
    events.emit('tick', 2);
    expect(seen).toEqual([1]);
    expect(thrown.map(([error, event]) => [(error as Error).message, event])).toEqual([
      ['bad listener', 'tick'],
      ['bad listener', 'tick'],
    ]);
  });
});

describe('stopOnSignals', () => {
  it('stops on the first signal with the timeout, aborts at once on the second, and can be removed', () => {
    const calls: (number | undefined)[] = [];
    const worker = { stop: async (options: { timeoutMs?: number } = {}) => void calls.push(options.timeoutMs) };
    const remove = stopOnSignals(worker, { signals: ['SIGUSR2'], timeoutMs: 5_000 });
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    remove();
    expect(process.listenerCount('SIGUSR2')).toBe(0);
    expect(calls).toEqual([5_000, 0]);
  });
});
