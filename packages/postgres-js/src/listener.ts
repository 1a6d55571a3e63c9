/**
 * One LISTEN on its own one-connection postgres.js instance. postgres.js's `sql.listen` also
 * re-LISTENs after a lost connection, but once it has, the `unlisten()` it returned no longer
 * removes the callback (it holds the listener object of before the reconnect), so a closed
 * handle would keep receiving; the core's reconnect loop owns the connection's lifecycle instead.
 */
import { ReconnectingListener, type ListenEvents } from '@pgqueue/core/adapter';
import { createListenSql, type PostgresJsOptions } from './client.js';
import { DRIVER_NAME } from './queryable.js';

export function postgresJsListener(
  base: PostgresJsOptions,
  channel: string,
  onPayload: (payload: string) => void,
  events: ListenEvents,
): ReconnectingListener {
  /** Set by every close of the connection; an attempt that sees it set lost its connection. */
  let dropped = false;
  const sql = createListenSql(base, {
    onnotify: (notifiedChannel, payload) => {
      if (notifiedChannel === channel) listener.deliver(payload);
    },
    onclose: () => {
      dropped = true;
      listener.lost(new Error('The LISTEN connection was closed'));
    },
  });
  const listener: ReconnectingListener = new ReconnectingListener({
    driverName: DRIVER_NAME,
    onPayload,
    events,
    async subscribe() {
      dropped = false;
      // After a loss the instance opens a new connection for the statement.
      await sql.unsafe(`LISTEN "${channel}"`);
      if (dropped) throw new Error('The LISTEN connection was lost while subscribing');
    },
    // timeout 0: a pending attempt against an unreachable server is destroyed, not awaited.
    shutdown: () => sql.end({ timeout: 0 }),
  });
  return listener;
}
