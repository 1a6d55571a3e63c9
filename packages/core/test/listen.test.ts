import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PgQueueError, ReconnectingListener, assertChannelName, type ReconnectingListenerOptions } from '../src/adapter/index.js';

/** A listener whose subscribe attempts fail while `failures` is above zero, recording what it saw. */
function fakeListener(overrides: Partial<ReconnectingListenerOptions> = {}) {
  const seen = { attempts: [] as number[], errors: [] as unknown[], reconnects: 0, closed: 0 };
  const state = { failures: 0, shutdowns: 0 };
  const listener = new ReconnectingListener({
    driverName: 'fake',
    async subscribe() {
      seen.attempts.push(Date.now());
      if (state.failures > 0) {
        state.failures -= 1;
        throw new Error('connection refused');
      }
    },
    async shutdown() {
      state.shutdowns += 1;
    },
    onPayload: () => {},
    events: { onError: (error) => seen.errors.push(error), onReconnect: () => (seen.reconnects += 1) },
    onClosed: () => (seen.closed += 1),
    ...overrides,
  });
  return { listener, seen, state };
}

describe('ReconnectingListener', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes itself and rethrows when the first LISTEN fails', async () => {
    const { listener, seen, state } = fakeListener();
    state.failures = 1;
    await expect(listener.start()).rejects.toThrow('connection refused');
    expect(listener.closed).toBe(true);
    expect(state.shutdowns).toBe(1);
    expect(seen.closed).toBe(1);
  });

  it('reports a lost connection and retries after 100 ms, doubling to at most 5 s, less up to a fifth at random', async () => {
    // The jitter's random draw at its extremes: 0 keeps each delay, 0.5 takes a tenth off.
    for (const [draw, expected] of [
      [0, [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000]],
      [0.5, [90, 180, 360, 720, 1_440, 2_880, 4_500, 4_500, 4_500]],
    ] as const) {
      vi.spyOn(Math, 'random').mockReturnValue(draw);
      const { listener, seen, state } = fakeListener();
      await listener.start();
      state.failures = 8;
      listener.lost(new Error('gone'));
      listener.lost(new Error('reported once: no longer listening'));
      await vi.advanceTimersByTimeAsync(60_000);
      const delays = seen.attempts.slice(1).map((at, i) => at - seen.attempts[i]!);
      expect(delays).toEqual(expected);
      expect(seen.errors.map((error) => (error as Error).message)).toEqual(['gone', ...Array(8).fill('connection refused')]);
      expect(seen.reconnects).toBe(1);
      await listener.close();
      vi.restoreAllMocks();
    }
  });

  it('retries with jitter by default: delays drawn between 80 and 100 percent', async () => {
    const { listener, seen, state } = fakeListener();
    await listener.start();
    state.failures = 8;
    listener.lost(new Error('gone'));
    await vi.advanceTimersByTimeAsync(60_000);
    const delays = seen.attempts.slice(1).map((at, i) => at - seen.attempts[i]!);
    const nominal = [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000];
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(nominal[i]! * 0.8);
      expect(delay).toBeLessThanOrEqual(nominal[i]!);
    });
    expect(seen.errors.map((error) => (error as Error).message)).toEqual(['gone', ...Array(8).fill('connection refused')]);
    expect(seen.reconnects).toBe(1);
    await listener.close();
  });

  it('stops retrying once closed', async () => {
    const { listener, seen, state } = fakeListener();
    await listener.start();
    state.failures = Infinity;
    listener.lost(new Error('gone'));
    await vi.advanceTimersByTimeAsync(350);
    const attempts = seen.attempts.length;
    await listener.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen.attempts.length).toBe(attempts);
    expect(seen.reconnects).toBe(0);
    expect(state.shutdowns).toBe(1);
    expect(seen.closed).toBe(1);
  });

  it('fails an attempt that completes after close with DRIVER_CLOSED', async () => {
    let release!: () => void;
    const { listener } = fakeListener({ subscribe: () => new Promise<void>((resolve) => (release = resolve)) });
    const started = listener.start();
    await listener.close();
    release();
    const error = await started.catch((caught: unknown) => caught);
    expect(PgQueueError.isInstance(error) && error.code).toBe('DRIVER_CLOSED');
  });

  it('delivers payloads until closed, and reports a throwing callback instead of throwing', async () => {
    const payloads: string[] = [];
    const { listener, seen } = fakeListener({
      onPayload: (payload) => {
        if (payload === 'bad') throw new Error('handler failed');
        payloads.push(payload);
      },
    });
    await listener.start();
    listener.deliver('a');
    listener.deliver('bad');
    await listener.close();
    listener.deliver('b');
    expect(payloads).toEqual(['a']);
    expect(seen.errors.map((error) => (error as Error).message)).toEqual(['handler failed']);
  });
});

describe('assertChannelName', () => {
  it('accepts lower-case identifiers and rejects anything else, naming the driver', () => {
    expect(() => assertChannelName('ch_pgqueuer_1', 'pg')).not.toThrow();
    for (const bad of ['', 'Upper', '1abc', 'a-b', 'a"b', 42 as unknown as string]) {
      expect(() => assertChannelName(bad, 'pg')).toThrow(/^pgqueue \(pg\): channel ".*" is not allowed/);
    }
  });
});
