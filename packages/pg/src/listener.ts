/**
 * One LISTEN on its own Client, outside the pool: a pooled connection would be handed to other
 * queries and its LISTEN would be lost on release. A lost Client is ended, and each attempt of
 * the core's reconnect loop opens a new one.
 */
import { PgQueueError, ReconnectingListener, type ListenEvents } from '@pgqueue/core/adapter';
import { createListenClient, type PgListenClient, type PgPoolOptions } from './client.js';
import { DRIVER_NAME } from './queryable.js';

/** A LISTEN connection that has not ended this long after `end()` is cut. */
const LISTEN_END_MS = 2_000;

export function pgListener(
  poolOptions: PgPoolOptions,
  channel: string,
  onPayload: (payload: string) => void,
  events: ListenEvents,
): ReconnectingListener {
  let current: PgListenClient | undefined;
  let connecting: PgListenClient | undefined;
  const listener: ReconnectingListener = new ReconnectingListener({
    driverName: DRIVER_NAME,
    onPayload,
    events,

    async subscribe() {
      const client = createListenClient(poolOptions);
      connecting = client;
      // 'connecting' until LISTEN succeeded, then 'open'; a loss while connecting fails the attempt.
      const link: { state: 'connecting' | 'open' | 'lost' } = { state: 'connecting' };
      const gone = (error: Error) => {
        const wasOpen = link.state === 'open';
        link.state = 'lost';
        if (!wasOpen || current !== client) return;
        current = undefined;
        listener.lost(error);
        client.end().catch(() => {});
      };
      // pg emits 'error' on a Client whose socket fails; unhandled, that event kills the process.
      client.on('error', gone);
      client.on('end', () => gone(new Error('The LISTEN connection ended')));
      client.on('notification', (message) => {
        if (link.state !== 'lost' && message.channel === channel) listener.deliver(message.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN "${channel}"`);
        if (link.state === 'lost') throw new Error('The LISTEN connection was lost while subscribing');
        if (listener.closed) throw new PgQueueError('DRIVER_CLOSED', `pgqueue (${DRIVER_NAME}): the listener was closed.`);
      } catch (error) {
        link.state = 'lost';
        await client.end().catch(() => {});
        throw error;
      } finally {
        if (connecting === client) connecting = undefined;
      }
      link.state = 'open';
      current = client;
    },

    async shutdown() {
      const open = current;
      const pending = connecting;
      current = connecting = undefined;
      // Not awaited: against an unreachable host the attempt only ends at its connect timeout.
      // Ending it makes the attempt fail, and the reconnect loop stops on `closed`.
      pending?.end().catch(() => {});
      if (open !== undefined) await endWithin(open, LISTEN_END_MS);
    },
  });
  return listener;
}

/**
 * Ends a LISTEN client, destroying its socket if it has not ended after `ms`: `end()` waits for
 * the server to close its side, which a stalled connection never does (the fault scenario saw
 * driver.close() hang there). pg's own `end()` destroys the socket the same way under a hung query.
 */
async function endWithin(client: PgListenClient, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.connection?.stream?.destroy();
      resolve();
    }, ms);
  });
  try {
    await Promise.race([client.end().catch(() => {}), late]);
  } finally {
    clearTimeout(timer);
  }
}
