/** LISTEN on PGlite: in-process, so there is no connection to lose and nothing to reconnect. */
import type { ListenEvents, ListenHandle } from '@pgqueue/core/adapter';
import type { PGliteDatabase } from './client.js';

export async function pgliteListen(
  database: PGliteDatabase,
  channel: string,
  onPayload: (payload: string) => void,
  events: ListenEvents,
): Promise<ListenHandle> {
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
  await database.listen(quoted, callback);
  return {
    async close() {
      active = false;
      if (!database.closed) await database.unlisten(quoted, callback);
    },
  };
}
