/**
 * Builds a Driver from the few things that differ between clients, and does the rest once for
 * every adapter: the contract's constant fields, refusing work after `close()` (or after the
 * caller ended the client), the transaction guard, channel-name checks, and a `close()` that
 * stops every LISTEN subscription before it ends what the adapter owns.
 */
import {
  DRIVER_SPECIFICATION_VERSION,
  type Driver,
  type DriverCapabilities,
  type ListenEvents,
  type ListenHandle,
  type QueryOptions,
  type Queryable,
  type SqlParam,
} from '../driver.js';
import { PgQueueError } from '../errors.js';
import { assertChannelName } from '../names.js';
import { TransactionGuard } from './transaction-guard.js';

/** What an adapter supplies; each member deals with its client only. */
export interface DriverParts {
  /** Names the adapter in errors: "pg", "postgres-js", "pglite", "kysely". */
  name: string;
  capabilities: DriverCapabilities;
  /** Statements on the driver's own connections. */
  statements: Queryable;
  /** Opens a transaction on the client and hands `fn` a Queryable on it; commits or rolls back. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a channel already checked to be `[a-z_][a-z0-9_]*`. Returns at once: `ready`
   * settles when the LISTEN is in place, and `close()` must also stop an attempt still under way
   * (the driver's close() may come before `ready`, e.g. against an unreachable server).
   */
  listen(channel: string, onPayload: (payload: string) => void, events: ListenEvents): Subscription;
  /** Ends what the adapter created itself. Called once, after every LISTEN handle was closed. */
  end(): Promise<void>;
  /** True once the caller ended a client it passed in (a pool's `end()`, a database's `close()`). */
  clientClosed?(): boolean;
}

/** A LISTEN being made or made; see `DriverParts.listen`. */
export interface Subscription extends ListenHandle {
  readonly ready: Promise<void>;
}

export function assembleDriver<Extra extends object>(parts: DriverParts, extra: Extra): Driver & Extra {
  const { name } = parts;
  const guard = new TransactionGuard(name);
  const handles = new Set<ListenHandle>();
  let closing: Promise<void> | undefined;

  const closed = () =>
    new PgQueueError('DRIVER_CLOSED', `pgqueue (${name}): the driver${parts.clientClosed ? ' or its client' : ''} was closed.`);
  const assertUsable = () => {
    if (closing !== undefined || parts.clientClosed?.() === true) throw closed();
    guard.assertOutside();
  };

  const driver: Driver = {
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name,
    capabilities: parts.capabilities,

    async query<Row = Record<string, unknown>>(text: string, params?: readonly SqlParam[], options?: QueryOptions) {
      assertUsable();
      return parts.statements.query<Row>(text, params, options);
    },

    async exec(text: string) {
      assertUsable();
      return parts.statements.exec(text);
    },

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      assertUsable();
      return parts.transaction((tx) => guard.run(tx, fn));
    },

    async listen(channel, onPayload, events = {}) {
      assertUsable();
      assertChannelName(channel, name);
      const inner = parts.listen(channel, onPayload, events);
      let closedOnce: Promise<void> | undefined;
      const handle: ListenHandle = {
        close() {
          handles.delete(handle);
          return (closedOnce ??= inner.close().catch(() => {}));
        },
      };
      // Tracked before it is ready, so that close() also stops an attempt still under way.
      handles.add(handle);
      try {
        await inner.ready;
      } catch (error) {
        await handle.close();
        throw closing === undefined ? error : closed();
      }
      // close() ran while this subscription was being made.
      if (closing !== undefined) {
        await handle.close();
        throw closed();
      }
      return handle;
    },

    close() {
      closing ??= (async () => {
        await Promise.all([...handles].map((handle) => handle.close()));
        await parts.end();
      })();
      return closing;
    },
  };
  return Object.assign(driver, extra);
}
