/** LISTEN on PGlite: in-process, so there is no connection to lose and nothing to reconnect. */
import type { ListenEvents, Subscription } from '@pgqueue/core/adapter';
import type { PGliteDatabase } from './client.js';

export function pgliteListen(
  database: PGliteDatabase,
  channel: string,
  onPayload: (payload: string) => void,
  events: ListenEvents,
): Subscription {
  // Quoted, so a channel that is a keyword ("select") still parses in PGlite's LISTEN.
  const quoted = `"${channel}"`;
  let active = true;
  const callback = (payload: string) => {
    if (!active) return;
    try {
      onPayload(payload);
    } catch (error) {
      // PGlite calls listeners from a queued microtask, where a throw is an uncaught exception
      // that ends the process. Report it instead.
      try {
        events.onError?.(error);
      } catch {
        // Nothing left to report to.
      }
    }
  };
  const ready = database.listen(quoted, callback).then(() => undefined);
  return {
    ready,
    async close() {
      active = false;
      // An unlisten before the listen is in place would leave the callback registered.
      await ready.catch(() => undefined);
      if (!database.closed) await database.unlisten(quoted, callback);
    },
  };
}
