/**
 * LISTEN through a server outage, for the adapters on a server connection: the listener keeps
 * retrying while the server is unreachable, LISTENs again when it is back, and stops retrying
 * when closed. Call inside a describe; the cases run against an outage proxy in front of `url`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Driver } from '../driver.js';
import { startOutageProxy, type OutageProxy } from './proxy.js';
import { waitFor } from './wait.js';

export interface ListenOutageOptions {
  /** The real server's connection string. */
  url: string;
  /** A driver (pool size 1) on the given connection string, which points at the proxy. */
  createDriver(url: string): Driver;
  /** Sends a notification through a connection of the test's own to the real server. */
  notify(channel: string, payload: string): Promise<unknown>;
}

export function listenOutageCases({ url, createDriver, notify }: ListenOutageOptions): void {
  const suffix = () => randomBytes(4).toString('hex');
  let proxy: OutageProxy;
  beforeAll(async () => {
    proxy = await startOutageProxy(url);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('LISTENs again after its backend is terminated, receives later notifications, and stops after close', async () => {
    const admin = createDriver(url);
    const owned = createDriver(url);
    const channel = `pgq_terminated_${suffix()}`;
    const received: string[] = [];
    const errors: unknown[] = [];
    let reconnects = 0;
    try {
      const handle = await owned.listen(channel, (payload) => received.push(payload), {
        onReconnect: () => reconnects++,
        onError: (error) => errors.push(error),
      });
      await notify(channel, 'before');
      await waitFor('the first notification', () => received.length === 1);
      // The channel is unique, so the LISTEN statement finds the backend without an application_name.
      const listening = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`;
      expect((await admin.query(listening, [`LISTEN "${channel}"`])).rowCount).toBe(1);
      await waitFor('onReconnect', () => reconnects === 1);
      expect(errors.length).toBeGreaterThan(0);
      await notify(channel, 'after');
      await waitFor('the notification after reconnecting', () => received.length === 2);
      expect(received).toEqual(['before', 'after']);
      // postgres.js's own sql.listen fails here: after a reconnect its unlisten() is a no-op.
      await handle.close();
      await notify(channel, 'closed');
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(received).toEqual(['before', 'after']);
      const left = () => admin.query(`SELECT 1 FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${channel}"`]);
      await waitFor('the LISTEN connection to end', async () => (await left()).rowCount === 0);
    } finally {
      await owned.close();
      await admin.close();
    }
  });

  it('closes while its connections are stalled (open, nothing answered)', async () => {
    proxy.up();
    const owned = createDriver(proxy.url);
    await owned.query('SELECT 1');
    await owned.listen(`pgq_stalled_${suffix()}`, () => {});
    proxy.stall();
    const outcome = await Promise.race([
      owned.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still closing'), 15_000)),
    ]);
    expect(outcome).toBe('closed');
    // Nothing is left open once the line comes back.
    proxy.up();
    await waitFor('every connection to end', () => proxy.open === 0);
  });

  it('stops a LISTEN still being made when closed, and rejects it with DRIVER_CLOSED', async () => {
    proxy.up();
    const owned = createDriver(proxy.url);
    await owned.query('SELECT 1');
    proxy.stall();
    const pending = owned.listen(`pgq_pending_${suffix()}`, () => {}).then(
      () => 'listening',
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await owned.close();
    // postgres.js gives a stalled pool 5 s before it destroys the connections; nothing waits for a connect timeout.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await pending).toMatchObject({ code: 'DRIVER_CLOSED' });
    proxy.up();
    await waitFor('every connection to end', () => proxy.open === 0);
  });

  it('keeps retrying while the server is unreachable and LISTENs again when it is back', async () => {
    proxy.up();
    const owned = createDriver(proxy.url);
    const channel = `pgq_outage_${suffix()}`;
    const received: string[] = [];
    const errors: unknown[] = [];
    let reconnects = 0;
    try {
      await owned.listen(channel, (payload) => received.push(payload), {
        onReconnect: () => reconnects++,
        onError: (error) => errors.push(error),
      });
      proxy.down();
      await waitFor('several failed attempts', () => errors.length >= 3);
      expect(reconnects).toBe(0);
      proxy.up();
      await waitFor('onReconnect', () => reconnects === 1, 15_000);
      await notify(channel, 'back');
      await waitFor('the notification after the outage', () => received.length === 1);
      expect(received).toEqual(['back']);
    } finally {
      await owned.close();
    }
  });

  it('stops retrying when closed during an outage', async () => {
    proxy.up();
    const owned = createDriver(proxy.url);
    const errors: unknown[] = [];
    const handle = await owned.listen(`pgq_outage_${suffix()}`, () => {}, { onError: (e) => errors.push(e) });
    proxy.down();
    await waitFor('a failed attempt', () => errors.length >= 2);
    const started = Date.now();
    await handle.close();
    await owned.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    const attempts = proxy.accepted;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(proxy.accepted).toBe(attempts);
    proxy.up();
  });
}
